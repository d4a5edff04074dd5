import assert from "node:assert/strict";
import { Calculator } from "../../core/tools/calculator.ts";
import { createSafeMath, pythonPower } from "../../core/tools/safe_math.ts";

const evaluate = createSafeMath();

Deno.test("the calculator evaluates the functions the original lists", () => {
  const cases: [string, string][] = [
    ["2 + 3 * 4", "14"],
    ["(100000 * 0.25) / 4652.69", "5.3732356980585"],
    ["sqrt(16)", "4"],
    ["pow(2, 10)", "1024"],
    ["abs(-3.5)", "3.5"],
    ["round(3.14159, 2)", "3.14"],
    ["min(4, 2, 8)", "2"],
    ["max(4, 2, 8)", "8"],
    ["log(100, 10)", "2"],
    ["log10(1000)", "3"],
    ["floor(2.7) + ceil(2.1)", "5"],
    ["15% * 2000", "300"],
    ["100 + 10%", "110"],
    ["mean(1, 2, 3)", "2"],
  ];
  for (const [expression, expected] of cases) {
    assert.equal(evaluate(expression), expected, expression);
  }
});

Deno.test("the calculator takes ** as power, as the original's did", () => {
  const cases: [string, string][] = [
    ["2 ** 10", "1024"],
    ["2**3**2", "512"],
    ["-2 ** 2", "-4"],
    ["2 ** -1", "0.5"],
    ["(1 + 0.05) ** 2 * 100", "110.25"],
    ["2 ^ 10", "1024"],
  ];
  for (const [expression, expected] of cases) {
    assert.equal(evaluate(expression), expected, expression);
  }
  assert.equal(pythonPower("a**b ** c"), "a^b ^ c");
});

Deno.test("the calculator refuses import, evaluate, parse and huge ranges", () => {
  for (
    const expression of [
      "import({a: 1})",
      "createUnit('x')",
      "evaluate('1+1')",
      "parse('1')",
      "simplify('x+x')",
      "derivative('x^2', 'x')",
      "compile('1')",
      "1:100000000",
      "zeros(10000, 10000)",
      "identity(5000)",
    ]
  ) {
    assert.throws(() => evaluate(expression), /not available/, expression);
  }
});

Deno.test("the calculator exposes no environment or globals", () => {
  for (const expression of ["Deno", "process", "globalThis", "self"]) {
    assert.throws(() => evaluate(expression), /Undefined symbol/, expression);
  }
  assert.throws(() => evaluate("sqrt.constructor"), /No access/);
  assert.throws(() => evaluate("'a'.constructor"), /No access/);
});

Deno.test("the calculator tool's worker evaluates ** too", async () => {
  const calculator = new Calculator();
  try {
    assert.deepEqual(await calculator.evaluate("100000 * 0.2 / 2 ** 4"), {
      ok: true,
      content: "1250",
    });
  } finally {
    calculator.close();
  }
});

Deno.test("the calculator refuses expressions over 200 characters", async () => {
  const calculator = new Calculator();
  try {
    const result = await calculator.evaluate("1+".repeat(150) + "1");
    assert.equal(result.ok, false);
    assert.match(result.content, /at most 200 characters, got 301/);
  } finally {
    calculator.close();
  }
});

Deno.test("a pathological expression is stopped by the time limit and the calculator recovers", async () => {
  const calculator = new Calculator({ timeoutMs: 300 });
  try {
    await calculator.warmUp();
    const started = performance.now();
    const result = await calculator.evaluate("f(n) = n > 0 ? f(n - 1) + f(n - 1) : 1; f(40)");
    const elapsed = performance.now() - started;
    assert.equal(result.ok, false);
    assert.match(result.content, /longer than 300 ms/);
    assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
    const after = await calculator.evaluate("1 + 1");
    assert.deepEqual(after, { ok: true, content: "2" });
  } finally {
    calculator.close();
  }
});

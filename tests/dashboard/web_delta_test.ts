import assert from "node:assert/strict";
import fc from "fast-check";
import { applyJsonDelta, diffJson, type Json } from "../../core/dashboard/web_delta.ts";

Deno.test("diffJson returns nothing for equal values", () => {
  assert.equal(diffJson({ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] }), undefined);
});

Deno.test("diffJson sends only the appended points of a curve", () => {
  const before = { curve: [{ time: 1, value: 10 }, { time: 2, value: 11 }] };
  const after = { curve: [...before.curve, { time: 3, value: 12 }] };
  const delta = diffJson(before, after)!;
  assert.deepEqual(delta, { $o: { curve: { $l: [[], 0, 2, [{ time: 3, value: 12 }]] } } });
  assert.deepEqual(applyJsonDelta(before, delta), after);
});

Deno.test("diffJson sends only the new lines of a newest-first list that drops its oldest", () => {
  const before = ["c", "b", "a"];
  const after = ["e", "d", "c", "b"];
  const delta = diffJson(before, after)!;
  assert.deepEqual(delta, { $l: [["e", "d"], 0, 2, []] });
  assert.deepEqual(applyJsonDelta(before, delta), after);
});

Deno.test("diffJson follows keyed rows through a new order and sends changed fields only", () => {
  const before = [{ name: "a", equity: "1", curve: [1] }, { name: "b", equity: "2", curve: [2] }];
  const after = [{ name: "b", equity: "3", curve: [2] }, { name: "a", equity: "1", curve: [1] }];
  const delta = diffJson(before, after)!;
  assert.deepEqual(delta, { $k: ["name", ["b", "a"], { b: { $o: { equity: { $v: "3" } } } }] });
  const applied = applyJsonDelta(before, delta) as Json[];
  assert.deepEqual(applied, after);
  assert.equal(applied[1], before[0], "an unchanged row keeps its identity");
});

Deno.test("diffJson removes keys and replaces values of another type", () => {
  const before: Json = { a: 1, b: [1], c: null };
  const after: Json = { b: { x: 1 }, c: 2 };
  assert.deepEqual(applyJsonDelta(before, diffJson(before, after)!), after);
});

Deno.test("applyJsonDelta(diffJson(a, b), a) equals b for any two JSON values", () => {
  const row = fc.record({
    name: fc.constantFrom("a", "b", "c", "d"),
    v: fc.integer({ min: 0, max: 3 }),
  });
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.integer({ min: 0, max: 5 }),
      fc.constantFrom("x", "y", null, true),
      fc.array(tie("node"), { maxLength: 5 }),
      fc.uniqueArray(row, { selector: (r) => r.name, maxLength: 4 }),
      fc.dictionary(fc.constantFrom("p", "q", "r"), tie("node"), { maxKeys: 3 }),
    ),
  })).node as fc.Arbitrary<Json>;
  fc.assert(
    fc.property(value, value, (rawA, rawB) => {
      // Plain objects, as JSON.parse makes them (fast-check builds null-prototype ones).
      const a = JSON.parse(JSON.stringify(rawA)) as Json;
      const b = JSON.parse(JSON.stringify(rawB)) as Json;
      const delta = diffJson(a, b);
      assert.deepEqual(delta === undefined ? a : applyJsonDelta(a, delta), b);
    }),
    { numRuns: 500 },
  );
});

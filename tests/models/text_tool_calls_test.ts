import assert from "node:assert/strict";
import { findJsonValues, parseTextToolCalls } from "../../core/models/text_tool_calls.ts";

const TOOLS = ["execute_trade", "get_portfolio", "calculator"];

Deno.test("Hermes/Qwen <tool_call> tags become calls, several in one reply", () => {
  const text = `I will buy.
<tool_call>
{"name": "execute_trade", "arguments": {"product_id": "BTC-USD", "action": "buy", "quantity": 0.5}}
</tool_call>
<tool_call>{"name":"get_portfolio","arguments":{}}</tool_call>`;
  const parsed = parseTextToolCalls(text, TOOLS);
  assert.equal(parsed.broken, undefined);
  assert.deepEqual(parsed.calls.map((call) => call.name), ["execute_trade", "get_portfolio"]);
  assert.deepEqual(JSON.parse(parsed.calls[0]!.arguments), {
    product_id: "BTC-USD",
    action: "buy",
    quantity: 0.5,
  });
  assert.equal(parsed.calls[1]!.arguments, "{}");
});

Deno.test("a bare JSON object with name and arguments is a call, arguments as text too", () => {
  const parsed = parseTextToolCalls(
    '{"name": "calculator", "arguments": "{\\"expression\\": \\"2 * 3\\"}"}',
    TOOLS,
  );
  assert.deepEqual(parsed.calls, [{ name: "calculator", arguments: '{"expression": "2 * 3"}' }]);
});

Deno.test("bare JSON lines, one call per line, as the 0.5B model writes them", () => {
  const text = '{"name": "get_portfolio", "arguments": {}}\n' +
    '{"name": "execute_trade", "arguments": {"product_id": "ETH-USD", "action": "sell", ' +
    '"quantity": 1}}';
  const parsed = parseTextToolCalls(text, TOOLS);
  assert.deepEqual(parsed.calls.map((call) => call.name), ["get_portfolio", "execute_trade"]);
});

Deno.test("a fenced json block holding a list of calls, with an invented result after it", () => {
  const text = "Let me check.\n```json\n[" +
    '{"name": "get_portfolio", "arguments": {}}, ' +
    '{"function": {"name": "execute_trade", "arguments": {"product_id": "BTC-USD", ' +
    '"action": "buy", "quantity": 0.1}}}' +
    ']\n```\nResult: {"cash": "100000"}';
  const parsed = parseTextToolCalls(text, TOOLS);
  assert.deepEqual(parsed.calls.map((call) => call.name), ["get_portfolio", "execute_trade"]);
});

Deno.test("a call inside doubled braces, as a 1.5B model wrote it, is a call", () => {
  const parsed = parseTextToolCalls(
    '{{"name": "execute_trade", "arguments": {"product_id": "BTC-USD", "action": "buy", ' +
      '"quantity": 0.5}}}',
    TOOLS,
  );
  assert.equal(parsed.broken, undefined);
  assert.deepEqual(parsed.calls.map((call) => call.name), ["execute_trade"]);
});

Deno.test("`parameters` is accepted for `arguments`", () => {
  const parsed = parseTextToolCalls('{"name":"get_portfolio","parameters":{}}', TOOLS);
  assert.deepEqual(parsed.calls, [{ name: "get_portfolio", arguments: "{}" }]);
});

Deno.test("plain text, numbers in braces and JSON that names no tool are not calls", () => {
  for (
    const text of [
      "I will hold: the trend is flat. Reasoning: nothing moves.",
      "Spread is {tight}; nothing to do.",
      '{"reasoning": "flat", "decisions": []}',
      "",
    ]
  ) {
    const parsed = parseTextToolCalls(text, TOOLS);
    assert.deepEqual(parsed, { calls: [] }, text);
  }
  assert.deepEqual(parseTextToolCalls(null, TOOLS), { calls: [] });
});

Deno.test("a broken call is reported, not taken for an answer", () => {
  const cases = [
    '<tool_call>{"name": "execute_trade", "arguments": {"product_id": "BTC-USD",</tool_call>',
    '{"name": "execute_trade", "arguments": {"product_id": "BTC-USD" "quantity": 1}}',
    '{"name": "execute_trade", "arguments": "not json"}',
    '```json\n{"name": "execute_trade", "arguments": [1, 2]}\n```',
  ];
  for (const text of cases) {
    const parsed = parseTextToolCalls(text, TOOLS);
    assert.equal(parsed.calls.length, 0, text);
    assert.ok(parsed.broken, `not reported as broken: ${text}`);
  }
});

Deno.test("findJsonValues finds top-level objects and lists, skipping braces inside strings", () => {
  assert.deepEqual(findJsonValues('a {"x": "}{"} b [1, {"y": 2}] c {'), [
    '{"x": "}{"}',
    '[1, {"y": 2}]',
    "{",
  ]);
});

import assert from "node:assert/strict";
import {
  isLocalBaseUrl,
  OpenAIProvider,
  type OpenAIProviderOptions,
} from "../../core/models/openai_provider.ts";
import { createLogger } from "../../core/log.ts";
import type { ChatMessage, ToolDefinition } from "../../core/contracts/chat.ts";
import { startFakeOpenAI } from "../_fake_openai.ts";

const KEY = "sk-test-SECRET-0123456789abcdef";

const TOOLS: ToolDefinition[] = [{
  name: "execute_trade",
  description: "Buy or sell",
  parameters: {
    type: "object",
    properties: { product_id: { type: "string" }, quantity: { type: "string" } },
    required: ["product_id", "quantity"],
  },
}, { name: "get_portfolio", description: "Portfolio", parameters: { type: "object" } }];

function provider(baseURL: string, extra: Partial<OpenAIProviderOptions> = {}): OpenAIProvider {
  return new OpenAIProvider({
    model: "gpt-5-nano",
    apiKey: KEY,
    baseURL,
    baseDelayMs: 5,
    maxDelayMs: 50,
    random: () => 0.5,
    ...extra,
  });
}

const USER: ChatMessage[] = [
  { role: "system", content: "You trade." },
  { role: "user", content: "Tick 1" },
];

Deno.test("provider maps tools, tool calls and tool results through the real client", async () => {
  const fake = startFakeOpenAI();
  try {
    fake.enqueue({
      kind: "message",
      content: null,
      toolCalls: [
        { id: "c1", name: "get_portfolio", arguments: "{}" },
        { id: "c2", name: "execute_trade", arguments: '{"product_id":"BTC-USD","quantity":"0.1"}' },
      ],
      usage: { promptTokens: 120, completionTokens: 30 },
    });
    fake.enqueue({
      kind: "message",
      content: "Done",
      usage: { promptTokens: 200, completionTokens: 5 },
    });
    const model = provider(fake.baseURL);
    const first = await model.complete({ agent: "momentum", messages: USER, tools: TOOLS });
    assert.equal(first.model, "gpt-5-nano");
    assert.deepEqual(first.usage, { promptTokens: 120, completionTokens: 30 });
    assert.deepEqual(first.message.toolCalls, [
      { id: "c1", name: "get_portfolio", arguments: "{}" },
      { id: "c2", name: "execute_trade", arguments: '{"product_id":"BTC-USD","quantity":"0.1"}' },
    ]);
    const conversation: ChatMessage[] = [
      ...USER,
      first.message,
      { role: "tool", toolCallId: "c1", content: '{"cash":"100000"}' },
      { role: "tool", toolCallId: "c2", content: "Bought" },
    ];
    const second = await model.complete({
      agent: "momentum",
      messages: conversation,
      tools: TOOLS,
    });
    assert.equal(second.message.content, "Done");
    assert.deepEqual(second.message.toolCalls, []);

    assert.equal(fake.requests.length, 2);
    const sent = fake.requests[0]!.body;
    assert.equal(sent.model, "gpt-5-nano");
    assert.equal(fake.requests[0]!.authorization, `Bearer ${KEY}`);
    assert.deepEqual(sent.tools, TOOLS.map((tool) => ({ type: "function", function: tool })));
    assert.equal(sent.reasoning_effort, undefined);
    const round = fake.requests[1]!.body.messages;
    assert.deepEqual(round[2], {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "c1", type: "function", function: { name: "get_portfolio", arguments: "{}" } },
        {
          id: "c2",
          type: "function",
          function: {
            name: "execute_trade",
            arguments: '{"product_id":"BTC-USD","quantity":"0.1"}',
          },
        },
      ],
    });
    assert.deepEqual(round[3], { role: "tool", tool_call_id: "c1", content: '{"cash":"100000"}' });
    assert.deepEqual(round[4], { role: "tool", tool_call_id: "c2", content: "Bought" });
  } finally {
    await fake.close();
  }
});

Deno.test("provider passes invalid JSON arguments and unknown tools through unchanged", async () => {
  const fake = startFakeOpenAI();
  try {
    fake.enqueue({
      kind: "message",
      toolCalls: [
        { id: "x1", name: "execute_trade", arguments: "{not json" },
        { id: "x2", name: "launch_rocket", arguments: "{}" },
      ],
    });
    const reply = await provider(fake.baseURL).complete({
      agent: "scalper",
      messages: USER,
      tools: TOOLS,
    });
    assert.deepEqual(reply.message.toolCalls.map((call) => [call.name, call.arguments]), [
      ["execute_trade", "{not json"],
      ["launch_rocket", "{}"],
    ]);
  } finally {
    await fake.close();
  }
});

Deno.test("provider sends reasoning_effort when given", async () => {
  const fake = startFakeOpenAI();
  try {
    fake.enqueue({ kind: "message", content: "ok" });
    await provider(fake.baseURL, { reasoningEffort: "low" }).complete({
      agent: "momentum",
      messages: USER,
      tools: [],
    });
    assert.equal(fake.requests[0]!.body.reasoning_effort, "low");
    assert.equal(fake.requests[0]!.body.tools, undefined);
  } finally {
    await fake.close();
  }
});

Deno.test("provider retries a 429 after its Retry-After and a 500, then succeeds", async () => {
  const fake = startFakeOpenAI();
  try {
    fake.enqueue(
      { kind: "error", status: 429, headers: { "retry-after": "0.3" } },
      { kind: "error", status: 500 },
      { kind: "message", content: "finally" },
    );
    const started = performance.now();
    const reply = await provider(fake.baseURL, { maxDelayMs: 1000 }).complete({
      agent: "momentum",
      messages: USER,
      tools: [],
    });
    const elapsed = performance.now() - started;
    assert.equal(reply.message.content, "finally");
    assert.equal(fake.requests.length, 3);
    assert.ok(elapsed >= 290, `Retry-After of 300 ms was not honoured (${elapsed} ms)`);
  } finally {
    await fake.close();
  }
});

Deno.test("provider retries a slow reply after its per-request timeout when told to", async () => {
  const fake = startFakeOpenAI();
  try {
    fake.enqueue(
      { kind: "message", content: "too late", delayMs: 1000 },
      { kind: "message", content: "quick" },
    );
    const reply = await provider(fake.baseURL, { timeoutMs: 200, retryTimeouts: true }).complete({
      agent: "momentum",
      messages: USER,
      tools: [],
    });
    assert.equal(reply.message.content, "quick");
    assert.equal(fake.requests.length, 2);
  } finally {
    await fake.close();
  }
});

Deno.test("provider does not retry a timed-out request to a server on this machine", async () => {
  const fake = startFakeOpenAI();
  try {
    fake.enqueue(
      { kind: "message", content: "too late", delayMs: 1000 },
      { kind: "message", content: "queued behind the abandoned one" },
    );
    await assert.rejects(
      provider(fake.baseURL, { timeoutMs: 200 }).complete({
        agent: "momentum",
        messages: USER,
        tools: [],
      }),
      /request failed \(not retried\): request timed out/,
    );
    assert.equal(fake.requests.length, 1);
    assert.equal(isLocalBaseUrl(fake.baseURL), true);
    assert.equal(isLocalBaseUrl("https://api.openai.com/v1"), false);
  } finally {
    await fake.close();
  }
});

Deno.test("provider gives up after the attempt cap with a clear error without the key", async () => {
  const fake = startFakeOpenAI();
  const lines: string[] = [];
  const log = createLogger("test", { level: "debug", sink: (line) => lines.push(line) });
  try {
    for (let i = 0; i < 5; i++) {
      fake.enqueue({ kind: "error", status: 503, message: `overloaded, key ${KEY} rejected` });
    }
    const model = provider(fake.baseURL, { maxAttempts: 3, log });
    await assert.rejects(
      model.complete({ agent: "momentum", messages: USER, tools: [] }),
      (error: Error) => {
        assert.match(error.message, /gpt-5-nano failed after 3 attempts/);
        assert.match(error.message, /503/);
        assert.ok(!error.message.includes(KEY), "the API key leaked into the error");
        return true;
      },
    );
    assert.equal(fake.requests.length, 3);
    assert.equal(lines.length, 2, "each retry is logged");
    for (const line of lines) assert.ok(!line.includes(KEY), `the API key leaked: ${line}`);
  } finally {
    await fake.close();
  }
});

Deno.test("provider does not retry a 401 and hides the key", async () => {
  const fake = startFakeOpenAI();
  try {
    fake.enqueue({ kind: "error", status: 401, message: `Incorrect API key provided: ${KEY}` });
    await assert.rejects(
      provider(fake.baseURL).complete({ agent: "momentum", messages: USER, tools: [] }),
      (error: Error) => {
        assert.match(error.message, /not retried/);
        assert.match(error.message, /401/);
        assert.ok(!error.message.includes(KEY));
        return true;
      },
    );
    assert.equal(fake.requests.length, 1);
  } finally {
    await fake.close();
  }
});

Deno.test("provider gives up on connection errors within the total time cap", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const started = performance.now();
  await assert.rejects(
    provider(`http://127.0.0.1:${port}/v1`, { maxAttempts: 50, maxTotalMs: 300 }).complete({
      agent: "momentum",
      messages: USER,
      tools: [],
    }),
    /connection error/i,
  );
  assert.ok(performance.now() - started < 2000);
});

Deno.test("provider refuses to start without an API key", () => {
  assert.throws(
    () => new OpenAIProvider({ model: "gpt-5-nano", apiKey: "" }),
    /API key must be given/,
  );
});

Deno.test("provider gives tool calls without an id a unique one", async () => {
  const fake = startFakeOpenAI();
  try {
    const noIds = {
      kind: "message" as const,
      toolCalls: [{ id: "", name: "get_portfolio", arguments: "{}" }, {
        id: "",
        name: "execute_trade",
        arguments: "{}",
      }],
    };
    fake.enqueue(noIds, noIds);
    const model = provider(fake.baseURL);
    const first = await model.complete({ agent: "m", messages: USER, tools: TOOLS });
    const second = await model.complete({ agent: "m", messages: USER, tools: TOOLS });
    const ids = [...first.message.toolCalls, ...second.message.toolCalls].map((call) => call.id);
    assert.equal(new Set(ids).size, 4);
    for (const id of ids) assert.match(id, /^call_/);
  } finally {
    await fake.close();
  }
});

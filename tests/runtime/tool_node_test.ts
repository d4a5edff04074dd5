import assert from "node:assert/strict";
import { z } from "zod";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { ReplyInbox } from "../../core/bus/request_reply.ts";
import { ToolCallResult, type ToolContext } from "../../core/contracts/tools.ts";
import { invokeTool, serveTool } from "../../core/runtime/tool_node.ts";
import type { ToolSpec } from "../../core/runtime/tool_spec.ts";
import { publishToolRequests, type ToolRequest } from "../tools/_support.ts";
import { quietLog } from "./_support.ts";

const context: ToolContext = {
  agent: "scalper",
  toolCallId: "call_9",
  correlationId: "corr-9",
  tick: 3,
};

const trade: ToolSpec = {
  name: "trade",
  description: "Buys or sells",
  input: z.object({ side: z.enum(["buy", "sell"]), quantity: z.string() }),
  run: (input: { side: string; quantity: string }, ctx) =>
    Promise.resolve({ ok: true, content: JSON.stringify({ ...input, agent: ctx.agent }) }),
};

const broken: ToolSpec = {
  name: "broken",
  description: "Always throws",
  input: z.object({}),
  run: () => {
    const error = new Error("database unavailable\nsecret connection string");
    return Promise.reject(error);
  },
};

Deno.test("invokeTool runs a valid call with the injected context", async () => {
  const outcome = await invokeTool(trade, {
    arguments: '{"side":"buy","quantity":"0.5"}',
    context,
  });
  assert.deepEqual(outcome, {
    ok: true,
    content: '{"side":"buy","quantity":"0.5","agent":"scalper"}',
  });
});

Deno.test("invokeTool turns invalid JSON into an error saying what was wrong", async () => {
  const outcome = await invokeTool(trade, { arguments: "{side: buy}", context });
  assert.equal(outcome.ok, false);
  assert.match(
    outcome.content,
    /^Arguments of trade must be a JSON object, got invalid JSON \(.+\): \{side: buy\}$/,
  );
});

Deno.test("invokeTool turns schema violations into an error listing the fields and the valid schema", async () => {
  const outcome = await invokeTool(trade, { arguments: '{"side":"hold"}', context });
  assert.equal(outcome.ok, false);
  assert.match(outcome.content, /^Invalid arguments for trade: side: .*"buy".*; quantity: /);
  assert.match(outcome.content, /"enum":\["buy","sell"\]/);
});

Deno.test("invokeTool reports a throwing tool as Tool failed with the first line only", async () => {
  const outcome = await invokeTool(broken, { arguments: "{}", context });
  assert.deepEqual(outcome, { ok: false, content: "Tool failed: database unavailable" });
});

Deno.test("invokeTool treats empty arguments as an empty object", async () => {
  const outcome = await invokeTool(broken, { arguments: "  ", context });
  assert.equal(outcome.content, "Tool failed: database unavailable");
});

Deno.test("serveTool answers each request on its reply-to topic with the correlation id", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  const subscriptions = [
    await serveTool(bus, trade, { log }),
    await serveTool(bus, broken, { log }),
  ];
  const inbox = await ReplyInbox.open(bus, {
    replyTopic: "test.tool.replies",
    groupId: "inbox",
    log,
  });
  try {
    const request = (tool: string, correlationId: string, args: string): ToolRequest => ({
      agent: context.agent,
      tool,
      toolCallId: context.toolCallId,
      correlationId,
      arguments: args,
      replyTo: "test.tool.replies",
    });
    const first = inbox.expect("r-1", 5_000);
    const second = inbox.expect("r-2", 5_000);
    await publishToolRequests(bus, [
      request("trade", "r-1", '{"side":"sell","quantity":"1"}'),
      request("broken", "r-2", "{}"),
    ]);
    const ok = ToolCallResult.parse(await first);
    assert.deepEqual(ok, {
      v: 1,
      correlationId: "r-1",
      toolCallId: "call_9",
      tool: "trade",
      agent: "scalper",
      ok: true,
      content: '{"side":"sell","quantity":"1","agent":"scalper"}',
    });
    const failed = ToolCallResult.parse(await second);
    assert.equal(failed.ok, false);
    assert.equal(failed.content, "Tool failed: database unavailable");
  } finally {
    await inbox.close();
    for (const subscription of subscriptions) await subscription.close();
    await bus.close();
  }
});

Deno.test("serveTool does not run a tool call whose caller stopped waiting long ago", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  let runs = 0;
  const counted: ToolSpec = {
    name: "counted",
    description: "Counts runs",
    input: z.object({}),
    run: () => {
      runs++;
      return Promise.resolve({ ok: true, content: "ran" });
    },
  };
  const subscription = await serveTool(bus, counted, { log });
  const inbox = await ReplyInbox.open(bus, {
    replyTopic: "test.tool.replies",
    groupId: "inbox",
    log,
  });
  try {
    const expiresAt = new Date(Date.now() - 60 * 60_000).toISOString();
    const stale = inbox.expect("stale", 5_000);
    const fresh = inbox.expect("fresh", 5_000);
    const request = (correlationId: string, expiresAt: string): ToolRequest => ({
      agent: context.agent,
      tool: "counted",
      toolCallId: context.toolCallId,
      correlationId,
      replyTo: "test.tool.replies",
      expiresAt,
    });
    await publishToolRequests(bus, [
      request("stale", expiresAt),
      request("fresh", new Date(Date.now() + 60_000).toISOString()),
    ]);
    const skipped = ToolCallResult.parse(await stale);
    assert.equal(skipped.ok, false);
    assert.equal(
      skipped.content,
      `Tool call expired at ${expiresAt} before counted received it; it was not run`,
    );
    assert.equal(ToolCallResult.parse(await fresh).content, "ran");
    assert.equal(runs, 1);
  } finally {
    await inbox.close();
    await subscription.close();
    await bus.close();
  }
});

import assert from "node:assert/strict";
import { z } from "zod";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { chatTopic, toolRequestTopic } from "../../core/bus/topics.ts";
import { AgentRouter } from "../../core/runtime/agent_router.ts";
import type { ToolContext } from "../../core/contracts/tools.ts";
import type { ChatMessage } from "../../core/contracts/chat.ts";
import type { ToolSpec } from "../../core/runtime/tool_spec.ts";
import { toolDefinition } from "../../core/runtime/tool_spec.ts";
import { eventually, startArena } from "./_arena.ts";
import { answer, callTools, deferred, quietLog, within } from "./_support.ts";

const add: ToolSpec = {
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  run: (input: { a: number; b: number }) =>
    Promise.resolve({ ok: true, content: String(input.a + input.b) }),
};

/** Tool messages of a model request, by tool call id. */
function toolMessages(messages: ChatMessage[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const message of messages) {
    if (message.role === "tool") out.set(message.toolCallId, message.content);
  }
  return out;
}

Deno.test("a multi-step tool loop feeds each result to the next model call until it answers", async () => {
  const arena = await startArena({
    tools: [add],
    script: (request, call) => {
      if (call === 0) return callTools([["add", '{"a":2,"b":3}']], "First 2 + 3.");
      if (call === 1) {
        const sum = toolMessages(request.messages).get("call_1");
        return callTools([["add", `{"a":${sum},"b":10}`]]);
      }
      return answer(`Done: ${request.messages.at(-1)!.content}`);
    },
  });
  try {
    await arena.publish(1);
    const [decision] = await arena.activity.decisions(arena.agent, 1);
    assert.equal(decision!.outcome, "answered");
    assert.equal(decision!.steps, 3);
    assert.equal(decision!.tick, 1);
    assert.equal(arena.model.requests.length, 3);
    assert.equal(arena.model.requests[2]!.messages.at(-1)!.content, "15");
    const reasoning = arena.activity.of(arena.agent, "reasoning").map((event) => event.text);
    assert.deepEqual(reasoning, ["First 2 + 3.", "Done: 15"]);
    const results = arena.activity.of(arena.agent, "tool_result").map((event) => event.content);
    assert.deepEqual(results, ["5", "15"]);
    assert.equal(arena.activity.of(arena.agent, "tool_call").length, 2);
    assert.equal(arena.router.stats.steps, 3);
  } finally {
    await arena.close();
  }
});

Deno.test("the tool calls of one model reply run concurrently and all results reach the next call", async () => {
  const leftStarted = deferred();
  const rightStarted = deferred();
  const barrierTool = (name: string, mine: typeof leftStarted, other: typeof leftStarted) => ({
    name,
    description: `Waits until the other tool has started too (${name})`,
    input: z.object({}),
    run: async () => {
      mine.resolve();
      // Sequential execution would never start the other tool: this wait would time out.
      await within(`the other tool to start while ${name} runs`, other.promise, 3_000);
      return { ok: true, content: `${name} saw the other tool running` };
    },
  } satisfies ToolSpec);
  const arena = await startArena({
    tools: [
      barrierTool("left", leftStarted, rightStarted),
      barrierTool("right", rightStarted, leftStarted),
    ],
    script: (_request, call) =>
      call === 0 ? callTools([["left", "{}"], ["right", "{}"]]) : answer("Both ran."),
  });
  try {
    await arena.publish(1);
    const [decision] = await arena.activity.decisions(arena.agent, 1, 8_000);
    assert.equal(decision!.outcome, "answered");
    const results = toolMessages(arena.model.requests[1]!.messages);
    assert.equal(results.get("call_1"), "left saw the other tool running");
    assert.equal(results.get("call_2"), "right saw the other tool running");
  } finally {
    await arena.close();
  }
});

Deno.test("an unknown tool name yields an error result the model sees, without a request to a tool topic", async () => {
  const arena = await startArena({
    tools: [add],
    script: (_request, call) =>
      call === 0 ? callTools([["launch_rocket", "{}"], ["add", '{"a":1,"b":1}']]) : answer("ok"),
  });
  try {
    await arena.publish(1);
    await arena.activity.decisions(arena.agent, 1);
    const results = toolMessages(arena.model.requests[1]!.messages);
    assert.equal(results.get("call_1"), "Unknown tool launch_rocket; available tools: add");
    assert.equal(results.get("call_2"), "2");
    const failed = arena.activity.of(arena.agent, "tool_result").find((e) =>
      e.tool === "launch_rocket"
    );
    assert.equal(failed?.ok, false);
    const offsets = await arena.bus.endOffsets(toolRequestTopic("launch_rocket"));
    assert.equal([...offsets.values()].reduce((sum, offset) => sum + Number(offset), 0), 0);
  } finally {
    await arena.close();
  }
});

Deno.test("invalid JSON arguments yield an error result the model sees and can fix", async () => {
  const arena = await startArena({
    tools: [add],
    script: (_request, call) => {
      if (call === 0) return callTools([["add", '{"a": 1, "b": ']]);
      if (call === 1) return callTools([["add", '{"a": 1, "b": 2}']]);
      return answer("fixed");
    },
  });
  try {
    await arena.publish(1);
    const [decision] = await arena.activity.decisions(arena.agent, 1);
    assert.equal(decision!.outcome, "answered");
    const error = toolMessages(arena.model.requests[1]!.messages).get("call_1")!;
    assert.match(error, /^Arguments of add must be a JSON object, got invalid JSON/);
    assert.equal(arena.model.requests[2]!.messages.at(-1)!.content, "3");
  } finally {
    await arena.close();
  }
});

Deno.test("arguments that fail the zod schema yield an error naming the field and the valid schema", async () => {
  const arena = await startArena({
    tools: [add],
    script: (_request, call) =>
      call === 0 ? callTools([["add", '{"a": "one", "b": 2}']]) : answer("noted"),
  });
  try {
    await arena.publish(1);
    await arena.activity.decisions(arena.agent, 1);
    const error = toolMessages(arena.model.requests[1]!.messages).get("call_1")!;
    assert.match(error, /^Invalid arguments for add: a: .*expected number/);
    assert.match(error, /Valid arguments follow this JSON Schema: \{.*"a":\{"type":"number"\}/);
    assert.equal(arena.activity.of(arena.agent, "tool_result")[0]?.ok, false);
  } finally {
    await arena.close();
  }
});

Deno.test("a model that keeps calling tools stops at the step limit with outcome step_limit", async () => {
  const arena = await startArena({
    tools: [add],
    router: { maxSteps: 3 },
    // Different arguments each time: a repeated identical call is answered without running it.
    script: (_request, call) => callTools([["add", `{"a":${call},"b":1}`]]),
  });
  try {
    await arena.publish(1);
    const [decision] = await arena.activity.decisions(arena.agent, 1);
    assert.equal(decision!.outcome, "step_limit");
    assert.equal(decision!.steps, 3);
    assert.equal(arena.model.requests.length, 3);
    const errors = arena.activity.of(arena.agent, "error").map((event) => event.message);
    assert.deepEqual(errors, ["Step limit of 3 model calls reached before a final answer"]);
    assert.equal(arena.router.stats.outcomes.step_limit, 1);
  } finally {
    await arena.close();
  }
});

Deno.test("the default step limit is 8 model calls", async () => {
  const arena = await startArena({
    tools: [add],
    // A new call each time: a repeated one would end the decision early.
    script: (_request, call) => callTools([["add", `{"a":${call},"b":1}`]]),
  });
  try {
    await arena.publish(1);
    const [decision] = await arena.activity.decisions(arena.agent, 1);
    assert.equal(decision!.outcome, "step_limit");
    assert.equal(decision!.steps, 8);
  } finally {
    await arena.close();
  }
});

Deno.test("tools receive the ToolContext (agent, tool call id, tick) and the model never sees it", async () => {
  const seen: ToolContext[] = [];
  const whoami: ToolSpec = {
    name: "whoami",
    description: "Says nothing about the caller",
    input: z.object({}),
    run: (_input, context) => {
      seen.push(context);
      return Promise.resolve({ ok: true, content: "noted" });
    },
  };
  const arena = await startArena({
    tools: [whoami],
    router: { agent: "momentum" },
    script: (_request, call) =>
      call === 0 ? callTools([["whoami", "{}"], ["whoami", ""]]) : answer("fine"),
  });
  try {
    await arena.publish(7);
    await arena.activity.decisions("momentum", 1);
    assert.equal(seen.length, 2);
    const ids = seen.map((context) => context.toolCallId).sort();
    assert.deepEqual(ids, ["call_1", "call_2"]);
    for (const context of seen) {
      assert.equal(context.agent, "momentum");
      assert.equal(context.tick, 7);
      assert.ok(context.correlationId.length > 0);
    }
    const modelSaw = JSON.stringify(arena.model.requests);
    for (const context of seen) assert.ok(!modelSaw.includes(context.correlationId));
    assert.ok(!modelSaw.includes('"context"'));
    const offered = arena.model.requests[0]!.tools;
    assert.deepEqual(offered, [toolDefinition(whoami)]);
  } finally {
    await arena.close();
  }
});

Deno.test("memory stays bounded: the prompt at tick 1000 is within a few characters of tick 10", async () => {
  const firstPromptChars = new Map<number, number>();
  const arena = await startArena({
    tools: [add],
    router: { memoryDecisions: 5 },
    script: (request, call) => {
      const chars = request.messages.reduce(
        (sum, message) => sum + (message.content ?? "").length,
        0,
      );
      if (request.messages.length <= 3) firstPromptChars.set(request.snapshot!.tick, chars);
      return call % 2 === 0
        ? callTools([["add", `{"a":${call},"b":1}`]], "Checking the numbers before I trade.")
        : answer(`Holding. ${"The trend is unclear so I keep my position. ".repeat(20)}`);
    },
  });
  try {
    for (let tick = 1; tick <= 1_000; tick++) {
      await arena.publish(tick);
      await arena.activity.decisions(arena.agent, tick);
    }
    const at10 = firstPromptChars.get(10)!;
    const at1000 = firstPromptChars.get(1_000)!;
    assert.ok(at10 > 0 && at1000 > 0);
    assert.ok(Math.abs(at1000 - at10) <= 60, `prompt grew from ${at10} to ${at1000} characters`);
    assert.equal(arena.router.memory.length, 5);
    assert.deepEqual(arena.router.memory.map((entry) => entry.tick), [996, 997, 998, 999, 1_000]);
    const memoryText = arena.model.requests.at(-2)!.messages[1]!.content!;
    assert.match(memoryText, /^Your last 5 decisions/);
    assert.match(memoryText, /add\(\{"a":\d+,"b":1\}\) -> ok: \d+/);
    assert.equal(arena.router.stats.decisions, 1_000);
    assert.equal(arena.router.stats.skippedTicks, 0);
  } finally {
    await arena.close();
  }
});

Deno.test("while deciding, newer snapshots replace the pending one: only the latest is decided, skips counted", async () => {
  const release = deferred();
  const arena = await startArena({
    script: async (request) => {
      if (request.snapshot!.tick === 1) await within("the test to release tick 1", release.promise);
      return answer(`Decided tick ${request.snapshot!.tick}`);
    },
  });
  try {
    await arena.publish(1);
    await eventually("the model to be called for tick 1", () => arena.model.requests.length === 1);
    await arena.publish(2, 3, 4, 5);
    await eventually("ticks 2-4 to be replaced", () => arena.router.stats.skippedTicks === 3);
    release.resolve();
    const decisions = await arena.activity.decisions(arena.agent, 2);
    assert.deepEqual(decisions.map((event) => event.tick), [1, 5]);
    assert.deepEqual(decisions.map((event) => event.skippedTicks), [3, 3]);
    assert.deepEqual(arena.model.requests.map((request) => request.snapshot!.tick), [1, 5]);
    await arena.publish(6);
    const after = await arena.activity.decisions(arena.agent, 3);
    assert.equal(after[2]!.tick, 6);
    assert.equal(arena.router.stats.skippedTicks, 3);
  } finally {
    release.resolve();
    await arena.close();
  }
});

Deno.test("a model error reply ends the decision as model_error and the agent decides the next tick", async () => {
  const arena = await startArena({
    tools: [add],
    script: (request) => {
      if (request.snapshot!.tick === 1) {
        throw new Error("429 rate limited for key sk-proj-abcdefghijklmnop\n    at secret.ts:1");
      }
      return answer("Back to normal.");
    },
  });
  try {
    await arena.publish(1);
    await arena.activity.decisions(arena.agent, 1);
    await arena.publish(2);
    const decisions = await arena.activity.decisions(arena.agent, 2);
    assert.deepEqual(decisions.map((event) => [event.tick, event.outcome]), [
      [1, "model_error"],
      [2, "answered"],
    ]);
    const [error] = arena.activity.of(arena.agent, "error");
    assert.match(error!.message, /429 rate limited/);
    assert.ok(!error!.message.includes("abcdefghijklmnop"), error!.message);
    assert.ok(!error!.message.includes("secret.ts"), error!.message);
    assert.equal(arena.router.memory[0]!.outcome, "model_error");
  } finally {
    await arena.close();
  }
});

Deno.test("a chat reply that never comes ends the decision as timeout, visibly", async () => {
  const release = deferred();
  const arena = await startArena({
    router: { replyTimeoutMs: 150 },
    script: async (request) => {
      if (request.snapshot!.tick === 1) await within("the test to release tick 1", release.promise);
      return answer("late");
    },
  });
  try {
    await arena.publish(1);
    const [decision] = await arena.activity.decisions(arena.agent, 1);
    assert.equal(decision!.outcome, "timeout");
    assert.equal(decision!.steps, 0);
    const [error] = arena.activity.of(arena.agent, "error");
    assert.match(error!.message, /^No reply from chat node ai_prompted within 150 ms/);
    release.resolve();
    await arena.publish(2);
    const decisions = await arena.activity.decisions(arena.agent, 2);
    assert.equal(decisions[1]!.outcome, "answered");
  } finally {
    release.resolve();
    await arena.close();
  }
});

Deno.test("stop() finishes the decision in flight and publishes its decision event", async () => {
  const release = deferred();
  const arena = await startArena({
    script: async () => {
      await within("the test to release the model", release.promise);
      return answer("finished");
    },
  });
  try {
    await arena.publish(1);
    await eventually("the model to be called", () => arena.model.requests.length === 1);
    const stopping = arena.router.stop();
    setTimeout(() => release.resolve(), 20);
    await within("the router to stop", stopping);
    assert.equal(arena.router.stats.decisions, 1);
    await arena.activity.decisions(arena.agent, 1);
  } finally {
    release.resolve();
    await arena.close();
  }
});

Deno.test("each decision event carries the market-clock time of its snapshot", async () => {
  const arena = await startArena({ script: () => answer("hold") });
  try {
    await arena.publish(3);
    const [decision] = await arena.activity.decisions(arena.agent, 1);
    assert.equal(decision!.time, "2017-09-03T00:03:00.000Z");
    const [usage] = arena.activity.of(arena.agent, "usage");
    assert.equal(usage!.time, "2017-09-03T00:03:00.000Z");
    assert.equal(usage!.model, "scripted");
  } finally {
    await arena.close();
  }
});

Deno.test("AgentRouter.start rejects an invalid agent name and a step limit below 1", async () => {
  const bus = new MemoryBus();
  const base = {
    systemPrompt: "x",
    tools: [],
    renderPrompt: () => "x",
    log: quietLog(),
  };
  try {
    await assert.rejects(
      AgentRouter.start(bus, { ...base, agent: "bad name!" }),
      /^Error: Agent name must be 1-64 letters/,
    );
    await assert.rejects(
      AgentRouter.start(bus, { ...base, agent: "ok", maxSteps: 0 }),
      /Max steps must be a positive integer, got 0/,
    );
  } finally {
    await bus.close();
  }
});

Deno.test("requests carry an expiry of now + replyTimeoutMs so nodes can skip a stale backlog", async () => {
  const arena = await startArena({
    tools: [add],
    router: { replyTimeoutMs: 4_000 },
    script: (_request, call) => call === 0 ? callTools([["add", '{"a":1,"b":2}']]) : answer("ok"),
  });
  const requests: { topic: string; expiresAt?: string }[] = [];
  try {
    const before = Date.now();
    await arena.publish(1);
    await arena.activity.decisions(arena.agent, 1);
    for (const topic of [chatTopic(), toolRequestTopic("add")]) {
      await arena.bus.readAll(topic, (record) => {
        requests.push({ topic, expiresAt: JSON.parse(record.value).expiresAt });
        return Promise.resolve();
      });
    }
    assert.equal(requests.length, 3);
    for (const request of requests) {
      const expires = Date.parse(request.expiresAt!);
      assert.ok(expires >= before + 4_000 && expires <= Date.now() + 4_000, request.expiresAt);
    }
  } finally {
    await arena.close();
  }
});

Deno.test("chat and tool requests are keyed by agent, so nodes run agents at once", async () => {
  const arena = await startArena({
    tools: [add],
    script: (_request, call) => call === 0 ? callTools([["add", '{"a":1,"b":2}']]) : answer("ok"),
  });
  const keys: (string | null)[] = [];
  try {
    await arena.publish(1);
    await arena.activity.decisions(arena.agent, 1);
    for (const topic of [chatTopic(), toolRequestTopic("add")]) {
      await arena.bus.readAll(topic, (record) => {
        keys.push(record.key);
        return Promise.resolve();
      });
    }
    assert.deepEqual(keys, [arena.agent, arena.agent, arena.agent]);
  } finally {
    await arena.close();
  }
});

Deno.test("a prompt renderer that throws still ends the tick with a decision event", async () => {
  const arena = await startArena({
    router: {
      renderPrompt: (market) => {
        if (market.tick === 1) throw new Error("No candles for BTC-USD");
        return `Tick ${market.tick}`;
      },
    },
    script: () => answer("hold"),
  });
  try {
    await arena.publish(1);
    const [decision] = await arena.activity.decisions(arena.agent, 1);
    assert.equal(decision!.outcome, "model_error");
    // The prompt is rendered when the model reads it, so the failure comes back as a model error.
    assert.match(arena.activity.of(arena.agent, "error")[0]!.message, /No candles for BTC-USD/);
    await arena.publish(2);
    const decisions = await arena.activity.decisions(arena.agent, 2);
    assert.equal(decisions[1]!.outcome, "answered");
  } finally {
    await arena.close();
  }
});

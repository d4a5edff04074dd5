import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { publishMessages } from "../../core/bus/messages.ts";
import { ReplyInbox } from "../../core/bus/request_reply.ts";
import { chatTopic } from "../../core/bus/topics.ts";
import { ChatReply, type ChatRequest } from "../../core/contracts/chat.ts";
import { EXPIRY_GRACE_MS } from "../../core/runtime/_expiry.ts";
import {
  DEFAULT_PRICE_TABLE,
  estimateCostUsd,
  sanitizeErrorText,
  startChatNode,
} from "../../core/runtime/chat_node.ts";
import type {
  ModelProvider,
  ModelRequest,
  ModelResponse,
} from "../../core/runtime/model_provider.ts";
import { ActivityCollector, deferred, quietLog, snapshot, within } from "./_support.ts";

const REPLY_TOPIC = "test.chat.replies";

function chatRequest(correlationId: string, agent = "momentum"): ChatRequest {
  return {
    v: 1,
    correlationId,
    replyTo: REPLY_TOPIC,
    agent,
    tick: 4,
    messages: [{ role: "system", content: "Trade." }, { role: "user", content: "Prices..." }],
    tools: [],
    snapshot: snapshot(4),
  };
}

/** A provider with a fixed model id whose answers the test controls. */
class FixedModel implements ModelProvider {
  readonly calls: ModelRequest[] = [];
  constructor(
    readonly model: string,
    readonly respond: (request: ModelRequest) => Promise<ModelResponse>,
  ) {}
  complete(request: ModelRequest): Promise<ModelResponse> {
    this.calls.push(request);
    return this.respond(request);
  }
}

Deno.test("estimateCostUsd prices prompt and completion tokens per million from the table", () => {
  const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000 };
  assert.equal(estimateCostUsd("gpt-5-nano", usage), 0.45);
  assert.equal(
    estimateCostUsd("gpt-5-mini", { promptTokens: 2_000, completionTokens: 500 }),
    0.0015,
  );
  assert.equal(estimateCostUsd("gpt-4o-mini", usage), 0.75);
  assert.equal(estimateCostUsd("deepseek-chat", usage), 0.7);
});

Deno.test("estimateCostUsd matches dated model ids and is 0 for rules and unknown models", () => {
  const usage = { promptTokens: 1_000_000, completionTokens: 0 };
  assert.equal(estimateCostUsd("gpt-5-nano-2025-08-07", usage), 0.05);
  assert.equal(estimateCostUsd("rules", usage), 0);
  assert.equal(estimateCostUsd("my-local-llama", usage), 0);
  assert.equal(estimateCostUsd("gpt-5", usage), 0);
});

Deno.test("estimateCostUsd uses an overriding price table", () => {
  const table = { ...DEFAULT_PRICE_TABLE, "my-local-llama": { input: 1, output: 2 } };
  assert.equal(
    estimateCostUsd("my-local-llama", { promptTokens: 500_000, completionTokens: 250_000 }, table),
    1,
  );
});

Deno.test("sanitizeErrorText removes API keys, bearer tokens, given secrets and stack lines", () => {
  const text = sanitizeErrorText(
    "401 Incorrect API key provided: sk-proj-ABCDEF123456 (Bearer abc.def) api_key=hunter22 mine-s3cret\n    at x.ts:1",
    ["mine-s3cret"],
  );
  assert.ok(!text.includes("ABCDEF123456"), text);
  assert.ok(!text.includes("abc.def"), text);
  assert.ok(!text.includes("hunter22"), text);
  assert.ok(!text.includes("mine-s3cret"), text);
  assert.ok(!text.includes("x.ts"), text);
  assert.match(text, /^401 Incorrect API key provided/);
});

Deno.test("a chat node answers on the reply-to topic and publishes usage with estimated cost", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  const model = new FixedModel("gpt-5-mini", () =>
    Promise.resolve({
      message: { role: "assistant", content: "Buying.", toolCalls: [] },
      usage: { promptTokens: 2_000, completionTokens: 500 },
      model: "gpt-5-mini",
    }));
  const node = await startChatNode(bus, { provider: model, name: "mini", log });
  const inbox = await ReplyInbox.open(bus, { replyTopic: REPLY_TOPIC, groupId: "test.inbox", log });
  const activity = await ActivityCollector.open(bus);
  try {
    assert.equal(node.topic, "ai_prompted.mini");
    const waiting = inbox.expect("c-1", 5_000);
    await publishMessages(bus, chatTopic("mini"), [{ message: chatRequest("c-1") }]);
    const reply = ChatReply.parse(await waiting);
    assert.ok(reply.ok);
    assert.equal(reply.message.content, "Buying.");
    assert.deepEqual(reply.usage, { promptTokens: 2_000, completionTokens: 500 });
    assert.equal(model.calls[0]!.snapshot?.tick, 4);
    assert.equal(model.calls[0]!.agent, "momentum");
    await activity.waitFor("a usage event", () => activity.of("momentum", "usage").length === 1);
    const [usage] = activity.of("momentum", "usage");
    assert.equal(usage!.costUsd, 0.0015);
    assert.equal(usage!.model, "gpt-5-mini");
    assert.equal(usage!.tick, 4);
    assert.equal(usage!.time, snapshot(4).time);
  } finally {
    await inbox.close();
    await activity.close();
    await node.stop();
    await bus.close();
  }
});

Deno.test("a provider that throws yields an ok:false reply without the API key", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  const model = new FixedModel(
    "gpt-5-nano",
    () =>
      Promise.reject(new Error("Gave up after 5 retries: 503 from upstream, key topsecret-key-42")),
  );
  const node = await startChatNode(bus, { provider: model, log, secrets: ["topsecret-key-42"] });
  const inbox = await ReplyInbox.open(bus, { replyTopic: REPLY_TOPIC, groupId: "test.inbox", log });
  try {
    const waiting = inbox.expect("c-2", 5_000);
    await publishMessages(bus, chatTopic(), [{ message: chatRequest("c-2") }]);
    const reply = ChatReply.parse(await waiting);
    assert.equal(reply.ok, false);
    if (reply.ok) return;
    assert.match(reply.error, /^Gave up after 5 retries: 503 from upstream/);
    assert.ok(!reply.error.includes("topsecret-key-42"));
    assert.equal(reply.model, "gpt-5-nano");
    assert.equal(node.stats().failed, 1);
  } finally {
    await inbox.close();
    await node.stop();
    await bus.close();
  }
});

Deno.test("maxWorkers bounds concurrent model calls and the bound is reached", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  const release = deferred();
  let running = 0;
  let started = 0;
  const model = new FixedModel("rules", async () => {
    running++;
    started++;
    await within("the test to release the model", release.promise);
    running--;
    return {
      message: { role: "assistant", content: "ok", toolCalls: [] },
      usage: { promptTokens: 1, completionTokens: 1 },
      model: "rules",
    };
  });
  const node = await startChatNode(bus, { provider: model, log, maxWorkers: 2 });
  const inbox = await ReplyInbox.open(bus, { replyTopic: REPLY_TOPIC, groupId: "test.inbox", log });
  try {
    const ids = ["a", "b", "c", "d", "e", "f"];
    const replies = ids.map((id) => inbox.expect(id, 5_000));
    await publishMessages(
      bus,
      chatTopic(),
      ids.map((id, i) => ({ message: chatRequest(id, `agent${i}`) })),
    );
    const deadline = Date.now() + 2_000;
    while (started < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(running, 2);
    assert.equal(node.stats().inFlight, 2);
    release.resolve();
    const answered = (await Promise.all(replies)).map((reply) => ChatReply.parse(reply));
    assert.deepEqual(answered.map((reply) => reply.correlationId), ids);
    assert.equal(node.stats().peakInFlight, 2);
    assert.equal(node.stats().answered, 6);
  } finally {
    release.resolve();
    await inbox.close();
    await node.stop();
    await bus.close();
  }
});

Deno.test("startChatNode rejects a max worker count below 1", async () => {
  const bus = new MemoryBus();
  const model = new FixedModel("rules", () => Promise.reject(new Error("unused")));
  await assert.rejects(
    startChatNode(bus, { provider: model, log: quietLog(), maxWorkers: 0 }),
    /Max workers must be a positive integer, got 0/,
  );
  await bus.close();
});

Deno.test("an expired chat request is answered with an error without calling the model", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  const model = new FixedModel("gpt-5-nano", () => Promise.reject(new Error("must not be called")));
  const node = await startChatNode(bus, { provider: model, log });
  const inbox = await ReplyInbox.open(bus, { replyTopic: REPLY_TOPIC, groupId: "test.inbox", log });
  try {
    const waiting = inbox.expect("old", 5_000);
    const expiresAt = new Date(Date.now() - 60 * 60_000).toISOString();
    await publishMessages(bus, chatTopic(), [{ message: { ...chatRequest("old"), expiresAt } }]);
    const reply = ChatReply.parse(await waiting);
    assert.equal(reply.ok, false);
    if (reply.ok) return;
    assert.equal(
      reply.error,
      `Request expired at ${expiresAt} before the chat node received it; the model was not called`,
    );
    assert.equal(model.calls.length, 0);
    assert.equal(node.stats().expired, 1);
  } finally {
    await inbox.close();
    await node.stop();
    await bus.close();
  }
});

Deno.test("a request that expires while it waits for a worker is answered without the model", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  const release = deferred();
  const model = new FixedModel("gpt-5-nano", async () => {
    await release.promise;
    return {
      message: { role: "assistant", content: "done", toolCalls: [] },
      usage: { promptTokens: 1, completionTokens: 1 },
      model: "gpt-5-nano",
    };
  });
  const node = await startChatNode(bus, { provider: model, log, maxWorkers: 1 });
  const inbox = await ReplyInbox.open(bus, { replyTopic: REPLY_TOPIC, groupId: "test.inbox", log });
  try {
    const slow = inbox.expect("slow", 5_000);
    const late = inbox.expect("late", 5_000);
    // Past its expiry (and the clock grace) 150 ms from now.
    const expiresAt = new Date(Date.now() - EXPIRY_GRACE_MS + 150).toISOString();
    await publishMessages(bus, chatTopic(), [
      { key: "momentum", message: chatRequest("slow", "momentum") },
      { key: "scalper", message: { ...chatRequest("late", "scalper"), expiresAt } },
    ]);
    // The only worker is busy past the second request's expiry.
    await new Promise((resolve) => setTimeout(resolve, 300));
    release.resolve();
    assert.equal(ChatReply.parse(await slow).ok, true);
    const reply = ChatReply.parse(await late);
    assert.equal(reply.ok, false);
    if (reply.ok) return;
    assert.equal(
      reply.error,
      `Request expired at ${expiresAt} while it waited for one of 1 workers; ` +
        "the model was not called",
    );
    assert.equal(model.calls.length, 1, "only the first request reached the model");
    assert.equal(node.stats().expired, 1);
  } finally {
    await inbox.close();
    await node.stop();
    await bus.close();
  }
});

Deno.test("the model call gets an abort signal that fires once the request has expired", async () => {
  const bus = new MemoryBus();
  const log = quietLog();
  let aborted: string | undefined;
  const model: ModelProvider = {
    model: "gpt-5-nano",
    complete: (_request, signal) =>
      new Promise((_resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("signal never fired")), 3_000);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          aborted = String((signal.reason as Error).message);
          reject(new Error("Request was aborted"));
        });
      }),
  };
  const node = await startChatNode(bus, { provider: model, log });
  const inbox = await ReplyInbox.open(bus, { replyTopic: REPLY_TOPIC, groupId: "test.inbox", log });
  try {
    // Expired 29.9 s ago: within the 30 s grace, so the call starts and is aborted 100 ms later.
    const expiresAt = new Date(Date.now() - 29_900).toISOString();
    const waiting = inbox.expect("abort-me", 5_000);
    await publishMessages(bus, chatTopic(), [{
      message: { ...chatRequest("abort-me"), expiresAt },
    }]);
    const reply = ChatReply.parse(await waiting);
    assert.equal(reply.ok, false);
    assert.equal(aborted, `Request expired at ${expiresAt}`);
  } finally {
    await inbox.close();
    await node.stop();
    await bus.close();
  }
});

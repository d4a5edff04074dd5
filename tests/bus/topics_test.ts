import assert from "node:assert/strict";
import { z } from "zod";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { startAgents } from "../../core/agents/agents.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { deadLetterKey, subscribeMessages } from "../../core/bus/messages.ts";
import {
  ARENA_TOPICS,
  arenaTopics,
  CHAT_TOPIC_PARTITIONS,
  deadLetterTopicFor,
} from "../../core/bus/topics.ts";
import { DeadLetter } from "../../core/contracts/activity.ts";
import { createLogger } from "../../core/log.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import { DEFAULT_MAX_WORKERS, startChatNode } from "../../core/runtime/chat_node.ts";
import { tradingToolDefinitions } from "../../core/agents/tool_definitions.ts";
import { DEFAULT_TRADE_CONFIG } from "../../core/ledger/trade.ts";

const quiet = createLogger("test", { level: "error", sink: () => {} });

Deno.test("arenaTopics prefixes every name and keeps Calfkit's names", () => {
  const topics = arenaTopics("x3.");
  assert.equal(topics.snapshots.topic, "x3.agent_router.input");
  assert.equal(topics.deadLetter.topic, "x3.arena.dead_letter");
  assert.equal(topics.chat().topic, "x3.ai_prompted");
  assert.equal(topics.chat("gpt5").topic, "x3.ai_prompted.gpt5");
  assert.equal(topics.agentPrivate("momentum").topic, "x3.agent_router.private.momentum");
  assert.equal(topics.toolRequest("calculator").topic, "x3.tool_node.calculator.request");
  assert.equal(topics.toolCatalog.cleanupPolicy, "compact");
  for (const spec of topics.fixed) assert.ok(spec.topic.startsWith("x3."), spec.topic);
  assert.deepEqual(
    ARENA_TOPICS.map((spec) => spec.topic),
    arenaTopics().fixed.map((spec) => spec.topic),
  );
});

Deno.test("every chat topic has one partition count, enough for the default workers", () => {
  assert.equal(CHAT_TOPIC_PARTITIONS, DEFAULT_MAX_WORKERS);
  const shared = ARENA_TOPICS.find((spec) => spec.topic === "ai_prompted");
  assert.equal(shared?.partitions, CHAT_TOPIC_PARTITIONS);
  assert.equal(arenaTopics("p.").chat("named").partitions, CHAT_TOPIC_PARTITIONS);
});

/** Partitions of a topic on a bus. */
async function partitions(bus: MemoryBus, topic: string): Promise<number> {
  return (await bus.endOffsets(topic)).size;
}

for (const first of ["chat node", "router", "arena topics"] as const) {
  Deno.test(`the chat topic has ${CHAT_TOPIC_PARTITIONS} partitions when the ${first} starts first`, async () => {
    const bus = new MemoryBus();
    const topics = arenaTopics("order.");
    const stops: (() => Promise<void>)[] = [];
    const chat = async () => {
      const node = await startChatNode(bus, {
        provider: new RulesModel(),
        log: quiet,
        topicPrefix: topics.prefix,
      });
      stops.push(() => node.stop());
    };
    const router = async () => {
      const routers = await startAgents(bus, [{ name: "m", strategy: STRATEGIES.momentum }], {
        log: quiet,
        topicPrefix: topics.prefix,
        tools: tradingToolDefinitions(DEFAULT_TRADE_CONFIG),
      });
      stops.push(async () => {
        await Promise.all(routers.map((one) => one.stop()));
      });
    };
    try {
      if (first === "chat node") await chat();
      if (first === "arena topics") await bus.ensureTopics([...topics.fixed]);
      await router();
      await chat();
      assert.equal(await partitions(bus, topics.chat().topic), CHAT_TOPIC_PARTITIONS);
    } finally {
      for (const stop of stops.reverse()) await stop();
      await bus.close();
    }
  });
}

Deno.test("dead letters go to the prefixed topic, found from the source topic's prefix", () => {
  assert.equal(deadLetterTopicFor("x3.agent_router.input"), "x3.arena.dead_letter");
  assert.equal(deadLetterTopicFor("x3.arena.activity"), "x3.arena.dead_letter");
  assert.equal(deadLetterTopicFor("x3.ai_prompted"), "x3.arena.dead_letter");
  assert.equal(deadLetterTopicFor("x3.ai_prompted.gpt5"), "x3.arena.dead_letter");
  assert.equal(
    deadLetterTopicFor("e2e.a-1.tool_node.calculator.request"),
    "e2e.a-1.arena.dead_letter",
  );
  assert.equal(deadLetterTopicFor("x3.agent_router.private.scalper"), "x3.arena.dead_letter");
  assert.equal(deadLetterTopicFor("agent_router.input"), "arena.dead_letter");
  assert.equal(deadLetterTopicFor("some-other-topic"), "arena.dead_letter");
});

Deno.test("one bad record read by three groups is dead-lettered once, on the prefixed topic", async () => {
  const bus = new MemoryBus();
  const topics = arenaTopics("x3.");
  const subscriptions = [];
  try {
    await bus.ensureTopics([...topics.fixed]);
    let valid = 0;
    for (const group of ["momentum", "brainrot-daytrader", "scalper"]) {
      subscriptions.push(
        await subscribeMessages(bus, {
          groupId: group,
          topics: [topics.snapshots.topic],
          schema: z.object({ tick: z.number() }),
          log: quiet,
          handler: () => {
            valid++;
            return Promise.resolve();
          },
        }),
      );
    }
    await bus.publish(topics.snapshots.topic, [
      { value: "{not json" },
      { value: JSON.stringify({ tick: 1 }) },
    ]);
    const deadline = Date.now() + 2_000;
    while (valid < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(valid, 3);
    const letters: { key: string | null; letter: DeadLetter }[] = [];
    await bus.readAll(topics.deadLetter.topic, (record) => {
      letters.push({ key: record.key, letter: DeadLetter.parse(JSON.parse(record.value)) });
      return Promise.resolve();
    });
    assert.equal(letters.length, 1, "once per record, not once per agent");
    const [{ key, letter }] = letters as [typeof letters[0]];
    assert.equal(letter.sourceTopic, "x3.agent_router.input");
    assert.equal(letter.value, "{not json");
    assert.equal(
      key,
      deadLetterKey({
        topic: letter.sourceTopic,
        partition: letter.partition,
        offset: letter.offset,
        key: null,
        value: "",
        headers: {},
      }),
    );
    const unprefixed = [...(await bus.endOffsets("arena.dead_letter")).values()];
    assert.ok(unprefixed.every((end) => end === "0"), "nothing on the unprefixed topic");
  } finally {
    for (const subscription of subscriptions) await subscription.close();
    await bus.close();
  }
});

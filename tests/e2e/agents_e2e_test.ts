/**
 * End to end on the real Kafka broker: replay (lockstep) -> three routers -> two named chat nodes
 * on a fake OpenAI-compatible server (through npm:openai) -> tool nodes -> ledger.
 */

import assert from "node:assert/strict";
import type { Bus, Subscription } from "../../core/bus/bus.ts";
import { publishMessages, readAllMessages, subscribeMessages } from "../../core/bus/messages.ts";
import { ReplyInbox } from "../../core/bus/request_reply.ts";
import { arenaTopics } from "../../core/bus/topics.ts";
import { loadFixtureCandles, ReplayFeed, type ReplayResult } from "../../core/connector/replay.ts";
import { ActivityEvent } from "../../core/contracts/activity.ts";
import { ChatReply, type ChatRequest } from "../../core/contracts/chat.ts";
import { LedgerEvent, type TradeExecuted } from "../../core/contracts/ledger.ts";
import { createLogger, type Logger } from "../../core/log.ts";
import { OpenAIProvider } from "../../core/models/openai_provider.ts";
import { startChatNode } from "../../core/runtime/chat_node.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { startToolsNode } from "../../core/tools/tools_node.ts";
import { publishToolCatalog } from "../../core/runtime/tool_catalog.ts";
import { tradingToolDefinitions } from "../../core/agents/tool_definitions.ts";
import { DEFAULT_TRADE_CONFIG } from "../../core/ledger/trade.ts";
import { startAgents } from "../../core/agents/agents.ts";
import { defaultAgents } from "../../core/agents/strategies.ts";
import { type FakeReply, type RecordedRequest, startFakeOpenAI } from "../_fake_openai.ts";
import { testKafkaBus, uniqueName } from "../_kafka.ts";
import { startDeno, type TaskProcess } from "../_task_process.ts";

const API_KEY = "sk-e2e-fake-key-0123456789";
const TICKS = 3;

/** Units each agent buys per tick, so every fill can be traced to its account. */
const QUANTITY: Record<string, string> = {
  MOMENTUM: "0.001",
  BRAINROT: "0.002",
  SCALPER: "0.003",
};

/** Collects every activity event of an isolated arena until the test's cleanups run. */
async function collectActivity(
  bus: Bus,
  options: { prefix: string; log: Logger; cleanups: (() => Promise<void>)[] },
): Promise<ActivityEvent[]> {
  const activity: ActivityEvent[] = [];
  const collector = await subscribeMessages(bus, {
    groupId: `${options.prefix}activity`,
    topics: [arenaTopics(options.prefix).activity.topic],
    schema: ActivityEvent,
    log: options.log,
    fromBeginning: true,
    handler: (event) => {
      activity.push(event);
      return Promise.resolve();
    },
  });
  options.cleanups.push(() => collector.close());
  return activity;
}

/** Starts the tools node of an isolated arena; the test's cleanups stop it. */
async function startIsolatedTools(
  bus: Bus,
  options: {
    prefix: string;
    log: Logger;
    calculator: Calculator;
    cleanups: (() => Promise<void>)[];
  },
): Promise<void> {
  const tools = await startToolsNode(bus, {
    log: options.log,
    topics: arenaTopics(options.prefix),
    calculator: options.calculator,
    groupId: `${options.prefix}tools`,
    followerGroupPrefix: `${options.prefix}follower`,
  });
  options.cleanups.push(() => tools.stop());
}

/** Replays fixture ticks into an isolated arena, each tick waiting for every agent's decision. */
async function replayLockstep(
  bus: Bus,
  options: { prefix: string; agents: string[]; ticks: number; log: Logger },
): Promise<ReplayResult> {
  const topics = arenaTopics(options.prefix);
  return await new ReplayFeed({
    bus,
    source: await loadFixtureCandles(),
    maxTicks: options.ticks,
    lockstep: { agents: options.agents, timeoutMs: 30_000 },
    topics: {
      snapshots: topics.snapshots.topic,
      prices: topics.prices.topic,
      activity: topics.activity.topic,
    },
    log: options.log,
  }).run();
}

/** Every trade on an isolated arena's ledger, in order. */
async function readTrades(
  bus: Bus,
  options: { prefix: string; log: Logger },
): Promise<TradeExecuted[]> {
  const trades: TradeExecuted[] = [];
  await readAllMessages(bus, arenaTopics(options.prefix).ledger.topic, {
    schema: LedgerEvent,
    log: options.log,
    handler: (event) => {
      if (event.type === "trade_executed") trades.push(event);
    },
  });
  return trades;
}

function strategyOf(request: RecordedRequest): string {
  const system = String(request.body.messages[0]?.content ?? "");
  return /Your strategy: (MOMENTUM|BRAINROT|SCALPER)/.exec(system)?.[1] ?? "UNKNOWN";
}

/**
 * The scripted model: portfolio and calculator in one reply, then one buy of the first product
 * in the prompt, then a final answer. Reads only what an LLM would see (the HTTP request).
 */
function respond(request: RecordedRequest): FakeReply {
  const messages = request.body.messages;
  const lastUser = messages.findLastIndex((message) => message.role === "user");
  const turn = messages.slice(lastUser + 1);
  const calls = turn.flatMap((message) =>
    (message.tool_calls as { function: { name: string } }[] | undefined) ?? []
  );
  const usage = { promptTokens: 1000, completionTokens: 20 };
  if (calls.length === 0) {
    return {
      kind: "message",
      usage,
      toolCalls: [
        { name: "get_portfolio", arguments: "{}" },
        { name: "calculator", arguments: '{"expression":"100000 * 0.01"}' },
      ],
    };
  }
  if (!calls.some((call) => call.function.name === "execute_trade")) {
    const prompt = String(messages[lastUser]?.content ?? "");
    const product = /^([A-Z0-9]+-[A-Z0-9]+) px=/m.exec(prompt)?.[1] ?? "BTC-USD";
    const quantity = QUANTITY[strategyOf(request)] ?? "0.009";
    return {
      kind: "message",
      usage,
      toolCalls: [{
        name: "execute_trade",
        arguments: JSON.stringify({ product_id: product, quantity, action: "buy" }),
      }],
    };
  }
  return { kind: "message", usage, content: "Bought a little to test the pipes." };
}

Deno.test("agents e2e on Kafka: replay -> 3 routers -> 2 chat nodes (npm:openai) -> tools -> ledger", async () => {
  const prefix = `${uniqueName("e2e-agents")}.`;
  const log = createLogger("e2e", { level: "warn", secrets: [API_KEY] });
  const bus = testKafkaBus();
  const fake = startFakeOpenAI({ responder: respond });
  const calculator = new Calculator();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    await startIsolatedTools(bus, { prefix, log, calculator, cleanups });

    for (const [name, model] of [["node-a", "model-a"], ["node-b", "model-b"]] as const) {
      const node = await startChatNode(bus, {
        provider: new OpenAIProvider({ model, apiKey: API_KEY, baseURL: fake.baseURL }),
        name,
        log,
        secrets: [API_KEY],
        topicPrefix: prefix,
        groupId: `${prefix}chat.${name}`,
      });
      cleanups.push(() => node.stop());
    }

    const activity = await collectActivity(bus, { prefix, log, cleanups });

    const agents = defaultAgents();
    const names = agents.map((agent) => agent.name);
    const routers = await startAgents(bus, agents, {
      chatNodeByAgent: { momentum: "node-a", "brainrot-daytrader": "node-b", scalper: "node-b" },
      topicPrefix: prefix,
      groupIdPrefix: prefix,
      replyTimeoutMs: 20_000,
      log,
    });
    cleanups.push(async () => {
      await Promise.all(routers.map((router) => router.stop()));
    });

    const result = await replayLockstep(bus, { prefix, agents: names, ticks: TICKS, log });
    assert.equal(result.ticks, TICKS);

    // Every agent decided every tick, through its own chat node and model.
    for (const router of routers) {
      assert.equal(router.stats.decisions, TICKS, `${router.agent} decisions`);
      assert.equal(router.stats.outcomes.answered, TICKS, `${router.agent} answered`);
    }
    const trades = await readTrades(bus, { prefix, log });
    const expected: Record<string, { quantity: string; model: string }> = {
      momentum: { quantity: "0.001", model: "model-a" },
      "brainrot-daytrader": { quantity: "0.002", model: "model-b" },
      scalper: { quantity: "0.003", model: "model-b" },
    };
    for (const [agent, { quantity, model }] of Object.entries(expected)) {
      const own = trades.filter((trade) => trade.agent === agent);
      assert.equal(own.length, TICKS, `${agent} should have ${TICKS} trades, got ${own.length}`);
      for (const trade of own) {
        assert.equal(trade.side, "buy");
        assert.equal(Number(trade.quantity), Number(quantity), `${agent} traded another's size`);
      }
      const deadline = Date.now() + 10_000;
      while (
        activity.filter((event) => event.agent === agent && event.kind === "decision").length <
          TICKS && Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const mine = activity.filter((event) => event.agent === agent);
      const usage = mine.filter((event) => event.kind === "usage");
      assert.equal(usage.length, TICKS * 3, `${agent}: one usage event per model call`);
      for (const event of usage) {
        assert.equal(event.model, model);
        assert.equal(event.promptTokens, 1000);
      }
      const toolCalls = mine.filter((event) => event.kind === "tool_call");
      assert.equal(toolCalls.length, TICKS * 3, `${agent}: three tool calls per decision`);
      const decisions = mine.filter((event) => event.kind === "decision");
      assert.deepEqual(decisions.map((event) => event.outcome), Array(TICKS).fill("answered"));
    }
    assert.equal(trades.length, TICKS * 3);

    // The fake server saw momentum only on model-a, the other two only on model-b.
    for (const request of fake.requests) {
      const strategy = strategyOf(request);
      assert.equal(request.body.model, strategy === "MOMENTUM" ? "model-a" : "model-b");
      assert.deepEqual(
        request.body.tools?.map((tool) => tool.function.name).sort(),
        ["calculator", "execute_trade", "get_portfolio"],
      );
    }
    assert.equal(fake.requests.length, TICKS * 3 * 3);
    for (const event of activity) {
      assert.ok(!JSON.stringify(event).includes(API_KEY), "the API key leaked into activity");
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    calculator.close();
    await bus.close();
    await fake.close();
  }
});

/** The `deno run ...` arguments of a deno.json task, so the test runs its exact permissions. */
async function taskArgs(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const words = String(config.tasks[task]).split(/\s+/);
  assert.equal(words[0], "deno", `task ${task} should run deno`);
  return words.slice(1);
}

Deno.test("agents services on Kafka: deno task chat_node --model rules and deno task router run the three default agents", async () => {
  const prefix = `${uniqueName("e2e-services")}.`;
  const log = createLogger("e2e", { level: "warn" });
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS")!;
  const bus = testKafkaBus();
  const calculator = new Calculator();
  const services: TaskProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    await startIsolatedTools(bus, { prefix, log, calculator, cleanups });
    const activity = await collectActivity(bus, { prefix, log, cleanups });

    const common = ["--topic-prefix", prefix, "--bootstrap-servers", bootstrap];
    const env = { KAFKA_BOOTSTRAP_SERVERS: bootstrap };
    const chat = startDeno(
      "chat node",
      [...await taskArgs("chat_node"), "--model", "rules", "--name", "offline", ...common],
      { env },
    );
    services.push(chat);
    const router = startDeno(
      "router",
      [...await taskArgs("router"), "--chat-node-name", "offline", ...common],
      { env },
    );
    services.push(router);
    await chat.waitForLine(/"Chat node ready"/, 30_000);
    await router.waitForLine(/"Agents ready"/, 30_000);
    const names = ["momentum", "brainrot-daytrader", "scalper"];
    const ticks = 5;
    await replayLockstep(bus, { prefix, agents: names, ticks, log });
    const deadline = Date.now() + 10_000;
    while (
      activity.filter((event) => event.kind === "decision").length < ticks * 3 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const agent of names) {
      const mine = activity.filter((event) => event.agent === agent);
      const decisions = mine.filter((event) => event.kind === "decision");
      assert.deepEqual(decisions.map((event) => event.outcome), Array(ticks).fill("answered"));
      const usage = mine.filter((event) => event.kind === "usage");
      // The portfolio is in the prompt: one model call per tick, two when the agent trades.
      assert.ok(usage.length >= ticks, `${agent}: at least one model call per tick`);
      const portfolioReads = mine.filter((event) =>
        event.kind === "tool_call" && event.tool === "get_portfolio"
      );
      assert.equal(portfolioReads.length, 0, `${agent}: no get_portfolio round trip is needed`);
      for (const event of usage) {
        assert.equal(event.model, "rules");
        assert.equal(event.costUsd, 0);
      }
      const reasoning = mine.filter((event) => event.kind === "reasoning");
      assert.ok(reasoning.length >= ticks, `${agent}: reasoning every tick`);
      for (const event of reasoning) assert.match(event.text, /^rules/);
    }
    const trades = await readTrades(bus, { prefix, log });
    const toolCalls = activity.filter((event) =>
      event.kind === "tool_call" && event.tool === "execute_trade"
    );
    assert.ok(trades.length > 0, "the rules policies traded on the replay");
    assert.equal(trades.length, toolCalls.length, "every rules order filled in its account");
    for (const trade of trades) assert.ok(names.includes(trade.agent));
  } finally {
    const statuses = await Promise.all(services.map((service) => service.stop()));
    for (const status of statuses) {
      assert.ok(status.code === 143 || status.success, `service exited with ${status.code}`);
    }
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    calculator.close();
    await bus.close();
  }
});

Deno.test("chat node service with --model openai answers through npm:openai and never shows its key", async () => {
  const prefix = `${uniqueName("e2e-chat")}.`;
  const log = createLogger("e2e", { level: "warn" });
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS")!;
  const key = "sk-live-looking-SECRET-abcdef123456";
  const fake = startFakeOpenAI();
  fake.enqueue(
    { kind: "error", status: 500, message: `upstream exploded for key ${key}` },
    { kind: "message", content: "hello", usage: { promptTokens: 42, completionTokens: 7 } },
    { kind: "error", status: 401, message: `Incorrect API key provided: ${key}` },
  );
  const bus = testKafkaBus();
  let service: TaskProcess | undefined;
  let inbox: ReplyInbox | undefined;
  const usage: ActivityEvent[] = [];
  let collector: Subscription | undefined;
  const topics = arenaTopics(prefix);
  try {
    collector = await subscribeMessages(bus, {
      groupId: `${prefix}activity`,
      topics: [topics.activity.topic],
      schema: ActivityEvent,
      log,
      fromBeginning: true,
      handler: (event) => {
        if (event.kind === "usage") usage.push(event);
        return Promise.resolve();
      },
    });
    service = startDeno("chat node", [
      ...await taskArgs("chat_node"),
      ...["--name", "gpt", "--model-id", "fake-model", "--base-url", fake.baseURL],
      ...["--reasoning-effort", "low", "--log-level", "debug", "--topic-prefix", prefix],
      ...["--price-input", "1000", "--price-output", "2000"],
      ...["--bootstrap-servers", bootstrap],
    ], { env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap, OPENAI_API_KEY: key } });
    await service.waitForLine(/"Chat node ready"/, 30_000);
    const replyTopic = `${prefix}replies`;
    await bus.ensureTopics([{ topic: replyTopic, partitions: 1, retentionMs: 3_600_000 }]);
    inbox = await ReplyInbox.open(bus, { replyTopic, groupId: `${prefix}inbox`, log });
    const ask = async (id: string) => {
      const waiting = inbox!.expect(id, 30_000);
      const request: ChatRequest = {
        v: 1,
        correlationId: id,
        replyTo: replyTopic,
        agent: "momentum",
        messages: [{ role: "system", content: "Trade." }, { role: "user", content: "Tick" }],
        tools: [],
      };
      await publishMessages(bus, topics.chat("gpt").topic, [{
        key: "momentum",
        message: request,
      }]);
      return ChatReply.parse(await waiting);
    };
    const first = await ask("c1");
    assert.equal(first.ok, true);
    assert.equal(first.model, "fake-model");
    if (first.ok) assert.equal(first.message.content, "hello");
    const second = await ask("c2");
    assert.equal(second.ok, false);
    if (!second.ok) {
      assert.match(second.error, /401/);
      assert.ok(!second.error.includes(key), "the key leaked into an error reply");
    }
    assert.equal(fake.requests.length, 3, "a 500 is retried, a 401 is not");
    assert.equal(fake.requests[0]!.authorization, `Bearer ${key}`);
    assert.equal(fake.requests[0]!.body.reasoning_effort, "low");
    const deadline = Date.now() + 10_000;
    while (usage.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(usage.length, 1, "one usage event for the one successful call");
    const event = usage[0]!;
    assert.ok(event.kind === "usage");
    assert.equal(event.agent, "momentum");
    assert.equal(event.model, "fake-model");
    assert.equal(event.promptTokens, 42);
    assert.ok(
      Math.abs(event.costUsd - (42 * 1000 + 7 * 2000) / 1e6) < 1e-9,
      `cost ${event.costUsd}`,
    );
  } finally {
    await collector?.close();
    await inbox?.close();
    await service?.stop();
    await bus.close();
    await fake.close();
  }
  assert.ok(service.lines.some((line) => /retrying/.test(line)), "the retry is logged");
  for (const line of service.lines) {
    assert.ok(!line.includes(key), `the API key leaked into a log line: ${line}`);
  }
});

Deno.test("router service loads a strategy file with --allow-read for that file only", async () => {
  const prefix = `${uniqueName("e2e-strategy")}.`;
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS")!;
  const path = await Deno.makeTempFile({ suffix: ".json" });
  let service: TaskProcess | undefined;
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        name: "contrarian",
        prompt: "Fade every strong move in the 1-minute candles.",
        rules: "scalper",
      }),
    );
    // Routers offer what a tools node published: stand in for one with the desk's catalog.
    const bus = testKafkaBus();
    try {
      await publishToolCatalog(bus, tradingToolDefinitions(DEFAULT_TRADE_CONFIG), {
        topics: arenaTopics(prefix),
      });
    } finally {
      await bus.close();
    }
    const args = await taskArgs("router");
    args.splice(args.length - 1, 0, `--allow-read=${path}`);
    service = startDeno(
      "router",
      [
        ...args,
        "--strategy-file",
        path,
        "--topic-prefix",
        prefix,
        "--bootstrap-servers",
        bootstrap,
      ],
      { env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap } },
    );
    await service.waitForLine(/"Agents ready".*contrarian \(contrarian\)/, 30_000);
  } finally {
    if (service) {
      const status = await service.stop();
      assert.equal(status.code, 143, "SIGTERM stops the router gracefully");
    }
    await Deno.remove(path);
  }
});

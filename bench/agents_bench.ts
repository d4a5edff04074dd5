/**
 * Agents bench: orchestration overhead per decision on Kafka (snapshot published -> decision
 * event received) for 3, 30 and 300 agents with a zero-latency scripted model making two tool
 * calls per decision against instant tools; router memory per agent; prompt tokens per decision
 * at tick 1 and tick 1,000 with the rules model on the bundled replay (bounded memory).
 * Prints markdown tables; `--agents 3,30,300` picks the rows (then only the overhead table and the
 * memory line), `--json` prints one JSON line per row `{agents, p50Ms, p99Ms, decisions, startMs}`
 * and nothing else on standard output.
 *
 * Run: `deno task bench agents` (or `deno run --allow-read --allow-env
 * --allow-net=127.0.0.1,localhost bench/agents_bench.ts` with KAFKA_BOOTSTRAP_SERVERS set).
 */

import { parseArgs } from "node:util";
import { countTokens } from "gpt-tokenizer";
import { Kafka, logLevel } from "kafkajs";
import { z } from "zod";
import type { Bus, Subscription } from "../core/bus/bus.ts";
import {
  KAFKA_CLIENTS,
  type KafkaClient,
  openKafkaBus,
  type ProbingBus,
} from "../core/bus/kafka_client.ts";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import { publishMessages, subscribeMessages } from "../core/bus/messages.ts";
import { arenaTopics } from "../core/bus/topics.ts";
import { loadFixtureCandles, ReplayFeed } from "../core/connector/replay.ts";
import { ActivityEvent } from "../core/contracts/activity.ts";
import type { AssistantMessage, ChatMessage } from "../core/contracts/chat.ts";
import { createLogger } from "../core/log.ts";
import { RulesModel } from "../core/models/rules_model.ts";
import type { AgentRouter } from "../core/runtime/agent_router.ts";
import { startChatNode } from "../core/runtime/chat_node.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../core/runtime/model_provider.ts";
import { serveTool } from "../core/runtime/tool_node.ts";
import type { ToolSpec } from "../core/runtime/tool_spec.ts";
import { startAgents } from "../core/agents/agents.ts";
import { type AgentSpec, STRATEGIES } from "../core/agents/strategies.ts";
import { Calculator } from "../core/tools/calculator.ts";
import { startToolsNode } from "../core/tools/tools_node.ts";
import { tradingToolDefinitions } from "../core/agents/tool_definitions.ts";
import { DEFAULT_TRADE_CONFIG } from "../core/ledger/trade.ts";
import { snapshot } from "../tests/runtime/_support.ts";
import { measureRoundTrips, percentile } from "./_bus_measures.ts";

/**
 * What the routers of the overhead and memory rows offer (no tools node publishes a catalog
 * there): the desk's definitions, so requests have the size they have in an arena.
 */
const OFFERED_TOOLS = tradingToolDefinitions(DEFAULT_TRADE_CONFIG);

const log = createLogger("bench.agents", { level: "error" });
const TICK_TIMEOUT_MS = 90_000;
/**
 * Decisions made before measuring starts (whole ticks). At 3 agents ticks 11-30 of a new process
 * still averaged 22-29 ms against 16-20 ms after tick 50 (V8 compiling the hot paths).
 */
const WARM_UP_DECISIONS = 150;
/** Longest time spent starting routers for one row before it is reported as not measured. */
const START_BUDGET_MS = 90_000;

/** A zero-latency model: get_portfolio, then execute_trade, then a final answer. */
class TwoToolModel implements ModelProvider {
  readonly model = "scripted";
  complete(request: ModelRequest): Promise<ModelResponse> {
    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    const calls = request.messages.slice(lastUser + 1).filter((m) => m.role === "tool").length;
    const tick = request.snapshot?.tick ?? 0;
    let message: AssistantMessage;
    if (calls === 0) {
      message = {
        role: "assistant",
        content: null,
        toolCalls: [{ id: `${request.agent}.${tick}.p`, name: "get_portfolio", arguments: "{}" }],
      };
    } else if (calls === 1) {
      message = {
        role: "assistant",
        content: null,
        toolCalls: [{
          id: `${request.agent}.${tick}.t`,
          name: "execute_trade",
          arguments: '{"product_id":"BTC-USD","quantity":"0.001","action":"buy"}',
        }],
      };
    } else {
      message = { role: "assistant", content: "done", toolCalls: [] };
    }
    return Promise.resolve({
      message,
      usage: { promptTokens: 0, completionTokens: 0 },
      model: "scripted",
    });
  }
}

/** Instant stand-ins for the two tools: fixed answers, no ledger. */
function instantTool(name: string, content: string): ToolSpec {
  return {
    name,
    description: `Instant ${name} for the bench`,
    input: z.object({}).passthrough(),
    run: () => Promise.resolve({ ok: true, content }),
  };
}

function kafkaBus(clientId: string): Promise<ProbingBus> {
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS")?.trim();
  if (!bootstrap) {
    throw new Error("KAFKA_BOOTSTRAP_SERVERS is not set: run `deno task bench agents`");
  }
  return openKafkaBus(cli.client, {
    brokers: [bootstrap],
    clientId,
    log,
    rebalanceTimeoutMs: 20_000,
  });
}

/**
 * Starts the agents as one router process does (one shared market subscription, reply inbox and
 * activity publisher), retrying twice: a kafkajs admin call sometimes fails transiently while
 * many topics are created; retries are counted.
 */
let startRetries = 0;
async function startRouters(
  bus: Bus,
  agents: AgentSpec[],
  prefix: string,
): Promise<AgentRouter[]> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startAgents(bus, agents, {
        log,
        topicPrefix: prefix,
        groupIdPrefix: prefix,
        replyTimeoutMs: 30_000,
        tools: OFFERED_TOOLS,
      });
    } catch (error) {
      if (attempt >= 3) throw error;
      startRetries++;
    }
  }
}

/**
 * Deletes the topics and consumer groups a run created (every name starts with its prefix), so
 * repeated runs do not leave hundreds of partitions on the broker.
 */
async function dropPrefix(prefix: string): Promise<void> {
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS")?.trim();
  if (!bootstrap) return;
  const admin = new Kafka({
    brokers: bootstrap.split(","),
    clientId: "bench.agents.cleanup",
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups
      .map((group) => group.groupId)
      .filter((group) => group.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

interface OverheadResult {
  agents: number;
  ticks: number;
  samples: number;
  p50: number;
  p99: number;
  startSeconds: number;
  heapPerAgentKiB: number;
  rssPerAgentKiB: number;
}

/** Starts N routers on Kafka and measures snapshot -> decision for `ticks` lockstep ticks. */
async function overhead(agentCount: number, ticks: number): Promise<OverheadResult> {
  const prefix = `bench-agents.${crypto.randomUUID().slice(0, 8)}.`;
  const topics = arenaTopics(prefix);
  // One Kafka client per role, as the deployed services each have their own (a shared client
  // would queue every role's publishes behind one produce request).
  const [chatBus, toolsBus, routerBus, benchBus] = await Promise.all(
    ["chat", "tools", "router", "observer"].map((role) =>
      kafkaBus(`bench.agents.${agentCount}.${role}`)
    ),
  );
  const buses = [chatBus!, toolsBus!, routerBus!, benchBus!];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const chat = await startChatNode(chatBus!, {
      provider: new TwoToolModel(),
      log,
      topicPrefix: prefix,
      groupId: `${prefix}chat`,
    });
    cleanups.push(() => chat.stop());
    for (
      const spec of [
        instantTool("get_portfolio", '{"cash":"100000"}'),
        instantTool("execute_trade", '{"status":"executed"}'),
      ]
    ) {
      const subscription = await serveTool(toolsBus!, spec, {
        log,
        topicPrefix: prefix,
        groupId: `${prefix}tool.${spec.name}`,
      });
      cleanups.push(() => subscription.close());
    }
    const pending = new Map<number, { started: number; seen: number; done: () => void }>();
    const latencies: number[] = [];
    const activity: Subscription = await subscribeMessages(benchBus!, {
      groupId: `${prefix}activity`,
      topics: [topics.activity.topic],
      schema: ActivityEvent,
      log,
      fromBeginning: false,
      handler: (event) => {
        if (event.kind !== "decision" || event.tick === undefined) return Promise.resolve();
        const waiting = pending.get(event.tick);
        if (!waiting) return Promise.resolve();
        latencies.push(performance.now() - waiting.started);
        if (++waiting.seen === agentCount) waiting.done();
        return Promise.resolve();
      },
    });
    cleanups.push(() => activity.close());

    const agents: AgentSpec[] = Array.from({ length: agentCount }, (_, i) => ({
      name: `bench-${i + 1}`,
      strategy: STRATEGIES.momentum,
    }));
    const memoryBefore = Deno.memoryUsage();
    const startClock = performance.now();
    const routers: AgentRouter[] = [];
    cleanups.push(async () => {
      await Promise.all(routers.map((router) => router.stop()));
    });
    let budget: ReturnType<typeof setTimeout> | undefined;
    const overBudget = new Promise<never>((_, reject) => {
      budget = setTimeout(
        () => reject(new Error(`${agentCount} routers did not start within ${START_BUDGET_MS} ms`)),
        START_BUDGET_MS,
      );
    });
    try {
      routers.push(...await Promise.race([startRouters(routerBus!, agents, prefix), overBudget]));
    } finally {
      clearTimeout(budget);
    }
    console.error(`started ${routers.length}/${agentCount} routers`);
    const startSeconds = (performance.now() - startClock) / 1000;
    const memoryAfter = Deno.memoryUsage();
    // Let every group settle before measuring.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    // The first ticks warm every consumer, connection and V8's compiler up and are not
    // counted: at least WARM_UP_DECISIONS decisions (a cold run's first ticks take 2-4x longer).
    const warmUpTicks = Math.ceil(WARM_UP_DECISIONS / agentCount);
    for (let tick = 1; tick <= warmUpTicks + ticks; tick++) {
      const done = new Promise<void>((resolve) => {
        pending.set(tick, { started: performance.now(), seen: 0, done: resolve });
      });
      await publishMessages(benchBus!, topics.snapshots.topic, [{ message: snapshot(tick) }]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), TICK_TIMEOUT_MS);
      });
      const outcome = await Promise.race([done, timeout]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        throw new Error(
          `Tick ${tick} with ${agentCount} agents did not finish within ${
            TICK_TIMEOUT_MS / 1000
          } s`,
        );
      }
      if (tick === warmUpTicks) latencies.length = 0;
    }
    latencies.sort((a, b) => a - b);
    return {
      agents: agentCount,
      ticks,
      samples: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      startSeconds,
      heapPerAgentKiB: (memoryAfter.heapUsed - memoryBefore.heapUsed) / agentCount / 1024,
      rssPerAgentKiB: (memoryAfter.rss - memoryBefore.rss) / agentCount / 1024,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await Promise.all(buses.map((bus) => bus.close()));
    await dropPrefix(prefix).catch((error) => {
      console.error(`Could not delete the bench topics ${prefix}*: ${(error as Error).message}`);
    });
  }
}

/**
 * The floor of a decision on this broker and client, measured in the same run: its six
 * request/replies (the router's portfolio read, three chat calls, two tool calls) and two
 * one-way hops (snapshot in, decision out, about one more round trip) = 7 bare round trips.
 */
async function decisionFloor(): Promise<{ roundTripMs: number; floorMs: number }> {
  const run = `bench-agents-floor.${crypto.randomUUID().slice(0, 8)}`;
  const bus = await kafkaBus(`bench.agents.floor`);
  try {
    const { samples } = await measureRoundTrips(bus, run, log);
    const roundTripMs = percentile(samples, 50);
    return { roundTripMs, floorMs: 7 * roundTripMs };
  } finally {
    await bus.close();
    await dropPrefix(`bench.${run}.`).catch(() => {});
  }
}

/** Heap and RSS per router on the in-memory bus (the router itself, without Kafka clients). */
async function routerMemory(agentCount: number): Promise<{ heapKiB: number }> {
  const bus = new MemoryBus();
  const agents: AgentSpec[] = Array.from({ length: agentCount }, (_, i) => ({
    name: `mem-${i + 1}`,
    strategy: STRATEGIES.momentum,
  }));
  const before = Deno.memoryUsage();
  const routers = await startAgents(bus, agents, { log, tools: OFFERED_TOOLS });
  const after = Deno.memoryUsage();
  await Promise.all(routers.map((router) => router.stop()));
  await bus.close();
  return {
    heapKiB: (after.heapUsed - before.heapUsed) / agentCount / 1024,
  };
}

/** Records the first model call of each decision (system prompt, memory, market prompt). */
class RecordingModel implements ModelProvider {
  readonly model = "rules";
  readonly first = new Map<string, ChatMessage[]>();
  readonly #inner = new RulesModel();
  complete(request: ModelRequest): Promise<ModelResponse> {
    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    if (lastUser === request.messages.length - 1 && request.snapshot) {
      this.first.set(`${request.agent}@${request.snapshot.tick}`, request.messages);
    }
    return this.#inner.complete(request);
  }
}

function tokensOf(messages: ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + countTokens(message.content ?? ""), 0);
}

/** Rules-model arena on the in-memory bus over the bundled replay for `ticks` lockstep ticks. */
async function promptTokens(
  ticks: number,
): Promise<
  {
    agent: string;
    tick1: number;
    tick10: number;
    tickN: number;
    memory1: number;
    memoryN: number;
  }[]
> {
  const bus: Bus = new MemoryBus();
  const model = new RecordingModel();
  const calculator = new Calculator();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const tools = await startToolsNode(bus, { log, calculator });
    cleanups.push(() => tools.stop());
    const chat = await startChatNode(bus, { provider: model, log });
    cleanups.push(() => chat.stop());
    const agents = [
      { name: "momentum", strategy: STRATEGIES.momentum },
      { name: "brainrot-daytrader", strategy: STRATEGIES.brainrot },
      { name: "scalper", strategy: STRATEGIES.scalper },
    ];
    const routers = await startAgents(bus, agents, { log });
    cleanups.push(async () => {
      await Promise.all(routers.map((router) => router.stop()));
    });
    await new ReplayFeed({
      bus,
      source: await loadFixtureCandles(),
      maxTicks: ticks,
      lockstep: { agents: agents.map((agent) => agent.name), timeoutMs: 30_000 },
      log,
    }).run();
    return agents.map((agent) => {
      const first = model.first.get(`${agent.name}@1`) ?? [];
      const last = model.first.get(`${agent.name}@${ticks}`) ?? [];
      const memory = (messages: ChatMessage[]) =>
        messages.slice(1).filter((m) => m.role === "system").reduce(
          (sum, m) => sum + countTokens(m.content ?? ""),
          0,
        );
      return {
        agent: agent.name,
        tick1: tokensOf(first),
        tick10: tokensOf(model.first.get(`${agent.name}@10`) ?? []),
        tickN: tokensOf(last),
        memory1: memory(first),
        memoryN: memory(last),
      };
    });
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    calculator.close();
    await bus.close();
  }
}

/** Parses `--agents 3,30,300` (or bare counts), `--json` and `--help`. */
function parseBenchArgs(
  args: string[],
): { sizes: number[]; json: boolean; custom: boolean; client: KafkaClient } {
  const { values, positionals } = parseArgs({
    args,
    options: {
      agents: { type: "string" },
      json: { type: "boolean", default: false },
      "kafka-client": { type: "string", default: "kafkajs" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(
      "Usage: deno task bench agents [--agents 3,30,300] [--json] [--kafka-client C]\n\n" +
        "  --agents N,M  agent counts, one row each (default 3,30,300)\n" +
        "  --kafka-client kafkajs|platformatic  the Kafka client (default kafkajs)\n" +
        "  --json        one JSON line per row: {agents, p50Ms, p99Ms, decisions, startMs}",
    );
    Deno.exit(0);
  }
  const texts = [...(values.agents?.split(",") ?? []), ...positionals].map((text) => text.trim())
    .filter((text) => text !== "");
  const sizes = texts.map(Number);
  const bad = texts.find((_, index) => !Number.isInteger(sizes[index]) || sizes[index]! < 1);
  if (bad !== undefined) {
    console.error(`Agent counts must be positive integers such as 3,30,300, got ${bad}`);
    Deno.exit(2);
  }
  const client = values["kafka-client"] as KafkaClient;
  if (!KAFKA_CLIENTS.includes(client)) {
    console.error(`--kafka-client must be one of ${KAFKA_CLIENTS.join(", ")}, got ${client}`);
    Deno.exit(2);
  }
  return {
    client,
    sizes: sizes.length > 0 ? sizes : [3, 30, 300],
    json: values.json,
    custom: sizes.length > 0,
  };
}

const cli = parseBenchArgs(Deno.args);
// About 300 measured decisions per row (900 at 300 agents: a tick is the least).
const ticksFor: Record<number, number> = { 3: 100, 30: 10, 300: 3 };
const ticksOf = (agents: number) => ticksFor[agents] ?? 3;
if (cli.json) {
  let failed = false;
  for (const agents of cli.sizes) {
    try {
      const result = await overhead(agents, ticksOf(agents));
      console.log(JSON.stringify({
        agents: result.agents,
        p50Ms: Number(result.p50.toFixed(2)),
        p99Ms: Number(result.p99.toFixed(2)),
        decisions: result.samples,
        startMs: Math.round(result.startSeconds * 1000),
      }));
    } catch (error) {
      failed = true;
      console.error(`${agents} agents: ${(error as Error).stack}`);
    }
  }
  Deno.exit(failed ? 1 : 0);
}
console.log("### Agents: orchestration overhead per decision (Kafka)\n");
console.log(
  "Zero-latency scripted model, two tool calls per decision (get_portfolio, then execute_trade, " +
    "instant tools), one chat node (10 workers), all agents in one router (one market " +
    "subscription and one reply inbox shared by all agents); chat node, tools, router and the " +
    "observer each on a Kafka client of their own, in one process; latency = snapshot published -> " +
    "the agent's `decision` event received. All agents decide every tick at once, so with many " +
    "agents the figure is mostly queueing behind one chat node and one process. Warm-up ticks " +
    `(at least ${WARM_UP_DECISIONS} decisions) are not counted.\n`,
);
const floor = await decisionFloor();
console.log(
  `Floor in this run (${cli.client}): bare request/reply round trip p50 ` +
    `${floor.roundTripMs.toFixed(2)} ms; a decision's floor is 7 of them = ` +
    `${floor.floorMs.toFixed(1)} ms.\n`,
);
console.log(
  "| agents | ticks | decisions | p50 ms | p99 ms | p50 / floor | router start s | heap KiB/agent | RSS KiB/agent |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const agents of cli.sizes) {
  try {
    const result = await overhead(agents, ticksOf(agents));
    console.log(
      `| ${result.agents} | ${result.ticks} | ${result.samples} | ${result.p50.toFixed(1)} | ${
        result.p99.toFixed(1)
      } | ${(result.p50 / floor.floorMs).toFixed(1)}x | ${result.startSeconds.toFixed(2)} | ${
        result.heapPerAgentKiB.toFixed(0)
      } | ${result.rssPerAgentKiB.toFixed(0)} |`,
    );
  } catch (error) {
    console.error((error as Error).stack);
    console.log(`| ${agents} | - | - | failed: ${(error as Error).message} | | | | | |`);
  }
}
if (startRetries > 0) {
  console.log(`\nRouter starts retried after a kafkajs admin error: ${startRetries}.`);
}
const inMemory = await routerMemory(1000);
console.log(
  "\nMemory per agent: Deno.memoryUsage() before/after starting the routers, no forced GC " +
    "(small counts are noisy). On Kafka a router process holds two consumers for all its agents " +
    `(the market-data group and the reply inbox). The router alone (1,000 routers on the in-memory bus): ` +
    `${inMemory.heapKiB.toFixed(1)} KiB heap per agent.\n`,
);

if (!cli.custom) {
  const TOKEN_TICKS = 1000;
  console.log("### Agents: prompt tokens per decision (rules model, bundled replay)\n");
  console.log(
    `First model call of a decision (system prompt + memory of the last decisions + market ` +
      `prompt), gpt-tokenizer counts, three default agents, in-memory bus, lockstep.\n`,
  );
  console.log(
    `| agent | tick 1 | tick 10 | tick ${TOKEN_TICKS} | memory block tick 1 | memory block tick ${TOKEN_TICKS} |`,
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const row of await promptTokens(TOKEN_TICKS)) {
    console.log(
      `| ${row.agent} | ${row.tick1} | ${row.tick10} | ${row.tickN} | ${row.memory1} | ${row.memoryN} |`,
    );
  }
}

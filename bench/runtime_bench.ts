/**
 * Runtime bench: orchestration overhead per decision (snapshot published -> decision event seen)
 * with a zero-latency model and two tool calls per decision, for 3, 30 and 300 agents on Kafka;
 * router heap per agent; prompt tokens per decision at tick 1 and tick 1,000 (bounded memory).
 *
 * Run: `deno run --allow-read --allow-env --allow-run --allow-net=127.0.0.1,localhost
 * bench/runtime_bench.ts`
 * with KAFKA_BOOTSTRAP_SERVERS set. `--agents 3,30` limits the Kafka rows.
 */

import { countTokens } from "gpt-tokenizer";
import { z } from "zod";
import type { Bus, Subscription } from "../core/bus/bus.ts";
import { KafkaBus } from "../core/bus/kafka_bus.ts";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import { publishMessages, subscribeMessages } from "../core/bus/messages.ts";
import { ACTIVITY_TOPIC, AGENT_INPUT_TOPIC } from "../core/bus/topics.ts";
import { ActivityEvent } from "../core/contracts/activity.ts";
import type { AssistantMessage, ChatMessage } from "../core/contracts/chat.ts";
import type { MarketSnapshot } from "../core/contracts/market.ts";
import { createLogger } from "../core/log.ts";
import { loadCandleCsv } from "../core/market/candles.ts";
import { CsvMarket } from "../core/market/csv_market.ts";
import { renderSnapshotPrompt } from "../core/market/prompt.ts";
import { AgentRouter } from "../core/runtime/agent_router.ts";
import { startChatNode } from "../core/runtime/chat_node.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../core/runtime/model_provider.ts";
import { serveTool } from "../core/runtime/tool_node.ts";
import { toolDefinition, type ToolSpec } from "../core/runtime/tool_spec.ts";

const log = createLogger("bench.runtime", { level: "error" });
const START_BATCH = 10;
const FIXTURES = new URL("../fixtures/market/", import.meta.url);
const market = new CsvMarket([
  loadCandleCsv(Deno.readTextFileSync(new URL("BTC-USD-1m.csv", FIXTURES)), "BTC-USD"),
  loadCandleCsv(Deno.readTextFileSync(new URL("ETH-USD-1m.csv", FIXTURES)), "ETH-USD"),
]);

const portfolio: ToolSpec = {
  name: "get_portfolio",
  description: "Shows cash, positions and equity",
  input: z.object({}),
  run: (_input, context) =>
    Promise.resolve({
      ok: true,
      content: JSON.stringify({
        agent: context.agent,
        cash: "99500.00",
        positions: [{ productId: "BTC-USD", quantity: "0.1", averagePrice: "4650.00" }],
        equity: "99965.00",
      }),
    }),
};

const trade: ToolSpec = {
  name: "execute_trade",
  description: "Buys or sells at the best price",
  input: z.object({
    productId: z.string(),
    side: z.enum(["buy", "sell"]),
    quantity: z.string(),
  }),
  run: (input: { productId: string; side: string; quantity: string }) =>
    Promise.resolve({
      ok: true,
      content: JSON.stringify({ filled: true, ...input, fillPrice: "4651.20", fee: "0.00" }),
    }),
};

const REASONING = "BTC is above its 15-minute average and the 5-minute candles make higher lows, " +
  "so momentum favours a small long. ETH lags; I keep cash for a better entry and cap risk at " +
  "one percent of equity with a mental stop below the last 1-minute low.";

/** Zero-latency model: step 1 calls both tools, step 2 answers. */
class InstantModel implements ModelProvider {
  readonly model = "bench";
  complete(request: ModelRequest): Promise<ModelResponse> {
    const first = !request.messages.some((message) => message.role === "tool");
    const message: AssistantMessage = first
      ? {
        role: "assistant",
        content: "Checking my portfolio and placing a small order.",
        toolCalls: [
          { id: "call_1", name: "get_portfolio", arguments: "{}" },
          {
            id: "call_2",
            name: "execute_trade",
            arguments: '{"productId":"BTC-USD","side":"buy","quantity":"0.01"}',
          },
        ],
      }
      : { role: "assistant", content: REASONING, toolCalls: [] };
    return Promise.resolve({
      message,
      usage: { promptTokens: 0, completionTokens: 0 },
      model: this.model,
    });
  }
}

function snapshotAt(tick: number): MarketSnapshot {
  return market.tick(tick).snapshot;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Stack {
  routers: AgentRouter[];
  close(): Promise<void>;
}

async function startStack(bus: Bus, agents: string[], prefix: string): Promise<Stack> {
  const model = new InstantModel();
  const chat = await startChatNode(bus, {
    provider: model,
    log,
    topicPrefix: prefix,
    groupId: `${prefix}chat`,
    maxWorkers: 32,
  });
  const tools: Subscription[] = [];
  for (const spec of [portfolio, trade]) {
    tools.push(
      await serveTool(bus, spec, {
        log,
        topicPrefix: prefix,
        groupId: `${prefix}tool.${spec.name}`,
        concurrency: 8,
      }),
    );
  }
  const startAgent = (agent: string) =>
    AgentRouter.start(bus, {
      agent,
      systemPrompt: "You are a momentum day trader.",
      tools: [toolDefinition(portfolio), toolDefinition(trade)],
      renderPrompt: renderSnapshotPrompt,
      log,
      topicPrefix: prefix,
      groupId: `${prefix}${agent}`,
      replyTimeoutMs: 60_000,
    });
  // Start in batches: hundreds of consumers connecting at once time out on a small broker.
  const routers: AgentRouter[] = [];
  for (let i = 0; i < agents.length; i += START_BATCH) {
    routers.push(
      ...await Promise.all(agents.slice(i, i + START_BATCH).map((agent) => startAgent(agent))),
    );
  }
  return {
    routers,
    close: async () => {
      await Promise.all(routers.map((router) => router.stop()));
      await chat.stop();
      for (const subscription of tools) await subscription.close();
    },
  };
}

/** Lockstep ticks: publish one, wait for every agent's decision, record each agent's latency. */
async function overhead(
  bus: Bus,
  options: { agents: number; ticks: number; prefix: string },
): Promise<{ p50: number; p99: number; samples: number; startMs: number }> {
  const names = Array.from({ length: options.agents }, (_, i) => `bench-${i}`);
  const started = performance.now();
  const stack = await startStack(bus, names, options.prefix);
  const startMs = performance.now() - started;
  const decided = new Map<number, Map<string, number>>();
  let wake: (() => void) | undefined;
  const activity = await subscribeMessages(bus, {
    groupId: `${options.prefix}activity`,
    topics: [options.prefix + ACTIVITY_TOPIC],
    schema: ActivityEvent,
    log,
    fromBeginning: false,
    handler: (event) => {
      if (event.kind === "decision" && event.tick !== undefined) {
        let seen = decided.get(event.tick);
        if (!seen) decided.set(event.tick, seen = new Map());
        seen.set(event.agent, performance.now());
        wake?.();
      }
      return Promise.resolve();
    },
  });
  const latencies: number[] = [];
  try {
    for (let tick = 1; tick <= options.ticks; tick++) {
      const sent = performance.now();
      await publishMessages(bus, options.prefix + AGENT_INPUT_TOPIC, [{
        key: "market",
        message: snapshotAt(tick),
      }]);
      const deadline = sent + 120_000;
      while ((decided.get(tick)?.size ?? 0) < options.agents) {
        if (performance.now() > deadline) {
          throw new Error(`Tick ${tick}: only ${decided.get(tick)?.size ?? 0} agents decided`);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      if (tick > 1) { // tick 1 warms up connections and consumer fetch loops
        for (const at of decided.get(tick)!.values()) latencies.push(at - sent);
      }
    }
  } finally {
    await activity.close();
    await stack.close();
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    samples: latencies.length,
    startMs,
  };
}

/** Prompt tokens of the first model call at given ticks, one agent on the in-memory bus. */
async function promptTokens(
  ticks: number[],
): Promise<{ tokens: Map<number, number>; memoryBytes: number }> {
  const bus = new MemoryBus();
  const tokens = new Map<number, number>();
  const last = Math.max(...ticks);
  const model = new InstantModel();
  const counting: ModelProvider = {
    model: model.model,
    complete: (request) => {
      if (!request.messages.some((message: ChatMessage) => message.role === "tool")) {
        const text = request.messages.map((message) => message.content ?? "").join("\n");
        tokens.set(request.snapshot!.tick, countTokens(text));
      }
      return model.complete(request);
    },
  };
  const chat = await startChatNode(bus, { provider: counting, log });
  const tools = [await serveTool(bus, portfolio, { log }), await serveTool(bus, trade, { log })];
  const router = await AgentRouter.start(bus, {
    agent: "momentum",
    systemPrompt: "You are a momentum day trader.",
    tools: [toolDefinition(portfolio), toolDefinition(trade)],
    renderPrompt: renderSnapshotPrompt,
    log,
  });
  for (let tick = 1; tick <= last; tick++) {
    await publishMessages(bus, AGENT_INPUT_TOPIC, [{ key: "market", message: snapshotAt(tick) }]);
    const deadline = performance.now() + 10_000;
    while (router.stats.lastTick < tick) {
      if (performance.now() > deadline) throw new Error(`Prompt run stuck at tick ${tick}`);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  const memoryBytes = JSON.stringify(router.memory).length;
  await router.stop();
  await chat.stop();
  for (const subscription of tools) await subscription.close();
  await bus.close();
  return { tokens, memoryBytes };
}

/** Heap held per router, measured in a subprocess with V8's gc exposed. */
async function routerHeap(agents: number): Promise<string> {
  const script = new URL("./_runtime_heap.ts", import.meta.url).pathname;
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--v8-flags=--expose-gc", "--allow-read", "--allow-env", script, `${agents}`],
      stderr: "inherit",
    }).output();
    if (!output.success) return "Router heap per agent: measurement failed (see above)";
    const { perAgentBytes } = JSON.parse(new TextDecoder().decode(output.stdout));
    return `Router heap per agent (${agents} agents after 20 decisions each, in-memory bus, ` +
      `after GC): ${(perAgentBytes / 1024).toFixed(1)} KiB`;
  } catch (error) {
    return `Router heap per agent: not measured (${(error as Error).message}; needs --allow-run)`;
  }
}

const agentCounts = (() => {
  const index = Deno.args.indexOf("--agents");
  const raw = index >= 0 ? Deno.args[index + 1] ?? "" : "3,30,300";
  return raw.split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0);
})();

const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS");
if (!bootstrap) {
  console.error("KAFKA_BOOTSTRAP_SERVERS is not set: run `deno task bench` or export it");
  Deno.exit(1);
}

console.log("### Agent runtime\n");
console.log(
  "Orchestration overhead per decision on Kafka (snapshot published -> decision event seen by a " +
    "consumer), zero-latency model, 2 tool calls per decision, all agents in one router process:\n",
);
console.log("| agents | decisions measured | p50 ms | p99 ms | start-up ms |");
console.log("|---:|---:|---:|---:|---:|");
for (const agents of agentCounts) {
  const bus = new KafkaBus({
    brokers: [bootstrap],
    clientId: `bench-runtime-${agents}`,
    log,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    maxWaitTimeMs: 100,
  });
  try {
    const ticks = agents >= 300 ? 6 : agents >= 30 ? 11 : 31;
    const prefix = `bench.${crypto.randomUUID().slice(0, 8)}.`;
    const result = await overhead(bus, { agents, ticks, prefix }).catch((error: Error) => error);
    if (result instanceof Error) {
      console.log(`| ${agents} | failed: ${result.message} | | | |`);
      continue;
    }
    console.log(
      `| ${agents} | ${result.samples} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} | ${
        result.startMs.toFixed(0)
      } |`,
    );
  } finally {
    await bus.close();
  }
}

const { tokens, memoryBytes } = await promptTokens([1, 10, 1_000]);
const heap = await routerHeap(50);
console.log(`\n${heap}`);
console.log(
  `Prompt tokens of a decision's first model call (gpt-tokenizer, 2 products, memory of 5): ` +
    `tick 1: ${tokens.get(1)}, tick 10: ${tokens.get(10)}, tick 1,000: ${tokens.get(1_000)}. ` +
    `Memory state after 1,000 decisions: ${memoryBytes} bytes of JSON (5 summaries).`,
);

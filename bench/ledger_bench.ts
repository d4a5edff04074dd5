/**
 * Ledger bench: trades/s executed end to end on Kafka with durability on (tool request ->
 * ledger event acknowledged by the broker -> reply), and the time to rebuild 100,000 ledger
 * events (pure apply, JSON + validation + apply, and readAll from Kafka). The trades run twice:
 * as served (end offsets looked up only after a rebalance) and with a lookup per call, for
 * comparison under the same load. Prints markdown.
 *
 * Run: `deno run --allow-read --allow-env --allow-net=127.0.0.1,localhost bench/ledger_bench.ts`
 * with KAFKA_BOOTSTRAP_SERVERS set (the Kafka rows fail clearly without it).
 */

import { KafkaBus } from "../core/bus/kafka/mod.ts";
import { decodeRecord, encodeMessage } from "../core/bus/messages.ts";
import { arenaTopics } from "../core/bus/topics.ts";
import { LedgerEvent } from "../core/contracts/ledger.ts";
import { createLogger } from "../core/log.ts";
import {
  applyEvent,
  createLedgerState,
  DEFAULT_TRADE_CONFIG,
  executeTrade,
  rebuildState,
} from "../core/ledger/mod.ts";
import { executeTradeTool, LedgerService, serveTools } from "../core/tools/mod.ts";
import { openAccounts, tick } from "../tests/ledger/_fixtures.ts";
import { publishToolRequests, type ToolRequest } from "../tests/tools/_support.ts";

const EVENTS = 100_000;
const TRADES = Number(Deno.env.get("LEDGER_BENCH_TRADES") ?? 600);
const log = createLogger("bench", { level: "error" });

/** 100,000 realistic events: 10 agents buying and selling BTC and ETH. */
function generateEvents(): LedgerEvent[] {
  const state = createLedgerState();
  const agents = Array.from({ length: 10 }, (_, i) => `agent-${i}`);
  const events: LedgerEvent[] = openAccounts(state, { agents, cash: "100000000" });
  const quotes = [
    tick("BTC-USD", { bid: "4650.12", ask: "4652.69" }),
    tick("ETH-USD", { bid: "301.5", ask: "301.61" }),
  ];
  for (let i = 0; events.length < EVENTS; i++) {
    const agent = agents[i % agents.length]!;
    const quote = quotes[i % 2]!;
    const decision = executeTrade(state.accounts.get(agent)!, {
      agent,
      toolCallId: `call-${i}`,
      productId: quote.productId,
      quantity: (i % 7 + 1) / 100,
      action: Math.floor(i / 20) % 3 === 2 ? "sell" : "buy",
    }, { price: quote, config: DEFAULT_TRADE_CONFIG });
    if (!decision.ok) continue;
    events.push(decision.event);
    applyEvent(state, decision.event);
  }
  return events;
}

function timeIt(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

function kafka(): KafkaBus {
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS");
  if (!bootstrap) {
    throw new Error("KAFKA_BOOTSTRAP_SERVERS is not set: start a broker (deno task broker)");
  }
  return new KafkaBus({
    brokers: [bootstrap],
    clientId: "ledger-bench",
    log,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 200,
    maxWaitTimeMs: 50,
  });
}

async function kafkaRebuild(events: LedgerEvent[]): Promise<{ publishMs: number; readMs: number }> {
  const bus = kafka();
  const topic = arenaTopics(`bench.${crypto.randomUUID().slice(0, 8)}.`).ledger.topic;
  try {
    await bus.ensureTopics([{ topic, partitions: 6, retentionMs: 3_600_000 }]);
    let started = performance.now();
    for (let i = 0; i < events.length; i += 2_000) {
      await bus.publish(
        topic,
        events.slice(i, i + 2_000).map((event) => ({
          key: event.agent,
          value: encodeMessage(event),
        })),
      );
    }
    const publishMs = performance.now() - started;
    started = performance.now();
    const state = createLedgerState();
    await bus.readAll(topic, (record) => {
      const decoded = decodeRecord(LedgerEvent, record);
      if (decoded.ok) applyEvent(state, decoded.message);
      return Promise.resolve();
    });
    const readMs = performance.now() - started;
    if (state.applied !== events.length) {
      throw new Error(`Rebuilt ${state.applied} events from Kafka, expected ${events.length}`);
    }
    return { publishMs, readMs };
  } finally {
    await bus.close();
  }
}

/**
 * Trades end to end. `lookupPerCall` serves execute_trade without its assignment signal, so the
 * ledger looks its end offsets up before every call (how it worked before rebalances were
 * signalled; what a bus without the signal still does): the same run, for comparison.
 */
async function endToEndTrades(lookupPerCall: boolean): Promise<
  { ms: number; trades: number; p50: number; p99: number; lookups: number }
> {
  const bus = kafka();
  const prefix = `bench.${crypto.randomUUID().slice(0, 8)}.`;
  const topics = arenaTopics(prefix);
  const replyTopic = `${prefix}replies`;
  try {
    await bus.ensureTopics([
      { topic: topics.ledger.topic, partitions: 6, retentionMs: 3_600_000 },
      { topic: topics.toolRequest("execute_trade").topic, partitions: 6, retentionMs: 3_600_000 },
      { topic: replyTopic, partitions: 3, retentionMs: 3_600_000 },
    ]);
    await bus.publish(topics.prices.topic, [
      { key: "BTC-USD", value: encodeMessage(tick("BTC-USD", { bid: "4650.12", ask: "4652.69" })) },
    ]);
    const ledger = await LedgerService.start(bus, {
      log,
      ledgerTopic: topics.ledger.topic,
      priceTopic: topics.prices.topic,
    });
    const tool = executeTradeTool(ledger);
    const served = await serveTools(bus, [
      lookupPerCall ? { ...tool, onAssigned: undefined } : tool,
    ], {
      log,
      topicPrefix: prefix,
      groupId: `${prefix}tools`,
    });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let resolveAll = () => {};
    const allDone = new Promise<void>((resolve) => resolveAll = resolve);
    const inbox = await bus.subscribe({
      groupId: `${prefix}inbox`,
      topics: [replyTopic],
      concurrency: 3,
      handler: (record) => {
        const reply = JSON.parse(record.value) as { correlationId: string; ok: boolean };
        const sent = sentAt.get(reply.correlationId);
        if (sent !== undefined && reply.ok) {
          latencies.push(performance.now() - sent);
          sentAt.delete(reply.correlationId);
          if (latencies.length === TRADES) resolveAll();
        }
        return Promise.resolve();
      },
    });
    // Warm up: one trade per agent so group joins and account openings are not timed.
    const agents = Array.from({ length: 12 }, (_, i) => `bench-${i}`);
    const request = (agent: string, id: string): ToolRequest => ({
      agent,
      tool: "execute_trade",
      toolCallId: id,
      correlationId: id,
      arguments: { product_id: "BTC-USD", quantity: "0.001", action: "buy" },
      replyTo: replyTopic,
    });
    const warm = agents.map((agent) => request(agent, `warm-${agent}`));
    const warmDone = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (ledger.state.trades.size >= agents.length) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    await publishToolRequests(bus, warm, { prefix });
    await warmDone;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lookupsBefore = ledger.endOffsetLookups;
    const started = performance.now();
    const batch = Array.from({ length: TRADES }, (_, i) => {
      const id = `t-${i}`;
      sentAt.set(id, performance.now());
      return request(agents[i % agents.length]!, id);
    });
    await publishToolRequests(bus, batch, { prefix });
    const timeout = setTimeout(() => resolveAll(), 120_000);
    await allDone;
    clearTimeout(timeout);
    const ms = performance.now() - started;
    const lookups = ledger.endOffsetLookups - lookupsBefore;
    await inbox.close();
    for (const subscription of served) await subscription.close();
    await ledger.close();
    latencies.sort((a, b) => a - b);
    return {
      ms,
      trades: latencies.length,
      p50: latencies[Math.floor(latencies.length / 2)] ?? NaN,
      p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
      lookups,
    };
  } finally {
    await bus.close();
  }
}

const events = generateEvents();
const json = events.map((event) => JSON.stringify(event));
const pureMs = timeIt(() => rebuildState(events));
const parsedMs = timeIt(() => {
  const state = createLedgerState();
  for (const text of json) applyEvent(state, LedgerEvent.parse(JSON.parse(text)));
});
const rows: string[][] = [
  [
    `rebuild ${EVENTS.toLocaleString("en")} events, pure apply`,
    `${pureMs.toFixed(0)} ms`,
    `${(EVENTS / pureMs * 1000).toFixed(0)} events/s`,
  ],
  [
    `rebuild ${EVENTS.toLocaleString("en")} events, JSON + zod + apply`,
    `${parsedMs.toFixed(0)} ms`,
    `${(EVENTS / parsedMs * 1000).toFixed(0)} events/s`,
  ],
];
try {
  const rebuilt = await kafkaRebuild(events);
  rows.push([
    `rebuild ${EVENTS.toLocaleString("en")} events via readAll from Kafka`,
    `${rebuilt.readMs.toFixed(0)} ms`,
    `${(EVENTS / rebuilt.readMs * 1000).toFixed(0)} events/s (publishing them took ${
      (rebuilt.publishMs / 1000).toFixed(1)
    } s)`,
  ]);
  for (const lookupPerCall of [false, true]) {
    const trades = await endToEndTrades(lookupPerCall);
    rows.push([
      `trades end to end on Kafka (${trades.trades} trades, 12 agents, 1 replica, durable${
        lookupPerCall ? ", end offsets looked up per call" : ""
      })`,
      `${trades.ms.toFixed(0)} ms`,
      `${(trades.trades / trades.ms * 1000).toFixed(0)} trades/s; latency p50 ${
        trades.p50.toFixed(0)
      } ms, p99 ${trades.p99.toFixed(0)} ms; ${trades.lookups} ledger end-offset lookups`,
    ]);
  }
} catch (error) {
  rows.push(["Kafka rows", "failed", (error as Error).message]);
}
console.log("| ledger measurement | time | rate |\n|---|---|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);

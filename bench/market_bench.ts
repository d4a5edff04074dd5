/**
 * Market bench: replay throughput (snapshots/s onto the in-memory bus and onto Kafka) and
 * prompt tokens per snapshot, original layout vs ours. Prints a markdown table.
 *
 * Run: `deno run --allow-read --allow-env --allow-net=127.0.0.1,localhost bench/market_bench.ts`
 * with KAFKA_BOOTSTRAP_SERVERS set (the Kafka row fails clearly without it).
 */

import { countTokens } from "gpt-tokenizer";
import type { Bus } from "../core/bus/bus.ts";
import { KafkaBus } from "../core/bus/kafka/mod.ts";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import { arenaTopics } from "../core/bus/topics.ts";
import type { MarketTopics } from "../core/connector/publish.ts";
import { ReplayFeed } from "../core/connector/replay.ts";
import { createLogger } from "../core/log.ts";
import { loadCandleCsv, type ProductCandles } from "../core/market/candles.ts";
import { CsvMarket } from "../core/market/csv_market.ts";
import {
  renderSnapshotOriginal,
  renderSnapshotPlain,
  renderSnapshotPrompt,
} from "../core/market/prompt.ts";

const FIXTURES = new URL("../fixtures/market/", import.meta.url);
const log = createLogger("bench", { level: "warn" });

function fixture(files: [string, string][]): ProductCandles[] {
  return files.map(([file, id]) =>
    loadCandleCsv(Deno.readTextFileSync(new URL(file, FIXTURES)), id)
  );
}

const MAIN = fixture([["BTC-USD-1m.csv", "BTC-USD"], ["ETH-USD-1m.csv", "ETH-USD"]]);
const ALT = fixture([
  ["alt-2018-04-05/BTC-USD-1m.csv", "BTC-USD"],
  ["alt-2018-04-05/ETH-USD-1m.csv", "ETH-USD"],
  ["alt-2018-04-05/LTC-USD-1m.csv", "LTC-USD"],
]);

async function throughput(
  bus: Bus,
  options: { maxTicks?: number; topics?: Partial<MarketTopics> } = {},
): Promise<{ ticks: number; rate: number }> {
  const started = performance.now();
  const { ticks } = await new ReplayFeed({ bus, source: MAIN, log, ...options }).run();
  const seconds = (performance.now() - started) / 1000;
  return { ticks, rate: ticks / seconds };
}

function tokens(
  source: ProductCandles[],
): { original: number; ours: number; plain: number; count: number } {
  const market = new CsvMarket(source);
  let original = 0;
  let ours = 0;
  let plain = 0;
  let count = 0;
  for (let tick = 1; tick <= market.tickCount; tick += 10) {
    const snapshot = market.tick(tick).snapshot;
    original += countTokens(renderSnapshotOriginal(snapshot));
    ours += countTokens(renderSnapshotPrompt(snapshot));
    plain += countTokens(renderSnapshotPlain(snapshot));
    count++;
  }
  return { original: original / count, ours: ours / count, plain: plain / count, count };
}

const rows: string[] = [
  "| measure | value |",
  "|---|---|",
];

// Best of three runs: the first one also pays for JIT warm-up.
let memoryResult = { ticks: 0, rate: 0 };
for (let run = 0; run < 3; run++) {
  const memory = new MemoryBus();
  const result = await throughput(memory);
  await memory.close();
  if (result.rate > memoryResult.rate) memoryResult = result;
}
rows.push(
  `| replay throughput, in-memory bus (${memoryResult.ticks} snapshots of 2 products + 2 price ticks each, best of 3) | ${
    memoryResult.rate.toFixed(0)
  } snapshots/s |`,
);

const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS");
if (!bootstrap) {
  rows.push("| replay throughput, Kafka | not measured: KAFKA_BOOTSTRAP_SERVERS is not set |");
} else {
  const kafka = new KafkaBus({ brokers: [bootstrap], clientId: "market-bench", log });
  // Private topics, so the bench never feeds old data to agents on the same broker.
  const run = crypto.randomUUID().slice(0, 8);
  const arena = arenaTopics(`bench.${run}.`);
  const topics = {
    snapshots: arena.snapshots.topic,
    prices: arena.prices.topic,
    activity: arena.activity.topic,
  };
  try {
    const kafkaResult = await throughput(kafka, { maxTicks: 1000, topics });
    rows.push(
      `| replay throughput, Kafka at ${bootstrap} (${kafkaResult.ticks} snapshots, acked publishes) | ${
        kafkaResult.rate.toFixed(0)
      } snapshots/s |`,
    );
  } finally {
    await kafka.close();
  }
}

for (
  const [name, source] of [["2017-09-03/04 BTC+ETH", MAIN], [
    "2018-04-05 BTC+ETH+LTC",
    ALT,
  ]] as const
) {
  const result = tokens(source);
  rows.push(
    `| tokens per snapshot, original CSV layout (${name}, mean of ${result.count}) | ${
      result.original.toFixed(0)
    } |`,
    `| tokens per snapshot, ours (compact, lossless) | ${result.ours.toFixed(0)} |`,
    `| ratio ours / original | ${(100 * result.ours / result.original).toFixed(1)} % |`,
    `| tokens per snapshot, plain layout (small models) | ${result.plain.toFixed(0)} |`,
  );
}

console.log("Tokenizer: gpt-tokenizer o200k_base (the package default).\n");
console.log(rows.join("\n"));

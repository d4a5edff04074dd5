/** Connector service: Coinbase (or a replay) market data -> the broker. */

import { KafkaBus } from "../core/bus/kafka_bus.ts";
import {
  ACTIVITY_TOPIC,
  AGENT_INPUT_TOPIC,
  ARENA_TOPICS,
  PRICE_TOPIC,
} from "../core/bus/topics.ts";
import { CoinbaseFeed, DEFAULT_REST_URL, DEFAULT_WS_URL } from "../core/connector/coinbase_feed.ts";
import { Recorder } from "../core/connector/recording.ts";
import { loadReplaySource, ReplayFeed, replayMask } from "../core/connector/replay.ts";
import { describeMask } from "../core/market/mask.ts";
import { brokerCommand } from "../core/cli.ts";
import { createLogger } from "../core/log.ts";

const DEFAULT_PRODUCTS = ["BTC-USD", "FARTCOIN-USD", "SOL-USD"];
const DEFAULT_AGENTS = "momentum,brainrot-daytrader,scalper";

function positive(name: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!(number > 0)) throw new Error(`${name} must be a positive number, got ${value}`);
    return number;
  };
}

const program = brokerCommand("connector", {
  description: "Publishes market snapshots and price ticks from Coinbase, a recording or candles",
})
  .option(
    "--products <ids...>",
    "Coinbase product ids (space or comma separated)",
    DEFAULT_PRODUCTS,
  )
  .option("--min-interval <seconds>", "seconds between snapshots", positive("--min-interval"), 60)
  .option("--ws-url <url>", "Coinbase WebSocket feed", DEFAULT_WS_URL)
  .option("--rest-url <url>", "Coinbase REST API", DEFAULT_REST_URL)
  .option("--record <file>", "write everything received as JSON lines with receive times")
  .option(
    "--replay <files...>",
    "replay a recording, or candle CSV files / folders (time,low,high,open,close,volume)",
  )
  .option(
    "--speed <n>",
    "replay at N x real time (default: as fast as possible)",
    positive("--speed"),
  )
  .option("--lockstep", "replay: wait for every agent's decision before the next tick", false)
  .option("--agents <names>", "agents to wait for in lockstep (comma separated)", DEFAULT_AGENTS)
  .option(
    "--lockstep-timeout <seconds>",
    "longest wait for late agents per tick",
    positive("--lockstep-timeout"),
    120,
  )
  .option("--max-ticks <n>", "replay: stop after N snapshots", positive("--max-ticks"))
  .option(
    "--half-spread-bps <bps>",
    "candle replay: synthetic half-spread around the close",
    Number,
    1,
  )
  .option(
    "--warmup <seconds>",
    "candle replay: market time skipped for full windows",
    Number,
    14_400,
  )
  .option(
    "--mask",
    "replay: contamination-safe data (renamed products, scaled prices, no dates); the real " +
      "names, factors and start are logged after the replay",
    false,
  )
  .option("--mask-seed <n>", "replay: seed of the mask (default random, logged)", (value) => {
    const seed = Number(value);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`--mask-seed must be a whole number of 0 or more, got ${value}`);
    }
    return seed;
  })
  .option("--topic-prefix <prefix>", "prefix of every topic name (isolated arenas, tests)", "");

const options = program.parse().opts();
const log = createLogger("connector", { level: options.logLevel });
const productIds = options.products.flatMap((entry) => entry.split(",")).map((id) => id.trim())
  .filter((id) => id !== "");

const prefix = options.topicPrefix;
const topics = {
  snapshots: prefix + AGENT_INPUT_TOPIC,
  prices: prefix + PRICE_TOPIC,
  activity: prefix + ACTIVITY_TOPIC,
};

const bus = new KafkaBus({
  brokers: [options.bootstrapServers],
  clientId: "connector",
  log: log.child("bus"),
});
const abort = new AbortController();
let feed: CoinbaseFeed | undefined;
let recorder: Recorder | undefined;

async function shutdown(code: number): Promise<never> {
  abort.abort();
  await feed?.close().catch(() => {});
  recorder?.close();
  await bus.close().catch(() => {});
  Deno.exit(code);
}
Deno.addSignalListener("SIGINT", () => void shutdown(130));
Deno.addSignalListener("SIGTERM", () => void shutdown(143));

try {
  await bus.ensureTopics(ARENA_TOPICS.map((spec) => ({ ...spec, topic: prefix + spec.topic })));
  if (options.replay) {
    if (options.record) throw new Error("--record applies to live data, not to --replay");
    if (options.maskSeed !== undefined && !options.mask) {
      throw new Error("--mask-seed applies to --mask; add --mask or drop --mask-seed");
    }
    let source = await loadReplaySource(options.replay);
    if (Array.isArray(source) && program.getOptionValueSource("products") === "cli") {
      const available = source.map((product) => product.productId);
      const missing = productIds.filter((id) => !available.includes(id));
      if (missing.length > 0) {
        throw new Error(
          `Replay data has no ${missing.join(", ")}; products in the data: ${available.join(", ")}`,
        );
      }
      source = source.filter((product) => productIds.includes(product.productId));
    }
    const mask = options.mask
      ? replayMask(source, {
        seed: options.maskSeed ?? Math.floor(Math.random() * 2 ** 31),
        warmupSeconds: options.warmup,
      })
      : undefined;
    if (mask) log.info("Masked replay", { seed: mask.seed, products: mask.products.length });
    const replay = new ReplayFeed({
      bus,
      source,
      mask,
      intervalSeconds: options.minInterval,
      speed: options.speed,
      lockstep: options.lockstep
        ? {
          agents: options.agents.split(",").map((name) => name.trim()).filter(Boolean),
          timeoutMs: options.lockstepTimeout * 1000,
        }
        : undefined,
      maxTicks: options.maxTicks,
      halfSpreadBps: options.halfSpreadBps,
      warmupSeconds: options.warmup,
      topics,
      signal: abort.signal,
      log,
    });
    const result = await replay.run();
    log.info("Replay done", { ticks: result.ticks });
    // Shown only after the replay, so no agent can read it while it trades.
    if (mask) console.error(["Mask of this replay:", ...describeMask(mask)].join("\n  "));
    await shutdown(0);
  }
  if (options.mask) throw new Error("--mask applies to --replay (live data is never masked)");
  recorder = options.record ? await Recorder.create(options.record) : undefined;
  feed = new CoinbaseFeed({
    bus,
    productIds,
    intervalSeconds: options.minInterval,
    wsUrl: options.wsUrl,
    restUrl: options.restUrl,
    recorder,
    topics,
    log,
  });
  await feed.start();
} catch (error) {
  log.error((error as Error).message);
  await shutdown(1);
}

/**
 * Connector service: Coinbase (or a replay) market data -> the broker. Every flag is checked and
 * replay data is read before it connects; at start it waits for the exchange as long as it takes
 * (saying so), and for the broker a few seconds (one line and exit 1 when none answers).
 */

import { arenaTopics } from "../core/bus/topics.ts";
import { CoinbaseFeed, DEFAULT_REST_URL, DEFAULT_WS_URL } from "../core/connector/coinbase_feed.ts";
import { Recorder } from "../core/connector/recording.ts";
import {
  loadReplaySource,
  ReplayFeed,
  replayMask,
  type ReplaySource,
  selectReplayProducts,
} from "../core/connector/replay.ts";
import { describeMask } from "../core/market/mask.ts";
import {
  basisPointsFlag,
  brokerCommand,
  nonNegativeIntFlag,
  nonNegativeNumberFlag,
  parseFlags,
  positiveIntFlag,
  positiveNumberFlag,
  usageError,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { brokerServiceOptions, startService } from "../core/service.ts";

const DEFAULT_PRODUCTS = ["BTC-USD", "FARTCOIN-USD", "SOL-USD"];
const DEFAULT_AGENTS = "momentum,brainrot-daytrader,scalper";

const program = brokerCommand("connector", {
  description: "Publishes market snapshots and price ticks from Coinbase, a recording or candles",
})
  .option(
    "--products <ids...>",
    "Coinbase product ids (space or comma separated)",
    DEFAULT_PRODUCTS,
  )
  .option("--min-interval <seconds>", "seconds between snapshots", positiveNumberFlag, 60)
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
    positiveNumberFlag,
  )
  .option("--lockstep", "replay: wait for every agent's decision before the next tick", false)
  .option("--agents <names>", "agents to wait for in lockstep (comma separated)", DEFAULT_AGENTS)
  .option(
    "--lockstep-timeout <seconds>",
    "longest wait for late agents per tick",
    positiveNumberFlag,
    120,
  )
  .option("--max-ticks <n>", "replay: stop after N snapshots", positiveIntFlag)
  .option(
    "--half-spread-bps <bps>",
    "candle replay: synthetic half-spread around the close",
    basisPointsFlag,
    1,
  )
  .option(
    "--warmup <seconds>",
    "candle replay: market time skipped for full windows",
    nonNegativeNumberFlag,
    14_400,
  )
  .option(
    "--mask",
    "replay: contamination-safe data (renamed products, scaled prices, no dates); the real " +
      "names, factors and start are logged after the replay",
    false,
  )
  .option(
    "--mask-seed <n>",
    "replay: seed of the mask (default random, logged)",
    nonNegativeIntFlag,
  );

const options = parseFlags(program);
const log = createLogger("connector", { level: options.logLevel });
const productIds = options.products.flatMap((entry) => entry.split(",")).map((id) => id.trim())
  .filter((id) => id !== "");
if (productIds.length === 0) usageError("connector", "--products needs at least one product id");

// Every combination is checked, and replay data read, before anything connects.
let source: ReplaySource | undefined;
if (options.replay) {
  if (options.record) usageError("connector", "--record applies to live data, not to --replay");
  if (options.maskSeed !== undefined && !options.mask) {
    usageError("connector", "--mask-seed applies to --mask; add --mask or drop --mask-seed");
  }
  try {
    source = await loadReplaySource(options.replay);
  } catch (error) {
    usageError("connector", `Could not read --replay data: ${(error as Error).message}`);
  }
  if (program.getOptionValueSource("products") === "cli") {
    try {
      source = selectReplayProducts(source, productIds);
    } catch (error) {
      usageError("connector", (error as Error).message);
    }
  }
} else {
  if (options.mask || options.maskSeed !== undefined) {
    usageError("connector", "--mask applies to --replay (live data is never masked)");
  }
  if (options.speed !== undefined || options.lockstep || options.maxTicks !== undefined) {
    usageError("connector", "--speed, --lockstep and --max-ticks apply to --replay");
  }
}

const arena = arenaTopics(options.topicPrefix);
const topics = {
  snapshots: arena.snapshots.topic,
  prices: arena.prices.topic,
  activity: arena.activity.topic,
};

const service = await startService(
  brokerServiceOptions("connector", { flags: options, clientId: "connector", log }),
  async ({ bus, signal }) => {
    await bus.ensureTopics([...arena.fixed]);
    if (source) {
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
        signal,
        log,
      });
      const result = await replay.run();
      log.notice("Replay done", { ticks: result.ticks });
      // Shown only after the replay, so no agent can read it while it trades.
      if (mask) console.error(["Mask of this replay:", ...describeMask(mask)].join("\n  "));
      return;
    }
    const recorder = options.record ? await Recorder.create(options.record) : undefined;
    const feed = new CoinbaseFeed({
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
    return async () => {
      await feed.close();
      recorder?.close();
    };
  },
);
if (source) await service.shutdown(0);

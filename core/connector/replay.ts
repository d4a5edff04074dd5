/** Replays candle CSVs or recordings onto any bus, at a speed or in lockstep with the agents. */

import type { Bus } from "../bus/bus.ts";
import type { PriceTick } from "../contracts/market.ts";
import type { Logger } from "../log.ts";
import { loadCandleCsv, type ProductCandles, productIdFromFileName } from "../market/candles.ts";
import { CsvMarket, type MarketTick } from "../market/csv_market.ts";
import { marketSetOfPath, toBaseVolume } from "../market/market_sets.ts";
import { LiveMarket } from "../market/live_market.ts";
import { candleReplayStart, createMarketMask, type MarketMask, maskTick } from "../market/mask.ts";
import { EmptyWindowWarnings } from "../market/windows.ts";
import { sleep } from "../backoff.ts";
import { LockstepGate } from "./lockstep.ts";
import { ensureMarketTopics, type MarketTopics, marketTopics, publishTick } from "./publish.ts";
import { isRecordingText, parseRecording, type Recording } from "./recording.ts";

export { loadCandleCsv, productIdFromFileName };
export type { MarketMask, ProductCandles, Recording };

/** Where a replay's data comes from: candles of several products, or a recording. */
export type ReplaySource = ProductCandles[] | Recording;

/** Options for {@linkcode ReplayFeed}. */
export interface ReplayFeedOptions {
  /** The bus to publish to. */
  bus: Bus;
  /** Candles (one entry per product) or a recording. */
  source: ReplaySource;
  /** Market seconds between snapshots for candle replays (default 60). */
  intervalSeconds?: number;
  /** N x real time; omitted means as fast as possible. */
  speed?: number;
  /** Wait for every agent's decision on a tick before publishing the next. */
  lockstep?: { agents: string[]; timeoutMs?: number };
  /** Stop after this many snapshots. */
  maxTicks?: number;
  /** Half-spread in bps for synthesised bid/ask in candle replays (default 1). */
  halfSpreadBps?: number;
  /** Market time skipped before the first candle-replay tick (default 4 h). */
  warmupSeconds?: number;
  /** Topic overrides (default the arena's fixed topics). */
  topics?: Partial<MarketTopics>;
  /** Aborting stops the replay after the current tick. */
  signal?: AbortSignal;
  /**
   * Publish masked data (renamed products, scaled prices, times from a synthetic origin,
   * `masked: true`); build the mask with {@linkcode replayMask}.
   */
  mask?: MarketMask;
  /** Progress and lockstep warnings. */
  log: Logger;
}

/** Result of a replay. */
export interface ReplayResult {
  /** Snapshots published. */
  ticks: number;
}

/**
 * Replays market data: every snapshot goes to the agents' input topic and every price tick to
 * the price topic (keyed by product), exactly as the live connector would publish them.
 */
export class ReplayFeed {
  readonly #options: ReplayFeedOptions;

  /** Validates options; nothing is published until {@linkcode ReplayFeed.run}. */
  constructor(options: ReplayFeedOptions) {
    if (options.speed !== undefined && !(options.speed > 0)) {
      throw new Error(`Replay speed must be a positive number, got ${options.speed}`);
    }
    this.#options = options;
  }

  /** Publishes every tick and resolves at the end of the data (or at maxTicks/abort). */
  async run(): Promise<ReplayResult> {
    const { bus, lockstep, log } = this.#options;
    const topics = marketTopics(this.#options.topics);
    await ensureMarketTopics(bus, topics);
    const gate = lockstep
      ? await LockstepGate.open(bus, { ...lockstep, log, topic: topics.activity })
      : undefined;
    let ticks = 0;
    let previousMs: number | undefined;
    const emptyWindows = new EmptyWindowWarnings(log);
    try {
      for (const tick of this.#ticks()) {
        if (this.#options.signal?.aborted) break;
        const timeMs = Date.parse(tick.snapshot.time);
        if (this.#options.speed !== undefined && previousMs !== undefined && !gate) {
          await sleep((timeMs - previousMs) / this.#options.speed, this.#options.signal);
        }
        previousMs = timeMs;
        emptyWindows.check(tick.snapshot);
        await publishTick(bus, tick, topics);
        ticks++;
        if (gate) await gate.wait(tick.snapshot.tick);
        if (ticks % 500 === 0) log.debug("Replay progress", { ticks, time: tick.snapshot.time });
      }
    } finally {
      await gate?.close();
    }
    log.info("Replay finished", { ticks });
    return { ticks };
  }

  *#ticks(): Generator<MarketTick> {
    const mask = this.#options.mask;
    if (!mask) {
      yield* this.#plainTicks();
      return;
    }
    for (const tick of this.#plainTicks()) yield maskTick(tick, mask);
  }

  *#plainTicks(): Generator<MarketTick> {
    const { source, maxTicks } = this.#options;
    if (Array.isArray(source)) {
      const market = new CsvMarket(source, {
        intervalSeconds: this.#options.intervalSeconds,
        halfSpreadBps: this.#options.halfSpreadBps,
        warmupSeconds: this.#options.warmupSeconds,
      });
      yield* market.ticks(maxTicks);
      return;
    }
    yield* recordingTicks(source, { maxTicks, log: this.#options.log });
  }
}

/** Options for {@linkcode replayMask}. */
export interface ReplayMaskOptions {
  /** Seed of the mask (the same seed and data give the same mask). */
  seed: number;
  /** Warm-up of a candle replay in seconds (default 4 h, as the replay's). */
  warmupSeconds?: number;
  /** Real quantity increments by product (default the ledger's). */
  increments?: Readonly<Record<string, string>>;
}

/**
 * The mask of a replay: its products, and its first tick's time as the masked origin (a
 * recording's origin is its first event, on a whole minute).
 */
export function replayMask(source: ReplaySource, options: ReplayMaskOptions): MarketMask {
  if (Array.isArray(source)) {
    return createMarketMask(source.map((product) => product.productId), {
      seed: options.seed,
      startSeconds: candleReplayStart(source, options.warmupSeconds),
      increments: options.increments,
    });
  }
  const firstMs = source.events[0]?.at ?? 0;
  return createMarketMask(source.productIds, {
    seed: options.seed,
    startSeconds: Math.floor(firstMs / 60_000) * 60,
    increments: options.increments,
  });
}

/**
 * The ticks a recording yields: frames and candle bodies are applied in order through the
 * same state machine as the live feed; a snapshot is built at every recorded publish moment
 * (or every interval after the start when the recording has none). Price ticks between
 * snapshots are delivered with the next snapshot.
 */
export function* recordingTicks(
  recording: Recording,
  options: { maxTicks?: number; log: Logger },
): Generator<MarketTick> {
  const market = new LiveMarket({
    productIds: recording.productIds,
    intervalMs: recording.intervalMs,
    source: "replay",
  });
  const hasPublish = recording.events.some((event) => event.type === "publish");
  const startAt = recording.events[0]?.at ?? 0;
  let nextSynthetic = startAt + recording.intervalMs;
  let pending: PriceTick[] = [];
  let count = 0;
  const emit = (atMs: number): MarketTick | undefined => {
    const { snapshot, staleTicks } = market.publishable(atMs);
    if (!snapshot) return undefined;
    const priceTicks = [...pending, ...staleTicks];
    pending = [];
    return { snapshot, priceTicks };
  };
  for (const event of recording.events) {
    if (options.maxTicks !== undefined && count >= options.maxTicks) return;
    if (!hasPublish) {
      while (event.at >= nextSynthetic) {
        const tick = emit(nextSynthetic);
        nextSynthetic += recording.intervalMs;
        if (tick) {
          count++;
          yield tick;
          if (options.maxTicks !== undefined && count >= options.maxTicks) return;
        }
      }
    }
    if (event.type === "ws") {
      const outcome = market.applyFrame(event.data, event.at);
      if (outcome.kind === "price") pending.push(outcome.tick);
    } else if (event.type === "rest") {
      try {
        market.applyCandles(event.productId, event.granularity, event.data);
      } catch (error) {
        options.log.warn("Skipping recorded candles", {
          productId: event.productId,
          reason: (error as Error).message,
        });
      }
    } else if (event.type === "publish") {
      const tick = emit(event.at);
      if (tick) {
        count++;
        yield tick;
      }
    }
  }
}

/**
 * Reads replay input: a recording file (JSON lines), or one or more candle CSV files or
 * folders of `<PRODUCT>-1m.csv` files (detected by content).
 */
export async function loadReplaySource(paths: string[]): Promise<ReplaySource> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await Deno.stat(path);
    if (info.isDirectory) {
      const names: string[] = [];
      for await (const entry of Deno.readDir(path)) {
        if (entry.isFile && entry.name.endsWith(".csv")) names.push(entry.name);
      }
      names.sort();
      if (names.length === 0) throw new Error(`Replay folder ${path} has no .csv files`);
      files.push(...names.map((name) => `${path}/${name}`));
    } else {
      files.push(path);
    }
  }
  const texts = await Promise.all(files.map((file) => Deno.readTextFile(file)));
  if (texts.some(isRecordingText)) {
    if (texts.length !== 1) {
      throw new Error("Replay takes one recording, or any number of candle CSV files");
    }
    return parseRecording(texts[0]!);
  }
  return texts.map((text, index) => {
    const file = files[index]!;
    const candles = loadCandleCsv(text, productIdFromFileName(file));
    // A bundled set with volume in the quote currency (USD) is converted to base units.
    return marketSetOfPath(file)?.volumeUnit === "quote" ? toBaseVolume(candles) : candles;
  });
}

/** The product ids in replay data (candle files or a recording). */
export function replayProductIds(source: ReplaySource): string[] {
  return Array.isArray(source) ? source.map((product) => product.productId) : source.productIds;
}

/**
 * Keeps only the named products of replay data (`--products` with `--replay`). Throws naming the
 * products the data has when one is missing; a recording replays all of its products or none.
 */
export function selectReplayProducts(source: ReplaySource, productIds: string[]): ReplaySource {
  const available = replayProductIds(source);
  const wanted = [...new Set(productIds)];
  const missing = wanted.filter((id) => !available.includes(id));
  if (missing.length > 0) {
    throw new Error(
      `Replay data has no ${missing.join(", ")}; products in the data: ${available.join(", ")}`,
    );
  }
  if (Array.isArray(source)) {
    return source.filter((product) => wanted.includes(product.productId));
  }
  if (wanted.length !== available.length) {
    throw new Error(
      `A recording replays all its products (${available.join(", ")}); drop --products or list ` +
        "them all",
    );
  }
  return source;
}

/** The bundled fixture sets: `main` (BTC-USD, ETH-USD, 48 h of 2017-09-03/04) or `alt-2018-04-05`. */
export type FixtureSet = "main" | "alt-2018-04-05";

/** Loads a bundled candle fixture set (needs read access to the project's fixtures folder). */
export async function loadFixtureCandles(set: FixtureSet = "main"): Promise<ProductCandles[]> {
  const folder = new URL(
    set === "main" ? "../../fixtures/market/" : `../../fixtures/market/${set}/`,
    import.meta.url,
  );
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile && entry.name.endsWith("-1m.csv")) names.push(entry.name);
  }
  names.sort();
  return await Promise.all(
    names.map(async (name) =>
      loadCandleCsv(await Deno.readTextFile(new URL(name, folder)), productIdFromFileName(name))
    ),
  );
}

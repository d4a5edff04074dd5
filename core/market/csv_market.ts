/** Deterministic market snapshots from historical 1-minute candles (the CSV replay source). */

import { Decimal } from "decimal.js";
import type { MarketSnapshot, PriceTick, ProductSnapshot, Ticker } from "../contracts/market.ts";
import { aggregateCandles, type ProductCandles } from "./candles.ts";
import { CandleBook } from "./candle_book.ts";
import { isoTime } from "./clock.ts";
import { decimalPlaces, MarketDecimal, plainDecimal } from "./decimal.ts";
import { STALE_INTERVALS } from "./price_book.ts";
import { lowerBound, WINDOW_GRANULARITY } from "./windows.ts";
import { priceTickOf } from "./snapshot.ts";

/** Default half-spread around the close used to synthesise best bid and ask, in basis points. */
export const DEFAULT_HALF_SPREAD_BPS = 1;

/** Default warm-up before the first tick: 4 h, so the first snapshot has full windows. */
export const DEFAULT_WARMUP_SECONDS = 4 * 60 * 60;

const DAY_SECONDS = 24 * 60 * 60;

/** Options for {@linkcode CsvMarket}. */
export interface CsvMarketOptions {
  /** Seconds between ticks on the market clock (default 60). */
  intervalSeconds?: number;
  /**
   * Half-spread in basis points: bestBid = close x (1 - h/10000) rounded down and
   * bestAsk = close x (1 + h/10000) rounded up to the quote precision, each at least one
   * quote increment away from the close (default 1).
   */
  halfSpreadBps?: number;
  /** Market time skipped at the start so windows are full (default 4 h). */
  warmupSeconds?: number;
  /** Quote decimals per product; default the most decimals seen in the product's prices. */
  quoteDecimals?: Record<string, number>;
}

/** One tick of a replay: the snapshot and one price tick per product. */
export interface MarketTick {
  /** The snapshot for the agents. */
  snapshot: MarketSnapshot;
  /** Price ticks, one per product in the snapshot. */
  priceTicks: PriceTick[];
}

interface ProductSeries {
  productId: string;
  candles: ProductCandles["candles"];
  /** volumePrefix[i] = sum of the volumes of candles[0..i). */
  volumePrefix: Decimal[];
  quoteDecimals: number;
}

/** Replays historical candles as snapshots, one per interval of market time. */
export class CsvMarket {
  readonly #products: ProductSeries[];
  readonly #book = new CandleBook();
  readonly #intervalSeconds: number;
  readonly #halfSpread: Decimal;
  /** Market time (unix s) of the first tick. */
  readonly firstTime: number;
  /** Market time (unix s) of the last tick. */
  readonly lastTime: number;

  /** Prepares the series (exact 5-min and 15-min aggregation, 24 h volume sums). */
  constructor(sources: ProductCandles[], options: CsvMarketOptions = {}) {
    if (sources.length === 0) throw new Error("Replay needs at least one product's candles");
    this.#intervalSeconds = options.intervalSeconds ?? 60;
    if (!Number.isInteger(this.#intervalSeconds) || this.#intervalSeconds < 60) {
      throw new Error(
        `Replay interval must be a whole number of seconds >= 60, got ${this.#intervalSeconds}`,
      );
    }
    this.#halfSpread = new MarketDecimal(options.halfSpreadBps ?? DEFAULT_HALF_SPREAD_BPS).div(
      10_000,
    );
    this.#products = sources.map((source) => {
      const volumePrefix = [new MarketDecimal(0)];
      let places = 0;
      for (const candle of source.candles) {
        volumePrefix.push(volumePrefix[volumePrefix.length - 1]!.plus(candle.volume));
        for (const price of [candle.low, candle.high, candle.open, candle.close]) {
          places = Math.max(places, decimalPlaces(price));
        }
      }
      this.#book.load(source.productId, WINDOW_GRANULARITY.m1, source.candles);
      this.#book.load(
        source.productId,
        WINDOW_GRANULARITY.m5,
        aggregateCandles(source.candles, WINDOW_GRANULARITY.m5),
      );
      this.#book.load(
        source.productId,
        WINDOW_GRANULARITY.m15,
        aggregateCandles(source.candles, WINDOW_GRANULARITY.m15),
      );
      return {
        productId: source.productId,
        candles: source.candles,
        volumePrefix,
        quoteDecimals: options.quoteDecimals?.[source.productId] ?? places,
      };
    });
    const start = Math.max(...this.#products.map((product) => product.candles[0]!.time));
    const warmup = options.warmupSeconds ?? DEFAULT_WARMUP_SECONDS;
    const firstTime = Math.ceil((start + warmup) / 60) * 60;
    const lastTime = Math.min(
      ...this.#products.map((product) => product.candles[product.candles.length - 1]!.time + 60),
    );
    if (firstTime > lastTime) {
      throw new Error(
        `Replay data is shorter than the warm-up: first tick ${isoTime(firstTime * 1000)} ` +
          `is after the last candle close ${isoTime(lastTime * 1000)}`,
      );
    }
    this.firstTime = firstTime;
    this.lastTime = lastTime;
  }

  /** Product ids in the data, in the order given. */
  get productIds(): string[] {
    return this.#products.map((product) => product.productId);
  }

  /** Number of ticks this data yields. */
  get tickCount(): number {
    return Math.floor((this.lastTime - this.firstTime) / this.#intervalSeconds) + 1;
  }

  /** The tick with number `tick` (1-based) on the market clock. */
  tick(tick: number): MarketTick {
    const now = this.firstTime + (tick - 1) * this.#intervalSeconds;
    const products: ProductSnapshot[] = [];
    for (const series of this.#products) {
      const product = this.#productAt(series, now);
      if (product) products.push(product);
    }
    const snapshot: MarketSnapshot = {
      v: 1,
      tick,
      time: isoTime(now * 1000),
      source: "replay",
      products,
    };
    return { snapshot, priceTicks: products.map(priceTickOf) };
  }

  /** Every tick in order. */
  *ticks(maxTicks?: number): Generator<MarketTick> {
    const count = Math.min(this.tickCount, maxTicks ?? Infinity);
    for (let tick = 1; tick <= count; tick++) yield this.tick(tick);
  }

  #productAt(series: ProductSeries, now: number): ProductSnapshot | undefined {
    const end = lowerBound(series.candles, now);
    if (end === 0) return undefined;
    const last = series.candles[end - 1]!;
    const dayStart = lowerBound(series.candles, now - DAY_SECONDS);
    const volume24h = series.volumePrefix[end]!.minus(series.volumePrefix[dayStart]!);
    const closedAt = last.time + 60;
    const ticker: Ticker = {
      price: last.close,
      ...this.#quote(last.close, series.quoteDecimals),
      volume24h: plainDecimal(volume24h),
      time: isoTime(closedAt * 1000),
    };
    return {
      productId: series.productId,
      ticker,
      stale: now - closedAt > STALE_INTERVALS * this.#intervalSeconds,
      candles: this.#book.windows(series.productId, now),
    };
  }

  #quote(close: string, decimals: number): { bestBid: string; bestAsk: string } {
    const price = new MarketDecimal(close);
    const increment = new MarketDecimal(10).pow(-decimals);
    let bid = price.times(MarketDecimal.sub(1, this.#halfSpread)).toDecimalPlaces(
      decimals,
      Decimal.ROUND_DOWN,
    );
    let ask = price.times(this.#halfSpread.plus(1)).toDecimalPlaces(decimals, Decimal.ROUND_UP);
    if (bid.gte(price)) bid = price.minus(increment);
    if (ask.lte(price)) ask = price.plus(increment);
    return { bestBid: bid.toFixed(decimals), bestAsk: ask.toFixed(decimals) };
  }
}

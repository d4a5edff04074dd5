/** Multi-timeframe candle book: the latest known candles per product and granularity. */

import type { Candle, CandleWindows } from "../contracts/market.ts";
import { lowerBound, selectWindow, WINDOW_GRANULARITY, windowBounds } from "./windows.ts";

/** Bars older than this before the market clock are dropped on {@linkcode CandleBook.prune}. */
const KEEP_SECONDS = 5 * 60 * 60;

/** Candles per product and granularity, kept ascending and unique by bar start. */
export class CandleBook {
  #series = new Map<string, Candle[]>();

  /** Merges candles (any order); a candle replaces one with the same bar start. */
  upsert(productId: string, granularity: number, candles: Candle[]): void {
    const key = `${productId}/${granularity}`;
    const byTime = new Map((this.#series.get(key) ?? []).map((candle) => [candle.time, candle]));
    for (const candle of candles) byTime.set(candle.time, candle);
    this.#series.set(key, [...byTime.values()].sort((a, b) => a.time - b.time));
  }

  /** Replaces a whole ascending series at once (used by replays, no copying). */
  load(productId: string, granularity: number, candles: Candle[]): void {
    this.#series.set(`${productId}/${granularity}`, candles);
  }

  /** All candles of one product and granularity, ascending. */
  series(productId: string, granularity: number): Candle[] {
    return this.#series.get(`${productId}/${granularity}`) ?? [];
  }

  /** The three windows of one product at market time `now` (unix seconds). */
  windows(productId: string, now: number): CandleWindows {
    const bounds = windowBounds(now);
    return {
      m15: selectWindow(this.series(productId, WINDOW_GRANULARITY.m15), bounds.m15),
      m5: selectWindow(this.series(productId, WINDOW_GRANULARITY.m5), bounds.m5),
      m1: selectWindow(this.series(productId, WINDOW_GRANULARITY.m1), bounds.m1),
    };
  }

  /** Drops bars that can no longer appear in any window at market time `now`. */
  prune(now: number): void {
    for (const [key, candles] of this.#series) {
      const first = lowerBound(candles, now - KEEP_SECONDS);
      if (first > 0) this.#series.set(key, candles.slice(first));
    }
  }
}

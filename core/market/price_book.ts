/** Latest ticker per product with staleness on the market clock. */

import type { Ticker } from "../contracts/market.ts";
import { type MarketClock, WALL_CLOCK } from "./clock.ts";

/** The latest ticker of a product and when (market clock, ms) it arrived. */
export interface PriceEntry {
  /** Latest ticker. */
  ticker: Ticker;
  /** Market-clock time in ms when the ticker arrived. */
  receivedAtMs: number;
}

/** A product is stale when it had no fresh ticker for more than this many intervals. */
export const STALE_INTERVALS = 2;

/** Holds the latest ticker of each product. */
export class PriceBook {
  #entries = new Map<string, PriceEntry>();

  /** Records a fresh ticker. */
  update(productId: string, ticker: Ticker, receivedAtMs: number): void {
    this.#entries.set(productId, { ticker, receivedAtMs });
  }

  /** Latest entry of a product, if any ticker arrived. */
  get(productId: string): PriceEntry | undefined {
    return this.#entries.get(productId);
  }

  /** True when the product had no ticker for more than 2 x `intervalMs` before `nowMs`. */
  isStale(productId: string, options: { nowMs: number; intervalMs: number }): boolean {
    const entry = this.#entries.get(productId);
    if (!entry) return true;
    return options.nowMs - entry.receivedAtMs > STALE_INTERVALS * options.intervalMs;
  }
}

/**
 * Default longest age of a quote a fill may use, in market ms: 2 x the arena's 60 s interval,
 * the age at which the feeds mark a product stale at their default interval.
 */
export const DEFAULT_MAX_QUOTE_AGE_MS = STALE_INTERVALS * 60_000;

/**
 * A feed whose newest quote carried a time this close to the wall clock when it arrived runs on
 * the wall clock (live); otherwise it is a replay, whose market clock is its newest quote time.
 */
export const LIVE_CLOCK_TOLERANCE_MS = 5 * 60_000;

/**
 * The market clock as a consumer of price ticks sees it: in a replay (lockstep or not) the time
 * of the newest quote, so the market waits while the feed does; on a live feed the wall clock,
 * so quotes age when the feed is gone.
 */
export class QuoteClock {
  #wall: MarketClock;
  #newestMs: number | undefined;
  #live = false;

  /** Starts with no quote; `wall` is the wall clock (a ManualClock in tests). */
  constructor(wall: MarketClock = WALL_CLOCK) {
    this.#wall = wall;
  }

  /** Records a quote's market time (ms); an older quote than the newest changes nothing. */
  observe(quoteMs: number): void {
    if (this.#newestMs !== undefined && quoteMs < this.#newestMs) return;
    this.#newestMs = quoteMs;
    this.#live = Math.abs(this.#wall.now() - quoteMs) <= LIVE_CLOCK_TOLERANCE_MS;
  }

  /** True when the newest quote came from a feed on the wall clock. */
  get live(): boolean {
    return this.#live;
  }

  /** Market time now in ms, or undefined before the first quote. */
  now(): number | undefined {
    if (this.#newestMs === undefined) return undefined;
    return this.#live ? Math.max(this.#newestMs, this.#wall.now()) : this.#newestMs;
  }
}

/** Age in ms of a quote stamped `quoteMs` at market time `nowMs` (never negative). */
export function quoteAgeMs(quoteMs: number, nowMs: number): number {
  return Math.max(0, nowMs - quoteMs);
}

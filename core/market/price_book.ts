/** Latest ticker per product with staleness on the market clock. */

import type { Ticker } from "../contracts/market.ts";

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

/** The original's three candle windows, as pure functions of the market clock. */

import type { Candle, CandleWindows } from "../contracts/market.ts";
import type { Logger } from "../log.ts";

/** Granularity in seconds of each window's candles. */
export const WINDOW_GRANULARITY = { m15: 900, m5: 300, m1: 60 } as const;

/** Name of one of the three windows. */
export type WindowName = keyof typeof WINDOW_GRANULARITY;

/** Start (inclusive) and end (exclusive) of a window, in unix seconds of bar starts. */
export interface WindowBounds {
  /** First bar start included. */
  start: number;
  /** Bar starts must be strictly below this. */
  end: number;
}

const MINUTE = 60;

/**
 * How far back the longest window (the 15-minute bars) reaches, in seconds: 3 h, as in the
 * original's code. A replay's warm-up must be at least this long for full first windows.
 */
export const LONGEST_WINDOW_SECONDS = 180 * MINUTE;

/**
 * Bounds of the three windows at market time `now` (unix seconds): 15-min bars starting from
 * 3 h ago up to (not including) 90 min ago, 5-min bars from 90 min ago up to 20 min ago, and
 * 1-min bars of the last 20 minutes. A bar belongs to a window when its start is in bounds.
 */
export function windowBounds(now: number): Record<WindowName, WindowBounds> {
  return {
    m15: { start: now - LONGEST_WINDOW_SECONDS, end: now - 90 * MINUTE },
    m5: { start: now - 90 * MINUTE, end: now - 20 * MINUTE },
    m1: { start: now - 20 * MINUTE, end: now },
  };
}

/** Index of the first candle whose time is >= `time` in an ascending array. */
export function lowerBound(candles: Candle[], time: number): number {
  let low = 0;
  let high = candles.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (candles[middle]!.time < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The candles of an ascending array whose start lies in `bounds`, oldest first. */
export function selectWindow(candles: Candle[], bounds: WindowBounds): Candle[] {
  return candles.slice(lowerBound(candles, bounds.start), lowerBound(candles, bounds.end));
}

/** A product's window that a snapshot published with no candles. */
export interface EmptyWindow {
  /** Product id. */
  productId: string;
  /** The window with no candles. */
  window: WindowName;
}

/**
 * Warns when a snapshot carries an empty candle window: once per product and window, not per
 * tick; a window that has candles again is warned about again if it empties later.
 */
export class EmptyWindowWarnings {
  #log: Logger;
  #empty = new Set<string>();

  /** Warnings go to `log`. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** Logs each window of the snapshot that just became empty; returns those windows. */
  check(snapshot: {
    time: string;
    products: readonly { productId: string; candles: CandleWindows }[];
  }): EmptyWindow[] {
    const fresh: EmptyWindow[] = [];
    for (const product of snapshot.products) {
      for (const window of Object.keys(WINDOW_GRANULARITY) as WindowName[]) {
        const key = `${product.productId}/${window}`;
        if (product.candles[window].length > 0) {
          this.#empty.delete(key);
        } else if (!this.#empty.has(key)) {
          this.#empty.add(key);
          fresh.push({ productId: product.productId, window });
        }
      }
    }
    if (fresh.length > 0) {
      this.#log.warn("Publishing snapshots with empty candle windows (warned once per window)", {
        time: snapshot.time,
        windows: fresh.map((empty) => `${empty.productId} ${empty.window}`),
      });
    }
    return fresh;
  }
}

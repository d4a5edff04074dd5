/** Honest one-line descriptions of what an arena replays, for headers and final output. */

import type { ReplaySource } from "../connector/replay.ts";
import type { DeskTerms } from "../contracts/desk.ts";
import { CsvMarket } from "../market/csv_market.ts";

/** The demo's market seconds between decisions: 5 minutes, so 48 h replays in well under 60 s. */
export const DEMO_INTERVAL_SECONDS = 300;

/** Options for {@linkcode describeReplay}. */
export interface DescribeReplayOptions {
  /** Market seconds between snapshots. */
  intervalSeconds: number;
  /** Warm-up seconds before the first tick (default 4 h). */
  warmupSeconds?: number;
  /** Ticks cap, if any. */
  maxTicks?: number;
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

function shortIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(":00.000Z", "Z");
}

/**
 * Describes a candle replay: products, first and last tick on the market clock, tick count and
 * decision interval. Recordings are described by their products only.
 */
export function describeReplay(source: ReplaySource, options: DescribeReplayOptions): string {
  if (!Array.isArray(source)) {
    return `recording of ${source.productIds.join(", ")}`;
  }
  const market = new CsvMarket(source, {
    intervalSeconds: options.intervalSeconds,
    warmupSeconds: options.warmupSeconds,
  });
  const total = market.tickCount;
  const ticks = options.maxTicks === undefined ? total : Math.min(total, options.maxTicks);
  const last = market.firstTime + (ticks - 1) * options.intervalSeconds;
  return `${market.productIds.join(", ")} real 1-minute candles, ${shortIso(market.firstTime)} ` +
    `to ${shortIso(last)} (${ticks} ticks, a decision every ${
      minutes(options.intervalSeconds)
    } of market time)`;
}

/** Whether a desk allows shorts or leverage (a margin desk) rather than spot longs only. */
export function isMarginDesk(desk: DeskTerms): boolean {
  return desk.allowShort || desk.maxLeverage > 1;
}

/**
 * Describes the desk accounts trade on: its fee, then spot (long only, no leverage) or what its
 * margin account allows, e.g. `taker fee 60 bps, margin desk (shorts allowed, leverage up to 10x)`.
 */
export function describeDesk(desk: DeskTerms): string {
  const fee = `taker fee ${desk.takerFeeBps} bps` +
    (desk.slippageBps > 0 ? `, slippage ${desk.slippageBps} bps` : "");
  if (!isMarginDesk(desk)) return `${fee}, spot (long only, no leverage)`;
  const terms = [
    desk.allowShort ? "shorts allowed" : "long only",
    desk.maxLeverage > 1 ? `leverage up to ${desk.maxLeverage}x` : "no leverage",
  ];
  return `${fee}, margin desk (${terms.join(", ")})`;
}

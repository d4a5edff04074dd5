/** Honest one-line descriptions of what an arena replays, for headers and final output. */

import type { ReplaySource } from "../connector/replay.ts";
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

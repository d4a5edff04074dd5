/**
 * Market regime of a window, from the window's own 1-minute candles (pure, no look-ahead beyond
 * the window). Statistics (as in the bundled data's README):
 *
 * - move = last close / first open - 1
 * - max drawdown = largest fall of a close from the running peak (first open and closes so far)
 * - realized volatility (RV) = sqrt(sum of squared log returns of consecutive closes), scaled to
 *   one day: RV x sqrt(1440 / minutes spanned)
 * - range = window high / window low - 1
 *
 * Thresholds on moves grow with the square root of the window's length T, the way a random walk
 * does: scale = sqrt(T / 24 h), so a 24 h window keeps the per-day thresholds of the data's
 * README and a 4 h window uses 0.41 of them. The rule, first match wins:
 *
 * 1. `crash`: move <= -8 % x scale and max drawdown >= 10 % x scale
 * 2. `trend_down`: move <= -3 % x scale
 * 3. `trend_up`: move >= +3 % x scale
 * 4. `quiet`: daily RV < 2 % and range < 3 % x scale
 * 5. `chop`: everything else (no clear direction, ordinary or high volatility)
 *
 * A window of several products takes the label most of its products have; a tie goes to the
 * more severe label (crash, trend_down, trend_up, chop, quiet in that order).
 */

import type { Candle } from "../contracts/market.ts";

/** A window's market regime. */
export type Regime = "trend_up" | "trend_down" | "crash" | "chop" | "quiet";

/** Every regime, in a fixed order (used to report coverage). */
export const REGIMES: readonly Regime[] = ["trend_up", "trend_down", "crash", "chop", "quiet"];

/** Statistics a regime is computed from (fractions, not percent). */
export interface RegimeStats {
  /** Last close / first open - 1. */
  move: number;
  /** Largest fall of a close from the running peak, as a positive fraction. */
  maxDrawdown: number;
  /** Realized volatility of 1-minute log returns, scaled to one day. */
  dailyVolatility: number;
  /** Window high / window low - 1. */
  range: number;
  /** Hours from the first bar's start to the last bar's end. */
  hours: number;
}

/** The thresholds of the rule, per 24 h (moves scale with sqrt(hours / 24)). */
export const REGIME_THRESHOLDS = {
  /** Crash: move at or below minus this (per day). */
  crashMove: 0.08,
  /** Crash: max drawdown at or above this (per day). */
  crashDrawdown: 0.1,
  /** Trend: absolute move at or above this (per day). */
  trendMove: 0.03,
  /** Quiet: daily realized volatility below this (not scaled). */
  quietVolatility: 0.02,
  /** Quiet: range below this (per day). */
  quietRange: 0.03,
} as const;

const DAY_MINUTES = 1440;

/** Computes the regime statistics of ascending 1-minute candles (at least one). */
export function regimeStats(candles: readonly Candle[]): RegimeStats {
  const first = candles[0];
  const last = candles.at(-1);
  if (first === undefined || last === undefined) {
    throw new Error("Regime needs at least one candle, got none");
  }
  const open = Number(first.open);
  let peak = open;
  let maxDrawdown = 0;
  let high = -Infinity;
  let low = Infinity;
  let squares = 0;
  let previous = open;
  for (const candle of candles) {
    const close = Number(candle.close);
    high = Math.max(high, Number(candle.high));
    low = Math.min(low, Number(candle.low));
    if (previous > 0 && close > 0) squares += Math.log(close / previous) ** 2;
    previous = close;
    peak = Math.max(peak, close);
    if (peak > 0) maxDrawdown = Math.max(maxDrawdown, 1 - close / peak);
  }
  const minutes = (last.time - first.time) / 60 + 1;
  return {
    move: open > 0 ? Number(last.close) / open - 1 : 0,
    maxDrawdown,
    dailyVolatility: Math.sqrt(squares) * Math.sqrt(DAY_MINUTES / minutes),
    range: low > 0 ? high / low - 1 : 0,
    hours: minutes / 60,
  };
}

/** The regime of statistics computed by {@linkcode regimeStats} (the rule in the module doc). */
export function regimeOf(stats: RegimeStats): Regime {
  const scale = Math.sqrt(stats.hours / 24);
  const t = REGIME_THRESHOLDS;
  if (stats.move <= -t.crashMove * scale && stats.maxDrawdown >= t.crashDrawdown * scale) {
    return "crash";
  }
  if (stats.move <= -t.trendMove * scale) return "trend_down";
  if (stats.move >= t.trendMove * scale) return "trend_up";
  if (stats.dailyVolatility < t.quietVolatility && stats.range < t.quietRange * scale) {
    return "quiet";
  }
  return "chop";
}

/** Labels a window by its own ascending 1-minute candles (the rule in the module doc). */
export function labelRegime(candles: readonly Candle[]): Regime {
  return regimeOf(regimeStats(candles));
}

const SEVERITY: readonly Regime[] = ["crash", "trend_down", "trend_up", "chop", "quiet"];

/**
 * Labels a window of several products (each ascending 1-minute candles): the label most
 * products have, a tie going to the more severe label.
 */
export function labelMarketRegime(products: readonly (readonly Candle[])[]): Regime {
  if (products.length === 0) throw new Error("Regime needs at least one product, got none");
  const counts = new Map<Regime, number>();
  for (const candles of products) {
    const regime = labelRegime(candles);
    counts.set(regime, (counts.get(regime) ?? 0) + 1);
  }
  let best: Regime = SEVERITY[0]!;
  let bestCount = -1;
  for (const regime of SEVERITY) {
    const count = counts.get(regime) ?? 0;
    if (count > bestCount) {
      best = regime;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Tournament windows: non-overlapping replay windows cut from several candle sets, each labelled
 * with its market regime ({@linkcode labelMarketRegime}), windows with gaps in the data skipped
 * with a reason, and the chosen windows spread over the sets and regimes.
 */

import type { Candle } from "../contracts/market.ts";
import type { ProductCandles } from "../market/candles.ts";
import { lowerBound } from "../market/windows.ts";
import { labelMarketRegime, type Regime } from "../market/regime.ts";

/**
 * The default tournament's sets: every bundled set (names from `MARKET_SETS`), six venues,
 * spot and perpetuals, 2016-2026.
 */
export const DEFAULT_TOURNAMENT_SETS: readonly string[] = [
  "coinbase-2017-09-03",
  "alt-2018-04-05",
  "coinbase-2016-10-07",
  "coinbase-2017-12-17",
  "coinbase-2018-04-06",
  "bybit-binance-2022-12-13",
  "binance-perp-2022-12-13",
  "ftx-perp-2022-01",
  "bitstamp-2025-01",
  "dydx-perp-2026-01-01",
];

/**
 * Default hours per window: 4 h (plus 4 h of warm-up) fits five windows in each one-day set and
 * keeps 30 windows at 300 s per decision to 30 x 49 = 1,470 ticks.
 */
export const DEFAULT_WINDOW_HOURS = 4;

/** Default number of windows: 30, enough for a usable confidence interval of the mean. */
export const DEFAULT_WINDOWS = 30;

/** Default market seconds between decisions; also the longest gap a window may have. */
export const DEFAULT_INTERVAL_SECONDS = 300;

/** Default warm-up hours before each window: 4 h, as the tournament's replay warm-up. */
export const DEFAULT_WARMUP_HOURS = 4;

/** A named candle data set (e.g. a bundled fixture set). */
export interface CandleSet {
  /** Set name shown in results. */
  name: string;
  /** Candles per product. */
  candles: ProductCandles[];
}

/** One replay window. */
export interface ReplayWindow {
  /** Data set name. */
  set: string;
  /** Index of the window within its set (its place on the set's grid, skipped ones counted). */
  index: number;
  /** First tick's market time (ISO). */
  start: string;
  /** Last tick's market time (ISO). */
  end: string;
  /** Market regime of the window's own candles (warm-up excluded). */
  regime: Regime;
  /** Candles from the warm-up before `start` up to `end`. */
  candles: ProductCandles[];
}

/** Options for {@linkcode cutWindows} and {@linkcode planWindows}. */
export interface CutWindowsOptions {
  /** Windows wanted (at least 2: the statistics need two samples). */
  windows: number;
  /** Hours of market time per window. */
  windowHours: number;
  /** Warm-up hours of candles before each window (default 4, the snapshot's longest view). */
  warmupHours?: number;
  /**
   * Market seconds between decisions (default 300): a window where a product has no candle for
   * longer than this is skipped.
   */
  intervalSeconds?: number;
}

/** A window left out, and why. */
export interface SkippedWindow {
  /** Data set name. */
  set: string;
  /** Market time the window would have started at (ISO). */
  start: string;
  /** What was wrong with its data. */
  reason: string;
}

/** The windows chosen and the ones left out. */
export interface WindowPlan {
  /** Chosen windows, in play order (round-robin over the sets). */
  windows: ReplayWindow[];
  /** Windows skipped for gaps in their data (and sets too short for any window). */
  skipped: SkippedWindow[];
}

const HOUR = 3600;
const MINUTE = 60;

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function validate(options: CutWindowsOptions): { warmup: number; length: number; gap: number } {
  const { windows, windowHours } = options;
  if (!Number.isInteger(windows) || windows < 2) {
    throw new Error(
      `Windows must be a positive integer of at least 2 (the confidence interval needs two ` +
        `samples), got ${windows}`,
    );
  }
  if (!(windowHours > 0) || !Number.isInteger(windowHours * 60)) {
    throw new Error(`Window hours must be a positive number of whole minutes, got ${windowHours}`);
  }
  const warmupHours = options.warmupHours ?? DEFAULT_WARMUP_HOURS;
  if (!(warmupHours >= 0) || !Number.isInteger(warmupHours * 60)) {
    throw new Error(`Warm-up hours must be zero or more whole minutes, got ${warmupHours}`);
  }
  const interval = options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
  if (!Number.isInteger(interval) || interval < MINUTE) {
    throw new Error(`Interval must be a whole number of seconds >= 60, got ${interval}`);
  }
  return { warmup: warmupHours * HOUR, length: windowHours * HOUR, gap: interval };
}

function between(candles: Candle[], from: number, to: number): Candle[] {
  return candles.slice(lowerBound(candles, from), lowerBound(candles, to));
}

/**
 * The longest run without candles of one product that the window's ticks see (from the last
 * candle before `start` through the last bar before `end`), or undefined when none is longer
 * than `maxGap` seconds.
 */
function longestGap(
  candles: Candle[],
  start: number,
  end: number,
  maxGap: number,
): { from: number; seconds: number } | undefined {
  const first = lowerBound(candles, start);
  const before = candles[first - 1];
  let expected = before === undefined ? start - MINUTE : before.time + MINUTE;
  let worst: { from: number; seconds: number } | undefined;
  const note = (from: number, seconds: number) => {
    if (seconds > maxGap && (worst === undefined || seconds > worst.seconds)) {
      worst = { from, seconds };
    }
  };
  for (let index = first; index < candles.length && candles[index]!.time < end; index++) {
    const candle = candles[index]!;
    note(expected, candle.time - expected);
    expected = candle.time + MINUTE;
  }
  note(expected, end - expected);
  return worst;
}

interface SetCut {
  usable: ReplayWindow[];
  skipped: SkippedWindow[];
}

function cutSet(set: CandleSet, warmup: number, length: number, maxGap: number): SetCut {
  if (set.candles.length === 0 || set.candles.some((product) => product.candles.length === 0)) {
    throw new Error(`Candle set ${set.name} must have candles for every product, got none`);
  }
  const first = Math.max(...set.candles.map((product) => product.candles[0]!.time));
  const stop = Math.min(...set.candles.map((product) => product.candles.at(-1)!.time + MINUTE));
  const usable: ReplayWindow[] = [];
  const skipped: SkippedWindow[] = [];
  const gridStart = Math.ceil((first + warmup) / HOUR) * HOUR;
  if (gridStart + length > stop) {
    skipped.push({
      set: set.name,
      start: iso(gridStart),
      reason: `The set's common data (${iso(first)} to ${iso(stop)}) is shorter than ` +
        `${warmup / HOUR} h of warm-up plus one ${length / HOUR} h window`,
    });
  }
  for (let at = gridStart, index = 0; at + length <= stop; at += length, index++) {
    const end = at + length;
    const gaps = set.candles.map((product) => ({
      productId: product.productId,
      gap: longestGap(product.candles, at, end, maxGap),
    })).filter((entry) => entry.gap !== undefined);
    if (gaps.length > 0) {
      const { productId, gap } = gaps[0]!;
      skipped.push({
        set: set.name,
        start: iso(at),
        reason: `${productId} has no candles for ${gap!.seconds / MINUTE} min from ` +
          `${iso(gap!.from)}, longer than the ${maxGap} s interval`,
      });
      continue;
    }
    usable.push({
      set: set.name,
      index,
      start: iso(at),
      end: iso(end),
      regime: labelMarketRegime(set.candles.map((product) => between(product.candles, at, end))),
      candles: set.candles.map((product) => ({
        productId: product.productId,
        candles: between(product.candles, at - warmup, end),
      })),
    });
  }
  return { usable, skipped };
}

/**
 * Chooses `count` windows round-robin over the sets (in the order given); each set in its turn
 * takes its window whose regime has been chosen least so far, the earliest on a tie.
 */
function spread(cuts: ReplayWindow[][], count: number): ReplayWindow[] {
  const remaining = cuts.map((cut) => [...cut]);
  const chosen: ReplayWindow[] = [];
  const covered = new Map<Regime, number>();
  while (chosen.length < count && remaining.some((cut) => cut.length > 0)) {
    for (const cut of remaining) {
      if (chosen.length >= count) break;
      if (cut.length === 0) continue;
      let pick = 0;
      for (let index = 1; index < cut.length; index++) {
        if ((covered.get(cut[index]!.regime) ?? 0) < (covered.get(cut[pick]!.regime) ?? 0)) {
          pick = index;
        }
      }
      const [window] = cut.splice(pick, 1) as [ReplayWindow];
      covered.set(window.regime, (covered.get(window.regime) ?? 0) + 1);
      chosen.push(window);
    }
  }
  return chosen;
}

/**
 * Cuts non-overlapping windows from every set after its warm-up (products of a set aligned on
 * their common time span, window starts on whole hours), skips windows where a product has no
 * candle for longer than the interval, labels each window's regime and spreads the chosen
 * windows over sets and regimes. Throws when fewer windows fit than asked, saying how many.
 */
export function planWindows(sets: readonly CandleSet[], options: CutWindowsOptions): WindowPlan {
  const { warmup, length, gap } = validate(options);
  if (sets.length === 0) throw new Error("Windows need at least one candle set, got none");
  const names = sets.map((set) => set.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw new Error(`Candle set ${duplicate} is given twice; give each set once`);
  }
  const cuts = sets.map((set) => cutSet(set, warmup, length, gap));
  const skipped = cuts.flatMap((cut) => cut.skipped);
  const total = cuts.reduce((sum, cut) => sum + cut.usable.length, 0);
  if (total < options.windows) {
    throw new Error(
      `The data holds ${total} windows of ${options.windowHours} h, asked for ` +
        `${options.windows} (${skipped.length} skipped for gaps or short data): ask for fewer ` +
        `windows or shorter ones`,
    );
  }
  return { windows: spread(cuts.map((cut) => cut.usable), options.windows), skipped };
}

/** The windows of {@linkcode planWindows}, without the skipped ones. */
export function cutWindows(sets: readonly CandleSet[], options: CutWindowsOptions): ReplayWindow[] {
  return planWindows(sets, options).windows;
}

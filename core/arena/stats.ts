/**
 * Statistics of tournament results, pure and seeded (the same inputs and seed give the same
 * numbers on every run).
 *
 * - Interval of a mean return per window: circular block bootstrap (Politis and Romano, 1992),
 *   95 % percentile interval from 2000 resamples. Windows are passed in market-time order within
 *   each set, so a block holds neighbouring windows and keeps their dependence (consecutive
 *   windows of one day share its volatility). Block length round(n^(1/3)), the usual rate for
 *   estimating the variance of a mean (Hall, Horowitz and Jing, 1995): 3 for 30 windows.
 * - p-values of a paired difference (entry minus buy-and-hold, entry minus entry): a sign-flip
 *   permutation test of the mean difference, flipping the signs of whole blocks of the same
 *   length (exact over all 2^blocks patterns up to 2^14, else 9999 seeded random patterns).
 *   Under "no edge" each block's differences are as likely negative as positive, so the test
 *   needs no normality; blocks keep it honest when neighbouring windows are correlated.
 * - Every p-value reported together (each entry vs buy-and-hold and every pair of entries) is
 *   adjusted with Holm's step-down method, which bounds the chance of any false "beats" claim
 *   across all of them by alpha.
 * - The Student-t summary ({@linkcode summarize}) stays for the sd and the older interval.
 */

import { createPrng, type Prng, randomInt } from "../prng.ts";

/** Two-sided 95 % Student-t critical values t(0.975, df) for df = 1..30. */
const T_975: readonly number[] = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/** The normal quantile z(0.975). */
const Z_975 = 1.959964;

/**
 * The 0.975 quantile of Student's t with `df` degrees of freedom: the standard table for
 * df <= 30, else the Cornish-Fisher expansion around the normal quantile (error < 0.001).
 */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) {
    throw new Error(`Degrees of freedom must be a positive integer, got ${df}`);
  }
  if (df <= T_975.length) return T_975[df - 1]!;
  const z = Z_975;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

/** Summary of a sample. */
export interface SampleSummary {
  /** Number of values. */
  n: number;
  /** Arithmetic mean (NaN for an empty sample). */
  mean: number;
  /** Sample standard deviation (n - 1 denominator); null for fewer than two values. */
  sd: number | null;
  /** 95 % t-interval of the mean; null for fewer than two values. */
  ci95: { low: number; high: number } | null;
}

/** Mean, sample standard deviation and 95 % t confidence interval of `values`. */
export function summarize(values: readonly number[]): SampleSummary {
  const n = values.length;
  if (n === 0) return { n, mean: Number.NaN, sd: null, ci95: null };
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  if (n < 2) return { n, mean, sd: null, ci95: null };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  const sd = Math.sqrt(variance);
  const half = tCritical95(n - 1) * sd / Math.sqrt(n);
  return { n, mean, sd, ci95: { low: mean - half, high: mean + half } };
}

/** A two-sided interval. */
export interface Interval {
  /** Lower bound. */
  low: number;
  /** Upper bound. */
  high: number;
}

/** Block length of the block bootstrap and the block sign-flip test: round(n^(1/3)), at least 1. */
export function blockLength(n: number): number {
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`Sample size must be a non-negative integer, got ${n}`);
  }
  return Math.max(1, Math.round(Math.cbrt(n)));
}

/** Options for {@linkcode bootstrapMeanInterval}. */
export interface BootstrapOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Block length (default {@linkcode blockLength} of the sample size). */
  blockLength?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

/** The q-quantile of sorted values (linear interpolation between order statistics). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const below = Math.floor(at);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (at - below);
}

/** The mean of one circular block bootstrap resample of `values`. */
function resampleMean(values: readonly number[], block: number, random: Prng): number {
  const n = values.length;
  let sum = 0;
  let taken = 0;
  while (taken < n) {
    const start = randomInt(random, n);
    for (let k = 0; k < block && taken < n; k++, taken++) sum += values[(start + k) % n]!;
  }
  return sum / n;
}

/**
 * Circular block bootstrap percentile interval of the mean of `values` (in the order given);
 * null for fewer than two values.
 */
export function bootstrapMeanInterval(
  values: readonly number[],
  options: BootstrapOptions = {},
): Interval | null {
  const n = values.length;
  if (n < 2) return null;
  const resamples = options.resamples ?? 2000;
  if (!Number.isInteger(resamples) || resamples < 100) {
    throw new Error(`Resamples must be an integer of at least 100, got ${resamples}`);
  }
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`Level must be in (0, 1), got ${level}`);
  const block = Math.min(n, options.blockLength ?? blockLength(n));
  const random = createPrng(options.seed ?? 1);
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) means.push(resampleMean(values, block, random));
  means.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { low: quantile(means, tail), high: quantile(means, 1 - tail) };
}

/** Options for {@linkcode signFlipPValue}. */
export interface SignFlipOptions {
  /** PRNG seed for the random patterns (default 1). */
  seed?: number;
  /** Random sign patterns when there are too many blocks to enumerate (default 9999). */
  permutations?: number;
  /** Block length (default {@linkcode blockLength} of the sample size). */
  blockLength?: number;
}

/** Blocks up to this count are enumerated exactly (2^14 patterns). */
const EXACT_BLOCKS = 14;

/**
 * Two-sided p-value of "the mean of `differences` is zero" by a sign-flip permutation test over
 * contiguous blocks: the share of sign patterns whose |mean| is at least the observed one.
 * 1 for fewer than two values or all-zero differences.
 */
export function signFlipPValue(
  differences: readonly number[],
  options: SignFlipOptions = {},
): number {
  const n = differences.length;
  if (n < 2) return 1;
  const block = Math.min(n, options.blockLength ?? blockLength(n));
  const sums: number[] = [];
  for (let start = 0; start < n; start += block) {
    let sum = 0;
    for (let k = start; k < Math.min(n, start + block); k++) sum += differences[k]!;
    sums.push(sum);
  }
  const observed = Math.abs(sums.reduce((total, sum) => total + sum, 0));
  const scale = sums.reduce((total, sum) => total + Math.abs(sum), 0);
  if (scale === 0) return 1;
  const threshold = observed - 1e-12 * scale;
  if (sums.length <= EXACT_BLOCKS) {
    const patterns = 2 ** sums.length;
    let extreme = 0;
    for (let pattern = 0; pattern < patterns; pattern++) {
      let total = 0;
      for (let b = 0; b < sums.length; b++) total += (pattern >> b) & 1 ? -sums[b]! : sums[b]!;
      if (Math.abs(total) >= threshold) extreme++;
    }
    return extreme / patterns;
  }
  const permutations = options.permutations ?? 9999;
  if (!Number.isInteger(permutations) || permutations < 99) {
    throw new Error(`Permutations must be an integer of at least 99, got ${permutations}`);
  }
  const random = createPrng(options.seed ?? 1);
  let extreme = 0;
  for (let r = 0; r < permutations; r++) {
    let total = 0;
    for (const sum of sums) total += random() < 0.5 ? -sum : sum;
    if (Math.abs(total) >= threshold) extreme++;
  }
  return (extreme + 1) / (permutations + 1);
}

/**
 * Holm's step-down adjustment of p-values (same order as given): the i-th smallest becomes
 * max over j <= i of min(1, (m - j + 1) x p_(j)).
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new Error(`P-values must be in [0, 1], got ${p}`);
  }
  const m = pValues.length;
  const order = pValues.map((p, index) => ({ p, index })).sort((a, b) => a.p - b.p);
  const adjusted: number[] = new Array(m).fill(1);
  let running = 0;
  order.forEach(({ p, index }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}

/** One paired comparison: `a` minus `b` per window. */
export interface Comparison {
  /** The entry compared. */
  a: string;
  /** What it is compared with (another entry or `buy-and-hold`). */
  b: string;
  /** Mean of the per-window differences (percent). */
  meanDiff: number;
  /** Block bootstrap 95 % interval of that mean; null for fewer than two windows. */
  ci95: Interval | null;
  /** Sign-flip p-value, unadjusted. */
  p: number;
  /** Holm-adjusted p-value over every comparison of the tournament. */
  pHolm: number;
}

/** One entry's statistics. */
export interface EntryStats {
  /** Entry name. */
  name: string;
  /** Mean return per window (percent). */
  mean: number;
  /** Block bootstrap 95 % interval of the mean; null for fewer than two windows. */
  ci95: Interval | null;
  /** Paired comparison with the benchmark. */
  vsBenchmark: Comparison;
}

/** Input of {@linkcode analyzeTournament}: returns per window in market-time order within sets. */
export interface TournamentSample {
  /** Entries with one return per window (percent). */
  entries: { name: string; returns: readonly number[] }[];
  /** The benchmark's return per window (percent). */
  benchmark: readonly number[];
  /** The benchmark's name (default `buy-and-hold`). */
  benchmarkName?: string;
}

/** Options for {@linkcode analyzeTournament}. */
export interface AnalyzeOptions {
  /** Seed of every bootstrap and permutation (default 1). */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Random sign patterns when not enumerated (default 9999). */
  permutations?: number;
  /** Significance level of the verdict (default 0.05). */
  alpha?: number;
}

/** Statistics of a whole tournament. */
export interface TournamentStats {
  /** Per entry, in input order. */
  entries: EntryStats[];
  /** The benchmark's mean and interval. */
  benchmark: { name: string; mean: number; ci95: Interval | null };
  /** Every entry-vs-entry comparison (each pair once, `a` before `b` in input order). */
  pairs: Comparison[];
  /** Block length used. */
  blockLength: number;
  /** Significance level. */
  alpha: number;
  /** Seed used. */
  seed: number;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/**
 * Means, block bootstrap intervals and Holm-adjusted sign-flip p-values of every entry against
 * the benchmark and against each other entry. Every series must have the same length.
 */
export function analyzeTournament(
  sample: TournamentSample,
  options: AnalyzeOptions = {},
): TournamentStats {
  const n = sample.benchmark.length;
  for (const entry of sample.entries) {
    if (entry.returns.length !== n) {
      throw new Error(
        `Entry ${entry.name} has ${entry.returns.length} returns, the benchmark has ${n}: ` +
          `every series needs one return per window`,
      );
    }
  }
  const seed = options.seed ?? 1;
  const block = blockLength(n);
  const boot = (values: readonly number[], salt: number) =>
    bootstrapMeanInterval(values, {
      seed: seed + salt,
      resamples: options.resamples,
      blockLength: block,
    });
  const compare = (a: string, b: string, diffs: number[], salt: number): Comparison => ({
    a,
    b,
    meanDiff: mean(diffs),
    ci95: boot(diffs, salt),
    p: signFlipPValue(diffs, {
      seed: seed + salt,
      permutations: options.permutations,
      blockLength: block,
    }),
    pHolm: 1,
  });
  const benchmarkName = sample.benchmarkName ?? "buy-and-hold";
  let salt = 0;
  const entries: EntryStats[] = sample.entries.map((entry) => ({
    name: entry.name,
    mean: mean(entry.returns),
    ci95: boot(entry.returns, ++salt),
    vsBenchmark: compare(
      entry.name,
      benchmarkName,
      entry.returns.map((value, w) => value - sample.benchmark[w]!),
      ++salt,
    ),
  }));
  const pairs: Comparison[] = [];
  sample.entries.forEach((a, i) => {
    for (const b of sample.entries.slice(i + 1)) {
      const diffs = a.returns.map((value, w) => value - b.returns[w]!);
      pairs.push(compare(a.name, b.name, diffs, ++salt));
    }
  });
  const all = [...entries.map((entry) => entry.vsBenchmark), ...pairs];
  const adjusted = holmAdjust(all.map((comparison) => comparison.p));
  all.forEach((comparison, index) => comparison.pHolm = adjusted[index]!);
  return {
    entries,
    benchmark: {
      name: benchmarkName,
      mean: mean(sample.benchmark),
      ci95: boot(sample.benchmark, 0),
    },
    pairs,
    blockLength: block,
    alpha: options.alpha ?? 0.05,
    seed,
  };
}

/** Percentile rank of `value` among `others` in percent (ties count half); null without others. */
export function percentileRank(value: number, others: readonly number[]): number | null {
  if (others.length === 0) return null;
  let below = 0;
  for (const other of others) below += other < value ? 1 : other === value ? 0.5 : 0;
  return below / others.length * 100;
}

/** A signed percentage with two decimals: `+1.20`, `-0.35`. */
function signed(value: number): string {
  return `${value > 0 ? "+" : value < 0 ? "-" : ""}${Math.abs(value).toFixed(2)}`;
}

/** A p-value for text: three decimals, `<0.001` below that. */
export function formatPValue(p: number): string {
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** A comparison in words: `+1.20 % per window [+0.40, +2.00], p=0.010 (Holm)`. */
export function describeComparison(comparison: Comparison): string {
  const ci = comparison.ci95
    ? ` [${signed(comparison.ci95.low)}, ${signed(comparison.ci95.high)}]`
    : "";
  return `${signed(comparison.meanDiff)} % per window${ci}, p=${
    formatPValue(comparison.pHolm)
  } (Holm)`;
}

/**
 * The verdict in one line: the entry that beats the benchmark by the most among those whose
 * Holm-adjusted p-value is below alpha with a positive mean excess, else that none does.
 */
export function verdictLine(stats: TournamentStats): string {
  const windows = stats.entries[0]?.vsBenchmark.ci95 === null ? 1 : 2;
  if (stats.entries.length === 0 || windows < 2) {
    return "No verdict: a verdict needs at least two windows and one entry";
  }
  const level = `${Math.round((1 - stats.alpha) * 100)} %`;
  const winners = stats.entries
    .filter((entry) => entry.vsBenchmark.pHolm < stats.alpha && entry.vsBenchmark.meanDiff > 0)
    .sort((a, b) => b.vsBenchmark.meanDiff - a.vsBenchmark.meanDiff);
  const best = winners[0];
  if (!best) {
    return `No entry beats ${stats.benchmark.name} beyond luck (Holm-adjusted, ${level})`;
  }
  const more = winners.length > 1
    ? `; ${winners.length - 1} more ${winners.length === 2 ? "entry does" : "entries do"} too`
    : "";
  return `${best.name} beats ${stats.benchmark.name} by ${describeComparison(best.vsBenchmark)}` +
    more;
}

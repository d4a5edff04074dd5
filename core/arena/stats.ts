/**
 * Statistics of tournament results: mean, sample standard deviation and a two-sided Student-t
 * confidence interval of the mean. Returns are treated as independent samples, one per window.
 */

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

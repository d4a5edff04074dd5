import assert from "node:assert/strict";
import {
  analyzeTournament,
  blockLength,
  bootstrapMeanInterval,
  holmAdjust,
  percentileRank,
  signFlipPValue,
  summarize,
  tCritical95,
} from "../../core/arena/stats.ts";
import { createPrng } from "../../core/prng.ts";

Deno.test("tCritical95 returns the textbook table values for small samples", () => {
  assert.equal(tCritical95(1), 12.706);
  assert.equal(tCritical95(4), 2.776);
  assert.equal(tCritical95(7), 2.365);
  assert.equal(tCritical95(30), 2.042);
});

Deno.test("tCritical95 approximates large degrees of freedom within 0.001", () => {
  // Reference quantiles of Student's t: df 40 -> 2.0211, df 60 -> 2.0003, df 120 -> 1.9799.
  assert.ok(Math.abs(tCritical95(40) - 2.0211) < 0.001);
  assert.ok(Math.abs(tCritical95(60) - 2.0003) < 0.001);
  assert.ok(Math.abs(tCritical95(120) - 1.9799) < 0.001);
  assert.ok(tCritical95(31) < tCritical95(30));
  assert.ok(tCritical95(100_000) > 1.959 && tCritical95(100_000) < 1.961);
});

Deno.test("tCritical95 rejects degrees of freedom below one", () => {
  assert.throws(() => tCritical95(0), /Degrees of freedom must be a positive integer, got 0/);
  assert.throws(() => tCritical95(2.5), /positive integer/);
});

Deno.test("summarize gives mean, sample sd and the 95% t-interval", () => {
  const summary = summarize([1, 2, 3, 4, 5]);
  assert.equal(summary.n, 5);
  assert.equal(summary.mean, 3);
  assert.ok(Math.abs(summary.sd! - Math.sqrt(2.5)) < 1e-12);
  const half = 2.776 * Math.sqrt(2.5) / Math.sqrt(5);
  assert.ok(Math.abs(summary.ci95!.low - (3 - half)) < 1e-12);
  assert.ok(Math.abs(summary.ci95!.high - (3 + half)) < 1e-12);
});

Deno.test("summarize of a constant sample has a zero-width interval", () => {
  const summary = summarize([-1.5, -1.5, -1.5]);
  assert.equal(summary.mean, -1.5);
  assert.equal(summary.sd, 0);
  assert.deepEqual(summary.ci95, { low: -1.5, high: -1.5 });
});

Deno.test("summarize has no interval for fewer than two values", () => {
  assert.deepEqual(summarize([2]), { n: 1, mean: 2, sd: null, ci95: null });
  const empty = summarize([]);
  assert.equal(empty.n, 0);
  assert.ok(Number.isNaN(empty.mean));
  assert.equal(empty.ci95, null);
});

Deno.test("summarize: two values give mean +/- 12.706 * |a - b| / 2", () => {
  const summary = summarize([1, 3]);
  // sd = sqrt(2), half width = 12.706 * sqrt(2) / sqrt(2) = 12.706.
  assert.ok(Math.abs(summary.ci95!.low - (2 - 12.706)) < 1e-9);
  assert.ok(Math.abs(summary.ci95!.high - (2 + 12.706)) < 1e-9);
});

function normals(random: () => number, n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - random();
    const v = random();
    out.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

Deno.test("blockLength is round(n^(1/3)), at least one", () => {
  assert.equal(blockLength(0), 1);
  assert.equal(blockLength(2), 1);
  assert.equal(blockLength(8), 2);
  assert.equal(blockLength(30), 3);
  assert.equal(blockLength(100), 5);
  assert.throws(() => blockLength(-1), /Sample size must be a non-negative integer, got -1/);
});

Deno.test("holmAdjust matches a hand-computed example", () => {
  // Sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> max so far 0.06.
  const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
  const expected = [0.03, 0.06, 0.06, 0.02];
  adjusted.forEach((p, i) =>
    assert.ok(Math.abs(p - expected[i]!) < 1e-12, `${p} vs ${expected[i]}`)
  );
  assert.deepEqual(holmAdjust([0.5, 0.9]), [1, 1]);
  assert.deepEqual(holmAdjust([0.01, 0.9]), [0.02, 0.9]);
  assert.deepEqual(holmAdjust([]), []);
  assert.throws(() => holmAdjust([1.5]), /P-values must be in \[0, 1\], got 1.5/);
});

Deno.test("signFlipPValue enumerates every sign pattern exactly for few blocks", () => {
  // Sums 1, 2, 3: of the 8 patterns only +++ and --- reach |6|.
  assert.equal(signFlipPValue([1, 2, 3], { blockLength: 1 }), 0.25);
  // 1, -1: |0| is reached by all 4 patterns' |mean| >= 0.
  assert.equal(signFlipPValue([1, -1], { blockLength: 1 }), 1);
  assert.equal(signFlipPValue([0, 0, 0]), 1);
  assert.equal(signFlipPValue([5]), 1);
  // Blocks of two: sums 3 and 7, patterns +-: |{10, -4, 4, -10}| >= 10 twice out of 4.
  assert.equal(signFlipPValue([1, 2, 3, 4], { blockLength: 2 }), 0.5);
});

Deno.test("signFlipPValue samples seeded patterns for many blocks, reproducibly", () => {
  const diffs = Array.from({ length: 40 }, (_, i) => (i % 3) - 0.8);
  const a = signFlipPValue(diffs, { blockLength: 1, seed: 7 });
  const b = signFlipPValue(diffs, { blockLength: 1, seed: 7 });
  assert.equal(a, b);
  assert.ok(a > 0 && a <= 1);
  // All 40 positive: only the identity-like patterns are as extreme; p is the floor 1/(M+1).
  const all = signFlipPValue(Array(40).fill(1), { blockLength: 1, permutations: 999 });
  assert.equal(all, 1 / 1000);
});

Deno.test("bootstrapMeanInterval is reproducible and exact for constant samples", () => {
  const values = [0.5, -1, 2, 0.1, -0.3, 1.2, 0.8, -0.6];
  const a = bootstrapMeanInterval(values, { seed: 3 });
  assert.deepEqual(a, bootstrapMeanInterval(values, { seed: 3 }));
  assert.notDeepEqual(a, bootstrapMeanInterval(values, { seed: 4 }));
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  assert.ok(a!.low < mean && mean < a!.high);
  assert.deepEqual(bootstrapMeanInterval([2, 2, 2]), { low: 2, high: 2 });
  // One block as long as the sample: every circular resample holds each value once.
  const whole = bootstrapMeanInterval([1, 2, 3, 6], { blockLength: 4 })!;
  assert.ok(Math.abs(whole.low - 3) < 1e-12 && Math.abs(whole.high - 3) < 1e-12);
  assert.equal(bootstrapMeanInterval([1]), null);
});

Deno.test("bootstrapMeanInterval covers the true mean close to 95% of the time", () => {
  const random = createPrng(11);
  let covered = 0;
  const trials = 200;
  for (let t = 0; t < trials; t++) {
    const values = normals(random, 30).map((z) => 1 + 2 * z);
    const ci = bootstrapMeanInterval(values, { seed: t, resamples: 1000 })!;
    if (ci.low <= 1 && 1 <= ci.high) covered++;
  }
  assert.ok(covered / trials >= 0.86 && covered / trials <= 0.99, `coverage ${covered / trials}`);
});

Deno.test("analyzeTournament detects a planted edge over buy-and-hold", () => {
  const random = createPrng(5);
  const market = normals(random, 30).map((z) => 2 * z);
  const noise = () => normals(random, 30).map((z) => 0.5 * z);
  const edge = noise().map((e, w) => market[w]! + 0.6 + e);
  const plain = noise().map((e, w) => market[w]! + e);
  const stats = analyzeTournament({
    entries: [{ name: "edge", returns: edge }, { name: "plain", returns: plain }],
    benchmark: market,
  });
  const [found, none] = stats.entries;
  assert.ok(found!.vsBenchmark.pHolm < 0.05, `edge p=${found!.vsBenchmark.pHolm}`);
  assert.ok(found!.vsBenchmark.ci95!.low > 0);
  assert.ok(Math.abs(found!.vsBenchmark.meanDiff - 0.6) < 0.3);
  assert.ok(none!.vsBenchmark.pHolm >= 0.05, `no-edge p=${none!.vsBenchmark.pHolm}`);
  assert.equal(stats.pairs.length, 1);
  assert.equal(stats.pairs[0]!.a, "edge");
  assert.ok(stats.pairs[0]!.pHolm < 0.05);
  assert.equal(stats.blockLength, 3);
  // Holm over the three comparisons: each adjusted p is at least the raw one.
  for (const c of [found!.vsBenchmark, none!.vsBenchmark, stats.pairs[0]!]) {
    assert.ok(c.pHolm >= c.p);
  }
});

Deno.test("analyzeTournament flags entries without edge at no more than the nominal rate", () => {
  const random = createPrng(2026);
  const tournaments = 200;
  let flagged = 0;
  for (let t = 0; t < tournaments; t++) {
    const market = normals(random, 30).map((z) => 1.5 * z);
    const entries = ["a", "b", "c"].map((name) => ({
      name,
      returns: normals(random, 30).map((z, w) => market[w]! + 0.8 * z),
    }));
    const stats = analyzeTournament({ entries, benchmark: market }, {
      seed: t,
      resamples: 200,
      permutations: 999,
    });
    const all = [...stats.entries.map((entry) => entry.vsBenchmark), ...stats.pairs];
    if (all.some((comparison) => comparison.pHolm < 0.05)) flagged++;
  }
  console.log(`false-positive rate over ${tournaments} tournaments: ${flagged / tournaments}`);
  assert.ok(flagged / tournaments <= 0.08, `false-positive rate ${flagged / tournaments}`);
});

Deno.test("analyzeTournament rejects series of different lengths", () => {
  assert.throws(
    () => analyzeTournament({ entries: [{ name: "x", returns: [1] }], benchmark: [1, 2] }),
    /Entry x has 1 returns, the benchmark has 2/,
  );
});

Deno.test("percentileRank counts the share below, ties half", () => {
  assert.equal(percentileRank(2, [1, 2, 3, 4]), 37.5);
  assert.equal(percentileRank(10, [1, 2]), 100);
  assert.equal(percentileRank(0, []), null);
});

import assert from "node:assert/strict";
import { summarize, tCritical95 } from "../../core/arena/stats.ts";

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

/** Progress lines: bar, percentage, and the time left from the pace so far. */

import assert from "node:assert/strict";
import { estimateRemainingMs, formatDuration, formatProgressBar } from "../../core/progress.ts";

Deno.test("formatDuration reads as seconds, minutes or hours", () => {
  assert.equal(formatDuration(4_400), "4 s");
  assert.equal(formatDuration(65_000), "1 m 05 s");
  assert.equal(formatDuration(3_720_000), "1 h 02 m");
  assert.equal(formatDuration(-5), "0 s");
});

Deno.test("the time left extrapolates the pace; unknown before anything is done", () => {
  assert.equal(estimateRemainingMs({ done: 0, total: 10, elapsedMs: 500 }), undefined);
  assert.equal(estimateRemainingMs({ done: 1, total: 4, elapsedMs: 2_000 }), 6_000);
  assert.equal(estimateRemainingMs({ done: 4, total: 4, elapsedMs: 2_000 }), 0);
});

Deno.test("formatProgressBar shows the bar, the percentage, the time left and the label", () => {
  assert.equal(
    formatProgressBar({ done: 1, total: 4, elapsedMs: 2_000 }, { width: 8, label: "window 1/4" }),
    "[##------]  25 % · 6 s left · window 1/4",
  );
  assert.equal(
    formatProgressBar({ done: 0, total: 4, elapsedMs: 0 }, { width: 4 }),
    "[----]   0 % · estimating time left",
  );
  const line = formatProgressBar({ done: 37, total: 90, elapsedMs: 61_000 }, {
    label: "window 13/30 tick 7/48",
  });
  assert.ok(line.length <= 100, `fits 100 columns: ${line}`);
});

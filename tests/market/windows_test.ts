import assert from "node:assert/strict";
import type { Candle } from "../../core/contracts/market.ts";
import { CandleBook } from "../../core/market/candle_book.ts";
import { DEFAULT_WARMUP_SECONDS } from "../../core/market/csv_market.ts";
import { LONGEST_WINDOW_SECONDS, selectWindow, windowBounds } from "../../core/market/windows.ts";

function bar(time: number): Candle {
  return { time, low: "1", high: "1", open: "1", close: "1", volume: "1" };
}

const NOW = 1_504_411_200; // 2017-09-03T04:00:00Z, on a 15-min boundary

Deno.test("window bounds are 3h..90min (the original's code), 90..20min and the last 20 min", () => {
  assert.deepEqual(windowBounds(NOW), {
    m15: { start: NOW - 10_800, end: NOW - 5_400 },
    m5: { start: NOW - 5_400, end: NOW - 1_200 },
    m1: { start: NOW - 1_200, end: NOW },
  });
});

Deno.test("a bar starting exactly at a window start is in, one at its end is out", () => {
  const bounds = windowBounds(NOW);
  const bars = [NOW - 10_860, NOW - 10_800, NOW - 5_460, NOW - 5_400].map(bar);
  assert.deepEqual(selectWindow(bars, bounds.m15).map((c) => c.time), [
    NOW - 10_800,
    NOW - 5_460,
  ]);
  const minutes = [NOW - 1_260, NOW - 1_200, NOW - 60, NOW].map(bar);
  assert.deepEqual(selectWindow(minutes, bounds.m1).map((c) => c.time), [NOW - 1_200, NOW - 60]);
});

Deno.test("full windows hold 6 fifteen-minute, 14 five-minute and 20 one-minute bars", () => {
  const book = new CandleBook();
  const range = (granularity: number) =>
    Array.from({ length: 20_000 / granularity | 0 }, (_, i) => bar(NOW - 18_000 + i * granularity))
      .filter((c) => c.time < NOW);
  book.upsert("BTC-USD", 900, range(900));
  book.upsert("BTC-USD", 300, range(300));
  book.upsert("BTC-USD", 60, range(60));
  const windows = book.windows("BTC-USD", NOW);
  assert.equal(windows.m15.length, 6);
  assert.equal(windows.m5.length, 14);
  assert.equal(windows.m1.length, 20);
  assert.equal(windows.m15[0]!.time, NOW - 10_800);
  assert.equal(windows.m5[0]!.time, NOW - 5_400);
  assert.equal(windows.m1[19]!.time, NOW - 60);
});

Deno.test("the replay warm-up covers the longest window, 3 h", () => {
  assert.equal(LONGEST_WINDOW_SECONDS, 3 * 3600);
  assert.ok(DEFAULT_WARMUP_SECONDS >= LONGEST_WINDOW_SECONDS);
  const bounds = windowBounds(NOW);
  assert.equal(NOW - bounds.m15.start, LONGEST_WINDOW_SECONDS);
});

Deno.test("upsert replaces a bar with the same start and keeps order", () => {
  const book = new CandleBook();
  book.upsert("BTC-USD", 60, [bar(180), bar(60)]);
  book.upsert("BTC-USD", 60, [{ ...bar(60), close: "2" }, bar(120)]);
  assert.deepEqual(book.series("BTC-USD", 60).map((c) => [c.time, c.close]), [
    [60, "2"],
    [120, "1"],
    [180, "1"],
  ]);
});

Deno.test("prune drops bars older than any window", () => {
  const book = new CandleBook();
  book.upsert("BTC-USD", 60, [bar(NOW - 20_000), bar(NOW - 60)]);
  book.prune(NOW);
  assert.deepEqual(book.series("BTC-USD", 60).map((c) => c.time), [NOW - 60]);
});

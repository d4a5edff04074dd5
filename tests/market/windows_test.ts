import assert from "node:assert/strict";
import type { Candle } from "../../core/contracts/market.ts";
import { CandleBook } from "../../core/market/candle_book.ts";
import { DEFAULT_WARMUP_SECONDS } from "../../core/market/csv_market.ts";
import { createLogger, type Logger } from "../../core/log.ts";
import {
  EmptyWindowWarnings,
  LONGEST_WINDOW_SECONDS,
  selectWindow,
  windowBounds,
} from "../../core/market/windows.ts";

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

function captureLog(): { log: Logger; warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const log = createLogger("test", {
    level: "warn",
    sink: (line) => warnings.push(JSON.parse(line)),
  });
  return { log, warnings };
}

Deno.test("an empty candle window is warned about once, not at every tick", () => {
  const book = new CandleBook();
  const start = NOW - LONGEST_WINDOW_SECONDS;
  book.load("BTC-USD", 900, Array.from({ length: 20 }, (_, i) => bar(start + i * 900)));
  book.load("BTC-USD", 300, Array.from({ length: 60 }, (_, i) => bar(start + i * 300)));
  // One-minute bars stop 30 minutes before NOW: the m1 window is empty from then on.
  book.load("BTC-USD", 60, Array.from({ length: 150 }, (_, i) => bar(start + i * 60)));
  const { log, warnings } = captureLog();
  const watch = new EmptyWindowWarnings(log);
  const snapshotAt = (now: number) => ({
    time: new Date(now * 1000).toISOString(),
    products: [{ productId: "BTC-USD", candles: book.windows("BTC-USD", now) }],
  });
  for (let tick = 0; tick < 5; tick++) {
    const fresh = watch.check(snapshotAt(NOW + tick * 60));
    assert.deepEqual(fresh, tick === 0 ? [{ productId: "BTC-USD", window: "m1" }] : []);
  }
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.level, "warn");
  assert.deepEqual(warnings[0]!.windows, ["BTC-USD m1"]);
  // Bars come back, then stop again: a new outage is a new warning.
  book.upsert("BTC-USD", 60, [bar(NOW + 240)]);
  assert.deepEqual(watch.check(snapshotAt(NOW + 300)), []);
  assert.deepEqual(watch.check(snapshotAt(NOW + 300 + 1_500)), [
    { productId: "BTC-USD", window: "m1" },
  ]);
  assert.equal(warnings.length, 2);
});

Deno.test("full candle windows log nothing", () => {
  const book = new CandleBook();
  const start = NOW - LONGEST_WINDOW_SECONDS;
  book.load("ETH-USD", 900, Array.from({ length: 12 }, (_, i) => bar(start + i * 900)));
  book.load("ETH-USD", 300, Array.from({ length: 36 }, (_, i) => bar(start + i * 300)));
  book.load("ETH-USD", 60, Array.from({ length: 180 }, (_, i) => bar(start + i * 60)));
  const { log, warnings } = captureLog();
  const watch = new EmptyWindowWarnings(log);
  const candles = book.windows("ETH-USD", NOW);
  assert.ok(candles.m1.length > 0 && candles.m5.length > 0 && candles.m15.length > 0);
  assert.deepEqual(
    watch.check({
      time: "2017-09-03T04:00:00.000Z",
      products: [{ productId: "ETH-USD", candles }],
    }),
    [],
  );
  assert.equal(warnings.length, 0);
});

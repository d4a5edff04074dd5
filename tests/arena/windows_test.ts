import assert from "node:assert/strict";
import type { Candle } from "../../core/contracts/market.ts";
import {
  type CandleSet,
  cutWindows,
  DEFAULT_TOURNAMENT_SETS,
  DEFAULT_WINDOW_HOURS,
  DEFAULT_WINDOWS,
  planWindows,
} from "../../core/arena/windows.ts";
import { loadMarketSets, MARKET_SETS } from "../../core/market/market_sets.ts";

const T0 = Date.parse("2024-03-01T00:00:00Z") / 1000;
const HOUR = 3600;

/** 1-minute candles from `start` for `hours` at `path(minute)`, `missing` minutes left out. */
function candles(
  start: number,
  hours: number,
  path: (minute: number) => number,
  missing: (minute: number) => boolean = () => false,
): Candle[] {
  const out: Candle[] = [];
  for (let minute = 0; minute < hours * 60; minute++) {
    if (missing(minute)) continue;
    const open = path(minute);
    const close = path(minute + 1);
    out.push({
      time: start + minute * 60,
      open: open.toFixed(2),
      close: close.toFixed(2),
      high: Math.max(open, close).toFixed(2),
      low: Math.min(open, close).toFixed(2),
      volume: "1",
    });
  }
  return out;
}

const flat = (minute: number) => 100 * (minute % 2 === 0 ? 1.0001 : 0.9999);

function set(name: string, hours: number, path = flat, missing?: (m: number) => boolean) {
  return { name, candles: [{ productId: "BTC-USD", candles: candles(T0, hours, path, missing) }] };
}

/** Price path: flat for the first `flatHours`, then rising 5 % per 4 h. */
function riseAfter(flatHours: number): (minute: number) => number {
  return (minute) => {
    const rising = Math.max(0, minute - flatHours * 60);
    return flat(minute) * (1 + 0.05 * rising / 240);
  };
}

Deno.test("cutWindows cuts non-overlapping windows after the warm-up, with regimes", () => {
  const windows = cutWindows([set("a", 16)], { windows: 3, windowHours: 4 });
  assert.deepEqual(windows.map((window) => [window.index, window.start, window.end]), [
    [0, "2024-03-01T04:00:00.000Z", "2024-03-01T08:00:00.000Z"],
    [1, "2024-03-01T08:00:00.000Z", "2024-03-01T12:00:00.000Z"],
    [2, "2024-03-01T12:00:00.000Z", "2024-03-01T16:00:00.000Z"],
  ]);
  assert.deepEqual(windows.map((window) => window.regime), ["quiet", "quiet", "quiet"]);
  const product = windows[1]!.candles[0]!;
  // 4 h of warm-up plus the 4 h window, one candle a minute.
  assert.equal(product.candles.length, 480);
  assert.equal(product.candles[0]!.time, T0 + 4 * HOUR);
  assert.equal(product.candles.at(-1)!.time, T0 + 12 * HOUR - 60);
});

Deno.test("cutWindows labels each window by its own candles, not the warm-up", () => {
  const windows = cutWindows([set("a", 12, riseAfter(8))], { windows: 2, windowHours: 4 });
  assert.deepEqual(windows.map((window) => window.regime), ["quiet", "trend_up"]);
});

Deno.test("cutWindows needs at least two windows and says so", () => {
  const sets = [set("a", 16)];
  assert.throws(
    () => cutWindows(sets, { windows: 1, windowHours: 4 }),
    /Windows must be a positive integer of at least 2 \(the confidence interval needs two samples\), got 1/,
  );
  assert.throws(() => cutWindows(sets, { windows: 0, windowHours: 4 }), /positive integer/);
  assert.throws(() => cutWindows(sets, { windows: 2, windowHours: 0 }), /Window hours/);
  assert.throws(
    () => cutWindows(sets, { windows: 2, windowHours: 4, intervalSeconds: 30 }),
    /Interval must be a whole number of seconds >= 60, got 30/,
  );
});

Deno.test("cutWindows says how many windows fit when asked for too many", () => {
  assert.throws(
    () => cutWindows([set("a", 16), set("b", 7)], { windows: 5, windowHours: 4 }),
    /The data holds 3 windows of 4 h, asked for 5 \(1 skipped for gaps or short data\)/,
  );
});

Deno.test("planWindows skips a window with a gap longer than the interval, with the reason", () => {
  // 10 minutes missing at 09:00-09:09, inside the second window (08:00-12:00).
  const gappy = set("g", 16, flat, (m) => m >= 540 && m < 550);
  const plan = planWindows([gappy], { windows: 2, windowHours: 4 });
  assert.deepEqual(plan.windows.map((window) => window.start), [
    "2024-03-01T04:00:00.000Z",
    "2024-03-01T12:00:00.000Z",
  ]);
  assert.deepEqual(plan.skipped, [{
    set: "g",
    start: "2024-03-01T08:00:00.000Z",
    reason: "BTC-USD has no candles for 10 min from 2024-03-01T09:00:00.000Z, " +
      "longer than the 300 s interval",
  }]);
  const tolerant = planWindows([gappy], { windows: 3, windowHours: 4, intervalSeconds: 900 });
  assert.equal(tolerant.skipped.length, 0);
  assert.equal(tolerant.windows.length, 3);
});

Deno.test("planWindows skips both windows around a gap at their boundary", () => {
  // 07:53-07:59 missing: the last tick of 04:00-08:00 and the first of 08:00-12:00 (both at
  // 08:00) would see an 8-minute-old price.
  const gappy = set("g", 20, flat, (m) => m >= 473 && m < 480);
  const plan = planWindows([gappy], { windows: 2, windowHours: 4, intervalSeconds: 300 });
  assert.deepEqual(plan.skipped.map((skip) => skip.start), [
    "2024-03-01T04:00:00.000Z",
    "2024-03-01T08:00:00.000Z",
  ]);
  for (const skip of plan.skipped) {
    assert.match(skip.reason, /no candles for 7 min from 2024-03-01T07:53:00.000Z/);
  }
  assert.deepEqual(plan.windows.map((window) => window.index), [2, 3]);
});

Deno.test("planWindows reports a set too short for one window", () => {
  const plan = planWindows([set("a", 16), set("short", 6)], { windows: 2, windowHours: 4 });
  assert.equal(plan.skipped.length, 1);
  assert.equal(plan.skipped[0]!.set, "short");
  assert.match(plan.skipped[0]!.reason, /shorter than 4 h of warm-up plus one 4 h window/);
});

Deno.test("multi-product windows start after every product's warm-up and end with the first", () => {
  const late = T0 + 30 * 60;
  const two: CandleSet = {
    name: "two",
    candles: [
      { productId: "BTC-USD", candles: candles(T0, 14, flat) },
      { productId: "ETH-USD", candles: candles(late, 14, flat) },
    ],
  };
  const windows = cutWindows([two], { windows: 2, windowHours: 4 });
  // ETH starts at 00:30: first start 04:30 rounded up to the whole hour 05:00; BTC ends at 14:00.
  assert.deepEqual(windows.map((window) => window.start), [
    "2024-03-01T05:00:00.000Z",
    "2024-03-01T09:00:00.000Z",
  ]);
  for (const window of windows) {
    const starts = window.candles.map((product) => product.candles[0]!.time);
    const ends = window.candles.map((product) => product.candles.at(-1)!.time);
    assert.equal(new Set(ends).size, 1);
    assert.ok(starts.every((time) => time >= T0 && time <= Date.parse(window.start) / 1000));
  }
});

Deno.test("planWindows goes round-robin over sets, preferring regimes not yet covered", () => {
  // Set a: windows quiet, quiet, quiet, trend_up; set b: quiet, quiet.
  const a = set("a", 20, riseAfter(16));
  const b = set("b", 12);
  const plan = planWindows([a, b], { windows: 4, windowHours: 4 });
  assert.deepEqual(plan.windows.map((window) => `${window.set}#${window.index}:${window.regime}`), [
    "a#0:quiet",
    "b#0:quiet",
    "a#3:trend_up",
    "b#1:quiet",
  ]);
});

Deno.test("cutWindows rejects a set given twice", () => {
  assert.throws(
    () => cutWindows([set("a", 16), set("a", 16)], { windows: 2, windowHours: 4 }),
    /Candle set a is given twice/,
  );
});

Deno.test("the default plan: 30 windows of 4 h from at least 3 sets and 3 regimes", async () => {
  for (const name of DEFAULT_TOURNAMENT_SETS) {
    assert.ok(MARKET_SETS.some((info) => info.name === name), name);
  }
  const sets = await loadMarketSets(DEFAULT_TOURNAMENT_SETS);
  const plan = planWindows(sets, { windows: DEFAULT_WINDOWS, windowHours: DEFAULT_WINDOW_HOURS });
  assert.equal(plan.windows.length, 30);
  assert.ok(new Set(plan.windows.map((window) => window.set)).size >= 3);
  assert.ok(new Set(plan.windows.map((window) => window.regime)).size >= 3);
  const ticks = plan.windows.length * (DEFAULT_WINDOW_HOURS * HOUR / 300 + 1);
  assert.ok(ticks <= 1500, `${ticks} ticks`);
  const keys = plan.windows.map((window) => `${window.set}@${window.start}`);
  assert.equal(new Set(keys).size, keys.length);
  for (const name of new Set(plan.windows.map((window) => window.set))) {
    const spans = plan.windows.filter((window) => window.set === name)
      .map((window) => [Date.parse(window.start), Date.parse(window.end)] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let index = 1; index < spans.length; index++) {
      assert.ok(spans[index]![0] >= spans[index - 1]![1], `${name} windows overlap`);
    }
  }
});

Deno.test("real gaps: Bitstamp windows are skipped at a 60 s interval, with reasons", async () => {
  const [bitstamp] = await loadMarketSets(["bitstamp-2025-01"]);
  const plan = planWindows([bitstamp!], { windows: 2, windowHours: 4, intervalSeconds: 60 });
  assert.ok(plan.skipped.length > 10);
  assert.match(plan.skipped[0]!.reason, /^BTC-USD has no candles for \d+ min from 2025-01-/);
  const relaxed = planWindows([bitstamp!], { windows: 2, windowHours: 4 });
  assert.equal(relaxed.skipped.length, 0);
});

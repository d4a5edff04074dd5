import assert from "node:assert/strict";
import type { Candle } from "../../core/contracts/market.ts";
import {
  labelMarketRegime,
  labelRegime,
  regimeOf,
  REGIMES,
  regimeStats,
} from "../../core/market/regime.ts";
import { fixtureCandles } from "./_fixtures.ts";

const DAY = 1440;

/** 1-minute candles following `path(minute)` (a price), open = previous close. */
function synthetic(minutes: number, path: (minute: number) => number): Candle[] {
  const candles: Candle[] = [];
  let previous = path(0);
  for (let minute = 0; minute < minutes; minute++) {
    const close = path(minute + 1);
    candles.push({
      time: 1_700_000_000 - (1_700_000_000 % 60) + minute * 60,
      open: previous.toFixed(2),
      close: close.toFixed(2),
      high: Math.max(previous, close).toFixed(2),
      low: Math.min(previous, close).toFixed(2),
      volume: "1",
    });
    previous = close;
  }
  return candles;
}

/** A deterministic wiggle of +/- `size` (fraction) around 1, period 2 minutes. */
function wiggle(minute: number, size: number): number {
  return 1 + (minute % 2 === 0 ? size : -size);
}

function day(file: string, productId: string, date: string): Candle[] {
  const from = Date.parse(`${date}T00:00:00Z`) / 1000;
  return fixtureCandles(file, productId).candles.filter((candle) =>
    candle.time >= from && candle.time < from + 86_400
  );
}

Deno.test("regimeStats computes move, drawdown, range and daily volatility", () => {
  const candles: Candle[] = [
    { time: 0, open: "100", high: "110", low: "100", close: "110", volume: "1" },
    { time: 60, open: "110", high: "110", low: "99", close: "99", volume: "1" },
    { time: 120, open: "99", high: "105", low: "99", close: "104.5", volume: "1" },
  ];
  const stats = regimeStats(candles);
  assert.ok(Math.abs(stats.move - 0.045) < 1e-12);
  assert.ok(Math.abs(stats.maxDrawdown - 0.1) < 1e-12);
  assert.ok(Math.abs(stats.range - (110 / 99 - 1)) < 1e-12);
  assert.equal(stats.hours, 3 / 60);
  const squares = Math.log(1.1) ** 2 + Math.log(0.9) ** 2 + Math.log(104.5 / 99) ** 2;
  assert.ok(Math.abs(stats.dailyVolatility - Math.sqrt(squares) * Math.sqrt(DAY / 3)) < 1e-12);
});

Deno.test("labelRegime says trend_up for a steady rise of 5 % in a day", () => {
  const candles = synthetic(DAY, (m) => 100 * (1 + 0.05 * m / DAY) * wiggle(m, 0.0002));
  assert.equal(labelRegime(candles), "trend_up");
});

Deno.test("labelRegime says trend_down for a steady fall of 4 % in a day", () => {
  const candles = synthetic(DAY, (m) => 100 * (1 - 0.04 * m / DAY) * wiggle(m, 0.0002));
  assert.equal(labelRegime(candles), "trend_down");
});

Deno.test("labelRegime says crash for a fall of 12 % in a day, trend_down for 7 %", () => {
  const crash = synthetic(DAY, (m) => 100 * (1 - 0.12 * m / DAY) * wiggle(m, 0.0002));
  assert.equal(labelRegime(crash), "crash");
  const fall = synthetic(DAY, (m) => 100 * (1 - 0.07 * m / DAY) * wiggle(m, 0.0002));
  assert.equal(labelRegime(fall), "trend_down");
});

Deno.test("labelRegime says quiet for a flat day with tiny moves", () => {
  const candles = synthetic(DAY, (m) => 100 * wiggle(m, 0.0001));
  assert.equal(labelRegime(candles), "quiet");
});

Deno.test("labelRegime says chop for wide swings that end where they started", () => {
  const candles = synthetic(
    DAY,
    (m) => 100 * (1 + 0.04 * Math.sin(2 * Math.PI * m / 360)) * wiggle(m, 0.0005),
  );
  const stats = regimeStats(candles);
  assert.ok(Math.abs(stats.move) < 0.01);
  assert.equal(labelRegime(candles), "chop");
});

Deno.test("labelRegime scales move thresholds with the square root of the window length", () => {
  // +1.5 %: a trend within 4 h (threshold 3 % x sqrt(4/24) = 1.22 %), not within 24 h.
  const short = synthetic(240, (m) => 100 * (1 + 0.015 * m / 240));
  const long = synthetic(DAY, (m) => 100 * (1 + 0.015 * m / DAY) * wiggle(m, 0.001));
  assert.equal(labelRegime(short), "trend_up");
  assert.equal(labelRegime(long), "chop");
});

Deno.test("labelRegime rejects an empty window", () => {
  assert.throws(() => labelRegime([]), /at least one candle, got none/);
});

Deno.test("regimeOf covers every regime in REGIMES", () => {
  const base = { move: 0, maxDrawdown: 0, dailyVolatility: 0.03, range: 0.05, hours: 24 };
  const seen = new Set([
    regimeOf({ ...base, move: 0.05 }),
    regimeOf({ ...base, move: -0.04 }),
    regimeOf({ ...base, move: -0.1, maxDrawdown: 0.12 }),
    regimeOf(base),
    regimeOf({ ...base, dailyVolatility: 0.01, range: 0.02 }),
  ]);
  assert.deepEqual([...seen].sort(), [...REGIMES].sort());
});

Deno.test("labelMarketRegime takes the majority, and the more severe label on a tie", () => {
  const up = synthetic(DAY, (m) => 100 * (1 + 0.05 * m / DAY));
  const flat = synthetic(DAY, (m) => 100 * wiggle(m, 0.0001));
  const down = synthetic(DAY, (m) => 100 * (1 - 0.04 * m / DAY));
  assert.equal(labelMarketRegime([flat, up, up]), "trend_up");
  assert.equal(labelMarketRegime([up, down]), "trend_down");
  assert.equal(labelMarketRegime([flat, up]), "trend_up");
  assert.throws(() => labelMarketRegime([]), /at least one product/);
});

Deno.test("real days: 2022-01-21 crash, 2022-01-05 trend_down (FTX BTC-PERP)", () => {
  const file = "ftx-perp-2022-01/BTC-PERP-1m.csv";
  assert.equal(labelRegime(day(file, "BTC-PERP", "2022-01-21")), "crash");
  assert.equal(labelRegime(day(file, "BTC-PERP", "2022-01-05")), "trend_down");
});

Deno.test("real days: 2016-10-07..09 quiet (Coinbase), 2022-12-13 trend_up (Bybit)", () => {
  const file = "coinbase-2016-10-07/BTC-USD-1m.csv";
  for (const date of ["2016-10-07", "2016-10-08", "2016-10-09"]) {
    assert.equal(labelRegime(day(file, "BTC-USD", date)), "quiet", date);
  }
  const cpi = day("bybit-binance-2022-12-13/BTC-USDT-1m.csv", "BTC-USDT", "2022-12-13");
  assert.equal(labelRegime(cpi), "trend_up");
});

Deno.test("real days: Bitstamp 2025-01-15 trend_up, 01-20 chop, 01-25 quiet", () => {
  const file = "bitstamp-2025-01/BTC-USD-1m.csv";
  assert.equal(labelRegime(day(file, "BTC-USD", "2025-01-15")), "trend_up");
  assert.equal(labelRegime(day(file, "BTC-USD", "2025-01-20")), "chop");
  assert.equal(labelRegime(day(file, "BTC-USD", "2025-01-25")), "quiet");
});

/** Candle CSV parsing and exact aggregation of 1-minute candles into coarser candles. */

import type { Candle } from "../contracts/market.ts";
import { MarketDecimal, plainDecimal } from "./decimal.ts";

/** Header line of the candle CSV fixtures (the Coinbase REST column order). */
export const CANDLE_CSV_HEADER = "time,low,high,open,close,volume";

const DECIMAL = /^\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;
const COLUMNS = ["low", "high", "open", "close", "volume"] as const;

/** Candles of one product parsed from a CSV file. */
export interface ProductCandles {
  /** Product id, e.g. `BTC-USD`. */
  productId: string;
  /** 1-minute candles, oldest first. */
  candles: Candle[];
}

/**
 * Parses a candle CSV (`time,low,high,open,close,volume`, ascending unix-second bar starts).
 * Strings are kept exactly as written. Errors name the line and what was wrong.
 */
export function loadCandleCsv(text: string, productId: string): ProductCandles {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim();
  if (header !== CANDLE_CSV_HEADER) {
    throw new Error(
      `Candle CSV for ${productId} line 1: header must be "${CANDLE_CSV_HEADER}", got "${
        header ?? ""
      }"`,
    );
  }
  const candles: Candle[] = [];
  let previous = -1;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === "") continue;
    const where = `Candle CSV for ${productId} line ${index + 1}`;
    const cells = line.split(",");
    if (cells.length !== 6) {
      throw new Error(`${where}: expected 6 comma-separated values, got ${cells.length}`);
    }
    const [timeText, ...values] = cells as [string, ...string[]];
    if (!INTEGER.test(timeText)) {
      throw new Error(`${where}: time must be unix seconds (an integer), got "${timeText}"`);
    }
    const time = Number(timeText);
    if (time % 60 !== 0) {
      throw new Error(`${where}: time must be a whole minute (multiple of 60), got ${time}`);
    }
    if (time <= previous) {
      throw new Error(`${where}: times must be ascending without duplicates, got ${time}`);
    }
    values.forEach((value, column) => {
      if (!DECIMAL.test(value)) {
        throw new Error(
          `${where}: ${COLUMNS[column]} must be a non-negative decimal, got "${value}"`,
        );
      }
    });
    const [low, high, open, close, volume] = values as [string, string, string, string, string];
    const lowD = new MarketDecimal(low);
    const highD = new MarketDecimal(high);
    for (const [name, value] of [["open", open], ["close", close]] as const) {
      const decimal = new MarketDecimal(value);
      if (decimal.lt(lowD) || decimal.gt(highD)) {
        throw new Error(`${where}: ${name} ${value} must lie between low ${low} and high ${high}`);
      }
    }
    candles.push({ time, low, high, open, close, volume });
    previous = time;
  }
  if (candles.length === 0) throw new Error(`Candle CSV for ${productId} has no rows`);
  return { productId, candles };
}

/** Product id from a fixture file name such as `BTC-USD-1m.csv`. */
export function productIdFromFileName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const match = /^([A-Z0-9]+-[A-Z0-9]+)(-1m)?\.csv$/.exec(base);
  if (!match) {
    throw new Error(`Candle file name must look like BTC-USD-1m.csv, got ${base}`);
  }
  return match[1]!;
}

/**
 * Aggregates ascending 1-minute candles into candles of `granularity` seconds, exactly:
 * open of the first, close of the last, min low, max high, sum of volumes. Bucket starts are
 * multiples of the granularity; only candles passed in are used (callers choose the range).
 */
export function aggregateCandles(candles: Candle[], granularity: number): Candle[] {
  const out: Candle[] = [];
  let bucket: Candle | undefined;
  let volume = new MarketDecimal(0);
  const flush = () => {
    if (!bucket) return;
    bucket.volume = plainDecimal(volume);
    out.push(bucket);
  };
  for (const candle of candles) {
    const start = Math.floor(candle.time / granularity) * granularity;
    if (!bucket || bucket.time !== start) {
      flush();
      bucket = { ...candle, time: start };
      volume = new MarketDecimal(candle.volume);
      continue;
    }
    if (new MarketDecimal(candle.low).lt(bucket.low)) bucket.low = candle.low;
    if (new MarketDecimal(candle.high).gt(bucket.high)) bucket.high = candle.high;
    bucket.close = candle.close;
    volume = volume.plus(candle.volume);
  }
  flush();
  return out;
}

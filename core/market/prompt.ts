/**
 * The market snapshot as text for the agents, in three layouts: the original's (a JSON ticker list
 * and CSV candle tables with 2-decimal numbers, kept for comparison), our compact lossless layout
 * (integer deltas in exchange units, one legend) and a plain layout for small models (prices as
 * the exchange prints them, % change per timeframe, no arithmetic needed to read a price).
 */

import { Decimal } from "decimal.js";
import type { Candle, MarketSnapshot, ProductSnapshot } from "../contracts/market.ts";
import { formatMarketTime } from "./clock.ts";
import { decimalPlaces, MarketDecimal } from "./decimal.ts";
import { WINDOW_GRANULARITY, type WindowName } from "./windows.ts";

const WINDOWS: { name: WindowName; label: string; title: string }[] = [
  { name: "m15", label: "15m", title: "15-min candles" },
  { name: "m5", label: "5m", title: "5-min candles" },
  { name: "m1", label: "1m", title: "1-min candles" },
];

/** Layouts of the market block: `compact` (lossless, fewest tokens) or `plain` (small models). */
export const PROMPT_FORMATS = ["compact", "plain"] as const;

/** A market block layout. */
export type PromptFormat = typeof PROMPT_FORMATS[number];

/** Parses a `--prompt-format` value; throws naming the valid values otherwise. */
export function parsePromptFormat(value: string): PromptFormat {
  if (!(PROMPT_FORMATS as readonly string[]).includes(value)) {
    throw new Error(`Prompt format must be one of ${PROMPT_FORMATS.join(", ")}, got ${value}`);
  }
  return value as PromptFormat;
}

/** Market blocks already rendered, per snapshot object and layout (agents share snapshots). */
const rendered = new WeakMap<MarketSnapshot, Map<PromptFormat, string>>();

/**
 * Renders the market block in a layout. Every agent of a process decides on the same snapshot
 * object, so the text is rendered once per snapshot and layout (snapshots are never modified).
 */
export function renderMarket(snapshot: MarketSnapshot, format: PromptFormat): string {
  let texts = rendered.get(snapshot);
  if (!texts) rendered.set(snapshot, texts = new Map());
  let text = texts.get(format);
  if (text === undefined) {
    text = format === "plain" ? renderSnapshotPlain(snapshot) : renderSnapshotPrompt(snapshot);
    texts.set(format, text);
  }
  return text;
}

function twoDecimals(value: string): string {
  return new MarketDecimal(value).toFixed(2);
}

/** A unix-seconds bar start as the original printed it (`YYYY-MM-DD HH:MM:SS`, UTC). */
function originalTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The original's layout, as its source builds it: a line asking the agent to view its portfolio
 * first, a line defining price/bid/ask, a JSON list of `{product_id, price, best_bid, best_ask}`,
 * then one CSV table per timeframe (`product,time,open,high,low,close,volume`, 2 decimals). The
 * time column's exact text is not known from its source; a UTC date-time is assumed.
 */
export function renderSnapshotOriginal(snapshot: MarketSnapshot): string {
  const tickers = snapshot.products.map((product) => ({
    product_id: product.productId,
    price: Number(twoDecimals(product.ticker.price)),
    best_bid: Number(twoDecimals(product.ticker.bestBid)),
    best_ask: Number(twoDecimals(product.ticker.bestAsk)),
  }));
  const lines = [
    "Here is the latest market data. View your portfolio first, then decide on your trades.",
    "price is the last trade price; best_bid is what you get selling; best_ask is what you pay buying.",
    JSON.stringify(tickers, null, 2),
  ];
  for (const window of WINDOWS) {
    lines.push("", `${window.title}:`, "product,time,open,high,low,close,volume");
    for (const product of snapshot.products) {
      for (const candle of product.candles[window.name]) {
        lines.push(
          [
            product.productId,
            originalTime(candle.time),
            twoDecimals(candle.open),
            twoDecimals(candle.high),
            twoDecimals(candle.low),
            twoDecimals(candle.close),
            twoDecimals(candle.volume),
          ].join(","),
        );
      }
    }
  }
  return lines.join("\n");
}

/** Percent change from the first candle's open to the last one's close, signed, 2 decimals. */
function changePct(candles: Candle[]): string | undefined {
  const first = candles[0];
  const last = candles[candles.length - 1];
  if (!first || !last || new MarketDecimal(first.open).isZero()) return undefined;
  const pct = new MarketDecimal(last.close).div(first.open).minus(1).times(100);
  return `${pct.isNegative() ? "" : "+"}${pct.toFixed(2)} %`;
}

/** A span in minutes as text: `20 min`, `90 min`, `3 h`. */
function minutesText(minutes: number): string {
  return minutes >= 120 && minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/**
 * The plain layout for small models: per product one ticker line with prices as the exchange
 * prints them, the % change of each timeframe, and each timeframe as a CSV table whose first
 * column is how many minutes ago the bar started. No legend, no arithmetic.
 */
export function renderSnapshotPlain(snapshot: MarketSnapshot): string {
  const masked = snapshot.masked ?? false;
  const now = Math.floor(Date.parse(snapshot.time) / 1000);
  const lines = [
    `Market at ${formatMarketTime(snapshot.time, masked)} (tick ${snapshot.tick}). ` +
    "Prices in USD per unit: buys fill at the ask, sells at the bid.",
  ];
  for (const product of snapshot.products) {
    const ticker = product.ticker;
    lines.push(
      "",
      `${product.productId}${product.stale ? " (STALE: no recent ticker)" : ""}: price ` +
        `${ticker.price}, bid ${ticker.bestBid}, ask ${ticker.bestAsk}, 24h volume ` +
        `${twoDecimals(ticker.volume24h)}`,
    );
    const changes: string[] = [];
    for (const window of WINDOWS) {
      const candles = product.candles[window.name];
      const change = changePct(candles);
      if (!change || candles.length === 0) continue;
      const from = (now - candles[0]!.time) / 60;
      const to = (now - candles[candles.length - 1]!.time - WINDOW_GRANULARITY[window.name]) / 60;
      changes.push(
        `${window.label} bars ${change} (${minutesText(from)} -> ${minutesText(to)} ago)`,
      );
    }
    if (changes.length > 0) lines.push(`Change: ${changes.join("; ")}`);
    for (const window of WINDOWS) {
      const candles = product.candles[window.name];
      if (candles.length === 0) continue;
      lines.push(`${window.title}, oldest first (min_ago,open,high,low,close,volume):`);
      for (const candle of candles) {
        lines.push(
          `${(now - candle.time) / 60},${candle.open},${candle.high},${candle.low},` +
            `${candle.close},${twoDecimals(candle.volume)}`,
        );
      }
    }
  }
  return lines.join("\n");
}

/** The legend printed once at the top of the compact prompt. */
export const COMPACT_LEGEND = [
  "Prices are integers in units of px; volumes in units of vu. p=price, b/a=bid/ask-p.",
  "Bars oldest first, each after the previous: [d] H L C V; open=previous close+d (d=0 if " +
  "absent; first bar d=open), high=open+H, low=open-L, close=low+C. @N: bar starts N min ago.",
].join("\n");

function unitsOf(value: string, decimals: number): string {
  return new MarketDecimal(value).times(new MarketDecimal(10).pow(decimals)).toFixed(0);
}

function productDecimals(product: ProductSnapshot): { px: number; vol: number } {
  let px = Math.max(
    decimalPlaces(product.ticker.price),
    decimalPlaces(product.ticker.bestBid),
    decimalPlaces(product.ticker.bestAsk),
  );
  let vol = 0;
  for (const window of WINDOWS) {
    for (const candle of product.candles[window.name]) {
      px = Math.max(
        px,
        decimalPlaces(candle.low),
        decimalPlaces(candle.high),
        decimalPlaces(candle.open),
        decimalPlaces(candle.close),
      );
      vol = Math.max(vol, decimalPlaces(candle.volume));
    }
  }
  return { px, vol };
}

function unitText(decimals: number): string {
  return decimals === 0 ? "1" : new MarketDecimal(10).pow(-decimals).toFixed(decimals);
}

/**
 * Our compact layout, lossless: every value of the original (ticker price, best bid/ask,
 * 24 h volume, and every candle's time and OHLCV in the three windows) can be recovered
 * exactly with {@linkcode parseSnapshotPrompt}. Times are minute offsets before the snapshot.
 */
export function renderSnapshotPrompt(snapshot: MarketSnapshot): string {
  const now = Math.floor(Date.parse(snapshot.time) / 1000);
  const lines = [
    `Market ${formatMarketTime(snapshot.time, snapshot.masked ?? false)} tick ${snapshot.tick}`,
    COMPACT_LEGEND,
  ];
  for (const product of snapshot.products) {
    const { px, vol } = productDecimals(product);
    const ticker = product.ticker;
    const price = BigInt(unitsOf(ticker.price, px));
    const bid = BigInt(unitsOf(ticker.bestBid, px)) - price;
    const ask = BigInt(unitsOf(ticker.bestAsk, px)) - price;
    lines.push(
      `${product.productId}${product.stale ? " STALE" : ""} px=${unitText(px)} vu=${
        unitText(vol)
      } p=${price} b=${bid} a=${ask} v24=${ticker.volume24h}`,
    );
    let previousClose: bigint | undefined;
    for (const window of WINDOWS) {
      const candles = product.candles[window.name];
      const step = WINDOW_GRANULARITY[window.name];
      lines.push(`${window.label}:`);
      let expected: number | undefined;
      for (const candle of candles) {
        const open = BigInt(unitsOf(candle.open, px));
        const high = BigInt(unitsOf(candle.high, px));
        const low = BigInt(unitsOf(candle.low, px));
        const close = BigInt(unitsOf(candle.close, px));
        const d = previousClose === undefined ? open : open - previousClose;
        const at = candle.time === expected ? "" : `@${(now - candle.time) / 60} `;
        const delta = d === 0n && previousClose !== undefined ? "" : `${d} `;
        lines.push(
          `${at}${delta}${high - open} ${open - low} ${close - low} ${unitsOf(candle.volume, vol)}`,
        );
        previousClose = close;
        expected = candle.time + step;
      }
    }
  }
  return lines.join("\n");
}

/** What the compact prompt carries for one product. */
export interface ParsedPromptProduct {
  /** Product id. */
  productId: string;
  /** True when marked STALE. */
  stale: boolean;
  /** Ticker values as decimal strings. */
  ticker: { price: string; bestBid: string; bestAsk: string; volume24h: string };
  /** The three windows, oldest first. */
  candles: Record<WindowName, Candle[]>;
}

/** What the compact prompt carries. */
export interface ParsedPrompt {
  /** Snapshot time (ISO). */
  time: string;
  /** Tick number. */
  tick: number;
  /** Products in order. */
  products: ParsedPromptProduct[];
}

function fromUnits(units: bigint, decimals: number): string {
  return new MarketDecimal(units.toString()).div(new MarketDecimal(10).pow(decimals)).toFixed();
}

/** Parses the compact prompt back into values (proves the layout loses nothing). */
export function parseSnapshotPrompt(text: string): ParsedPrompt {
  const lines = text.split("\n");
  const head = /^Market (\S+) tick (\d+)$/.exec(lines[0] ?? "");
  if (!head) throw new Error(`Prompt must start with "Market <time> tick <n>", got ${lines[0]}`);
  const time = head[1]!;
  const now = Math.floor(Date.parse(time) / 1000);
  const products: ParsedPromptProduct[] = [];
  let current: ParsedPromptProduct | undefined;
  let px = 0;
  let vol = 0;
  let window: WindowName | undefined;
  let previousClose: bigint | undefined;
  let expected: number | undefined;
  const productLine = /^(\S+?)( STALE)? px=(\S+) vu=(\S+) p=(-?\d+) b=(-?\d+) a=(-?\d+) v24=(\S+)$/;
  for (const line of lines.slice(1 + COMPACT_LEGEND.split("\n").length)) {
    const productMatch = productLine.exec(line);
    if (productMatch) {
      px = decimalPlaces(productMatch[3]!);
      vol = decimalPlaces(productMatch[4]!);
      const price = BigInt(productMatch[5]!);
      current = {
        productId: productMatch[1]!,
        stale: productMatch[2] !== undefined,
        ticker: {
          price: fromUnits(price, px),
          bestBid: fromUnits(price + BigInt(productMatch[6]!), px),
          bestAsk: fromUnits(price + BigInt(productMatch[7]!), px),
          volume24h: productMatch[8]!,
        },
        candles: { m15: [], m5: [], m1: [] },
      };
      products.push(current);
      previousClose = undefined;
      continue;
    }
    const label = WINDOWS.find((entry) => `${entry.label}:` === line);
    if (label) {
      window = label.name;
      expected = undefined;
      continue;
    }
    const row = /^(?:@(\d+) )?(?:(-?\d+) )?(\d+) (\d+) (\d+) (\d+)$/.exec(line);
    if (!row || !current || !window) throw new Error(`Unexpected prompt line: ${line}`);
    const start = row[1] !== undefined ? now - Number(row[1]) * 60 : expected;
    if (start === undefined) throw new Error(`Candle row without a time: ${line}`);
    const d = BigInt(row[2] ?? "0");
    const open = previousClose === undefined ? d : previousClose + d;
    const low = open - BigInt(row[4]!);
    const close = low + BigInt(row[5]!);
    current.candles[window].push({
      time: start,
      open: fromUnits(open, px),
      high: fromUnits(open + BigInt(row[3]!), px),
      low: fromUnits(low, px),
      close: fromUnits(close, px),
      volume: fromUnits(BigInt(row[6]!), vol),
    });
    previousClose = close;
    expected = start + WINDOW_GRANULARITY[window];
  }
  return { time, tick: Number(head[2]), products };
}

/** True when two decimal strings denote the same number (`"354"` equals `"354.00"`). */
export function sameDecimal(a: string, b: string): boolean {
  return new Decimal(a).eq(b);
}

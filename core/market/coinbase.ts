/** Parsing of Coinbase Exchange WebSocket frames and REST candle responses (pure). */

import { z } from "zod";
import type { Candle, Ticker } from "../contracts/market.ts";
import { DecimalString, ProductId } from "../contracts/common.ts";
import { MarketDecimal } from "./decimal.ts";

/** A `ticker` frame of the `ticker_batch` channel (fields we use; others are allowed). */
export const TickerFrame = z.object({
  type: z.literal("ticker"),
  product_id: ProductId,
  price: DecimalString,
  best_bid: DecimalString,
  best_ask: DecimalString,
  volume_24h: DecimalString,
  time: z.string().optional(),
});
/** A `ticker` frame. */
export type TickerFrame = z.infer<typeof TickerFrame>;

/** What one WebSocket frame turned out to be. */
export type ParsedFrame =
  | { kind: "ticker"; productId: string; ticker: Omit<Ticker, "time">; exchangeTime?: string }
  | { kind: "subscriptions" }
  | { kind: "heartbeat" }
  | { kind: "error"; message: string }
  | { kind: "malformed"; reason: string };

/** Classifies one WebSocket frame; anything unexpected is `malformed` with a reason. */
export function parseFrame(text: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "malformed", reason: `Frame is not JSON: ${text.slice(0, 80)}` };
  }
  if (typeof json !== "object" || json === null || !("type" in json)) {
    return { kind: "malformed", reason: "Frame has no type field" };
  }
  const type = (json as { type: unknown }).type;
  if (type === "subscriptions") return { kind: "subscriptions" };
  if (type === "heartbeat") return { kind: "heartbeat" };
  if (type === "error") {
    const message = (json as { message?: unknown; reason?: unknown }).message;
    return { kind: "error", message: typeof message === "string" ? message : "unknown error" };
  }
  if (type !== "ticker") return { kind: "malformed", reason: `Unexpected frame type ${type}` };
  const parsed = TickerFrame.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: "malformed",
      reason: `Ticker frame invalid at ${issue?.path.join(".")}: ${issue?.message}`,
    };
  }
  const frame = parsed.data;
  return {
    kind: "ticker",
    productId: frame.product_id,
    ticker: {
      price: frame.price,
      bestBid: frame.best_bid,
      bestAsk: frame.best_ask,
      volume24h: frame.volume_24h,
    },
    exchangeTime: frame.time,
  };
}

const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * Parses a REST candles body (`[[time, low, high, open, close, volume], ...]`, newest first,
 * JSON numbers) into ascending candles whose values are the exact decimal text of the JSON
 * numbers (no float round trip). Throws a clear error for any other shape.
 */
export function parseCandlesBody(body: string): Candle[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`Candles response is not JSON: ${body.slice(0, 80)}`);
  }
  if (!Array.isArray(json)) {
    throw new Error(`Candles response must be an array of rows, got ${body.slice(0, 80)}`);
  }
  json.forEach((row, index) => {
    if (
      !Array.isArray(row) || row.length !== 6 ||
      !row.every((cell) => typeof cell === "number" && Number.isFinite(cell))
    ) {
      throw new Error(`Candles row ${index} must be 6 numbers, got ${JSON.stringify(row)}`);
    }
  });
  const tokens = body.match(NUMBER_TOKEN) ?? [];
  if (tokens.length !== json.length * 6) {
    throw new Error("Candles response has unexpected number tokens");
  }
  const candles: Candle[] = [];
  for (let row = 0; row < json.length; row++) {
    const cells = tokens.slice(row * 6, row * 6 + 6).map((token) =>
      /[eE]/.test(token) ? new MarketDecimal(token).toFixed() : token
    );
    const [time, low, high, open, close, volume] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!/^\d+$/.test(time)) throw new Error(`Candles row ${row} has a non-integer time ${time}`);
    if ([low, high, open, close, volume].some((value) => value.startsWith("-"))) {
      throw new Error(`Candles row ${row} has a negative value`);
    }
    candles.push({ time: Number(time), low, high, open, close, volume });
  }
  return candles.sort((a, b) => a.time - b.time);
}

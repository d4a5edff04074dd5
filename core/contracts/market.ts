/** Market data messages: snapshots for agents and price ticks for fills and dashboards. */

import { z } from "zod";
import { DecimalString, ProductId, Timestamp, Version } from "./common.ts";

/** One OHLCV candle; prices at the exchange's precision. `time` is the bar start (unix s). */
export const Candle = z.object({
  time: z.number().int().nonnegative(),
  low: DecimalString,
  high: DecimalString,
  open: DecimalString,
  close: DecimalString,
  volume: DecimalString,
});
/** One OHLCV candle. */
export type Candle = z.infer<typeof Candle>;

/** Latest ticker of a product. */
export const Ticker = z.object({
  price: DecimalString,
  bestBid: DecimalString,
  bestAsk: DecimalString,
  volume24h: DecimalString,
  time: Timestamp,
});
/** Latest ticker of a product. */
export type Ticker = z.infer<typeof Ticker>;

/** Candles of one product in the original's three windows, oldest first. */
export const CandleWindows = z.object({
  /** 15-minute candles from 3 h ago to 90 min ago. */
  m15: z.array(Candle),
  /** 5-minute candles from 90 min ago to 20 min ago. */
  m5: z.array(Candle),
  /** 1-minute candles of the last 20 minutes. */
  m1: z.array(Candle),
});
/** Candles of one product in three windows. */
export type CandleWindows = z.infer<typeof CandleWindows>;

/** Everything an agent knows about one product at a tick. */
export const ProductSnapshot = z.object({
  productId: ProductId,
  ticker: Ticker,
  /** True when no fresh ticker arrived for 2 x the publish interval. */
  stale: z.boolean(),
  candles: CandleWindows,
});
/** Everything an agent knows about one product at a tick. */
export type ProductSnapshot = z.infer<typeof ProductSnapshot>;

/** One market snapshot holding every product (topic `agent_router.input`). */
export const MarketSnapshot = z.object({
  v: Version,
  /** Monotonic tick number of this feed, starting at 1. */
  tick: z.number().int().positive(),
  /** The market clock: all time-dependent logic uses it, never the wall clock. */
  time: Timestamp,
  source: z.enum(["live", "replay"]),
  /**
   * True for a masked (contamination-safe) replay: renamed products, scaled prices and volumes,
   * times counted from a synthetic origin. Show times with `formatMarketTime`, never as dates.
   */
  masked: z.boolean().optional(),
  products: z.array(ProductSnapshot).min(1),
});
/** One market snapshot holding every product. */
export type MarketSnapshot = z.infer<typeof MarketSnapshot>;

/** Latest bid/ask of one product (topic `arena.prices`, keyed by product id). */
export const PriceTick = z.object({
  v: Version,
  productId: ProductId,
  price: DecimalString,
  bestBid: DecimalString,
  bestAsk: DecimalString,
  /** Market-clock time of the ticker. */
  time: Timestamp,
  /** True when the product had no fresh ticker for 2 x the publish interval: no fills. */
  stale: z.boolean(),
  /** True when published by a masked replay (renamed product, scaled prices, shifted time). */
  masked: z.boolean().optional(),
});
/** Latest bid/ask of one product. */
export type PriceTick = z.infer<typeof PriceTick>;

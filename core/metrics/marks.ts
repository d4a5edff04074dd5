/**
 * Mark prices: the one place a price tick becomes the prices positions are valued at (its best
 * bid and best ask at its market second), so the batch metrics, the running metrics, the
 * dashboard and the ledger export all mark at the same points. A long is marked at the bid and a
 * short at the ask: the quote that would close it, as `get_portfolio` marks them.
 */

import type { Decimal } from "decimal.js";
import type { PositionSide } from "../contracts/ledger.ts";
import type { PriceTick } from "../contracts/market.ts";
import { Money } from "../ledger/money.ts";

/** The mark prices of one product at a market-clock time. */
export interface MarkPoint {
  /** Product id such as `BTC-USD`. */
  productId: string;
  /** Market-clock time as unix milliseconds (a whole second). */
  timeMs: number;
  /** Best bid as an exact decimal string: the mark of a long (and of buy-and-hold). */
  price: string;
  /** Best ask as an exact decimal string: the mark of a short. */
  ask: string;
}

/** A mark parsed for valuation: the quote that closes a long and the one that closes a short. */
export interface MarkQuote {
  /** Best bid. */
  bid: Decimal;
  /** Best ask. */
  ask: Decimal;
}

/** The mark of one price tick: its best bid and ask at its market second. */
export function markPointOf(
  tick: Pick<PriceTick, "productId" | "time" | "bestBid" | "bestAsk">,
): MarkPoint {
  return {
    productId: tick.productId,
    timeMs: Math.floor(Date.parse(tick.time) / 1000) * 1000,
    price: tick.bestBid,
    ask: tick.bestAsk,
  };
}

/** Parses a mark's quotes once, for valuing positions at it. */
export function markQuoteOf(point: Pick<MarkPoint, "price" | "ask">): MarkQuote {
  return { bid: new Money(point.price), ask: new Money(point.ask) };
}

/** The price a position of `side` is marked at: the bid for a long, the ask for a short. */
export function markPriceFor(quote: MarkQuote, side: PositionSide): Decimal {
  return side === "long" ? quote.bid : quote.ask;
}

/** Mark points from price ticks, in the ticks' order. */
export function markPointsFromTicks(ticks: Iterable<PriceTick>): MarkPoint[] {
  const points: MarkPoint[] = [];
  for (const tick of ticks) points.push(markPointOf(tick));
  return points;
}

/** Marks with a valid time sorted by time (stable: a later mark at the same time wins). */
export function sortedMarks(points: readonly MarkPoint[]): MarkPoint[] {
  return points.filter((point) => Number.isFinite(point.timeMs))
    .map((point, index) => ({ point, index }))
    .sort((a, b) => a.point.timeMs - b.point.timeMs || a.index - b.index)
    .map(({ point }) => point);
}

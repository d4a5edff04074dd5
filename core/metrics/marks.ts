/**
 * Mark prices: the one place a price tick becomes the price positions are valued at (its best
 * bid at its market second), so the batch metrics, the running metrics, the dashboard and the
 * ledger export all mark at the same points.
 */

import type { PriceTick } from "../contracts/market.ts";

/** A mark price of one product at a market-clock time (best bid). */
export interface MarkPoint {
  /** Product id such as `BTC-USD`. */
  productId: string;
  /** Market-clock time as unix milliseconds (a whole second). */
  timeMs: number;
  /** Mark price as an exact decimal string. */
  price: string;
}

/** The mark of one price tick: its best bid at its market second. */
export function markPointOf(tick: Pick<PriceTick, "productId" | "time" | "bestBid">): MarkPoint {
  return {
    productId: tick.productId,
    timeMs: Math.floor(Date.parse(tick.time) / 1000) * 1000,
    price: tick.bestBid,
  };
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

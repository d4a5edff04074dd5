/** Imports and the market clock shared by the metrics tests. */

export * from "../../core/metrics/mod.ts";
export { Money } from "../../core/ledger/money.ts";
import type { MarkPoint } from "../../core/metrics/marks.ts";

/** One minute in milliseconds. */
export const MIN = 60_000;

/** Start of the tests' market clock. */
export const START = Date.parse("2017-09-03T00:00:00.000Z");

/** ISO market time `minutes` after {@linkcode START}. */
export function at(minutes: number): string {
  return new Date(START + minutes * MIN).toISOString();
}

/** A mark `minutes` after {@linkcode START}: the best bid, and the best ask (default the bid). */
export function markAt(
  productId: string,
  minutes: number,
  quotes: { bid: string; ask?: string },
): MarkPoint {
  return {
    productId,
    timeMs: START + minutes * MIN,
    price: quotes.bid,
    ask: quotes.ask ?? quotes.bid,
  };
}

/** Shared builders for ledger tests. */

import type { PriceTick } from "../../core/contracts/market.ts";

/** A fresh price tick for a product. */
export function tick(
  productId: string,
  options: { bid: string; ask: string; time?: string; stale?: boolean },
): PriceTick {
  return {
    v: 1,
    productId,
    price: options.bid,
    bestBid: options.bid,
    bestAsk: options.ask,
    time: options.time ?? "2017-09-03T12:00:00.000Z",
    stale: options.stale ?? false,
  };
}

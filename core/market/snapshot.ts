/** Builds the messages the market feeds publish from the price and candle books. */

import type { MarketSnapshot, PriceTick, ProductSnapshot } from "../contracts/market.ts";
import type { CandleBook } from "./candle_book.ts";
import type { PriceBook } from "./price_book.ts";
import { isoTime } from "./clock.ts";

/** Options for {@linkcode buildSnapshot}. */
export interface BuildSnapshotOptions {
  /** Tick number, starting at 1. */
  tick: number;
  /** Market time in ms. */
  nowMs: number;
  /** Publish interval in ms (staleness is 2 x this). */
  intervalMs: number;
  /** Products in the order they appear. */
  productIds: string[];
  /** Where the data came from. */
  source: "live" | "replay";
}

/**
 * One snapshot holding every product that has a ticker; products without any ticker yet are
 * left out. Returns undefined when no product has a ticker.
 */
export function buildSnapshot(
  books: { prices: PriceBook; candles: CandleBook },
  options: BuildSnapshotOptions,
): MarketSnapshot | undefined {
  const nowSeconds = Math.floor(options.nowMs / 1000);
  const products: ProductSnapshot[] = [];
  for (const productId of options.productIds) {
    const entry = books.prices.get(productId);
    if (!entry) continue;
    products.push({
      productId,
      ticker: entry.ticker,
      stale: books.prices.isStale(productId, options),
      candles: books.candles.windows(productId, nowSeconds),
    });
  }
  if (products.length === 0) return undefined;
  return {
    v: 1,
    tick: options.tick,
    time: isoTime(options.nowMs),
    source: options.source,
    products,
  };
}

/** The price tick of one product from its snapshot entry. */
export function priceTickOf(product: ProductSnapshot): PriceTick {
  return {
    v: 1,
    productId: product.productId,
    price: product.ticker.price,
    bestBid: product.ticker.bestBid,
    bestAsk: product.ticker.bestAsk,
    time: product.ticker.time,
    stale: product.stale,
  };
}

/** Builders of snapshots and portfolios for rules-policy tests. */

import type { Candle, MarketSnapshot, ProductSnapshot } from "../../core/contracts/market.ts";
import type { PortfolioView, PositionView } from "../../core/contracts/portfolio.ts";

/** Candles whose closes follow `closes` (open = previous close). */
export function candles(closes: number[], start = 1_500_000_000, step = 60): Candle[] {
  return closes.map((close, index) => {
    const open = index === 0 ? close : closes[index - 1]!;
    return {
      time: start + index * step,
      open: String(open),
      close: String(close),
      high: String(Math.max(open, close)),
      low: String(Math.min(open, close)),
      volume: "1",
    };
  });
}

/** A product whose three windows follow the given closes; bid/ask around the last close. */
export function product(
  productId: string,
  closes: { m15: number[]; m5: number[]; m1: number[] },
  options: { bid?: number; ask?: number; stale?: boolean } = {},
): ProductSnapshot {
  const last = closes.m1[closes.m1.length - 1] ?? 100;
  return {
    productId,
    ticker: {
      price: String(last),
      bestBid: String(options.bid ?? last),
      bestAsk: String(options.ask ?? last),
      volume24h: "1000",
      time: "2017-09-03T12:00:00.000Z",
    },
    stale: options.stale ?? false,
    candles: {
      m15: candles(closes.m15, 1_504_400_000, 900),
      m5: candles(closes.m5, 1_504_430_000, 300),
      m1: candles(closes.m1, 1_504_440_000, 60),
    },
  };
}

/** A snapshot of the given products at tick `tick`. */
export function snapshot(products: ProductSnapshot[], tick = 1): MarketSnapshot {
  return { v: 1, tick, time: "2017-09-03T12:00:00.000Z", source: "replay", products };
}

/** Rising closes on every window ending at `last`. */
export function rising(last: number): { m15: number[]; m5: number[]; m1: number[] } {
  return {
    m15: [last * 0.9, last * 0.92, last * 0.94],
    m5: [last * 0.95, last * 0.97, last * 0.98],
    m1: [last * 0.99, last * 0.995, last],
  };
}

/** Falling closes on every window ending at `last`. */
export function falling(last: number): { m15: number[]; m5: number[]; m1: number[] } {
  return {
    m15: [last * 1.1, last * 1.08, last * 1.06],
    m5: [last * 1.05, last * 1.03, last * 1.02],
    m1: [last * 1.01, last * 1.005, last],
  };
}

/** A position of `quantity` units bought at `averageCost`, marked at `price`. */
export function position(
  productId: string,
  quantity: string,
  averageCost: string,
  options: { price?: string; holdMinutes?: number } = {},
): PositionView {
  return {
    productId,
    quantity,
    averageCost,
    costBasis: "0",
    price: options.price ?? averageCost,
    marketValue: "0",
    unrealizedPnl: "0",
    unrealizedPnlPct: "0",
    averageHoldMinutes: options.holdMinutes ?? 1,
    side: "long",
    margin: "0",
    leverage: 1,
  };
}

/** A portfolio with `cash` and positions; equity = `equity` (default cash). */
export function portfolio(
  cash: string,
  positions: PositionView[] = [],
  equity = cash,
): PortfolioView {
  return {
    agent: "tester",
    time: "2017-09-03T12:00:00.000Z",
    startingCash: "100000",
    cash,
    equity,
    marginUsed: "0",
    totalReturnPct: "0",
    realizedPnl: "0",
    unrealizedPnl: "0",
    feesPaid: "0",
    tradeCount: 0,
    positions,
  };
}

/**
 * The only place the dashboard touches ledger maths. PLACEHOLDER until core/ledger and
 * core/metrics land: replaced by calls into them.
 */

import { Decimal } from "decimal.js";
import type { PortfolioView } from "../contracts/portfolio.ts";
import type { PriceTick } from "../contracts/market.ts";
import type { AgentRecord, PricePoint } from "./state.ts";

/** Performance of one equity curve. */
export interface PerformanceFigures {
  /** Equity over time (unix seconds, decimal string). */
  equityCurve: { time: number; equity: string }[];
  /** Total return in percent. */
  totalReturnPct: string;
  /** Largest peak-to-trough fall in percent (positive number). */
  maxDrawdownPct: string;
  /** Annualised Sharpe ratio of per-period returns, null when undefined. */
  sharpe: number | null;
  /** Share of closed round trips with a profit, null without round trips. */
  winRate: number | null;
  /** Closed round trips counted. */
  roundTrips: number;
  /** Traded notional over starting cash. */
  turnover: string;
}

/** Portfolio of one agent marked at the latest prices. */
export function portfolioOf(
  agent: AgentRecord,
  options: { prices: Map<string, PriceTick>; time: string },
): PortfolioView {
  const startingCash = new Decimal(agent.opened?.cash ?? "0");
  let cash = startingCash;
  let fees = new Decimal(0);
  const held = new Map<string, { quantity: Decimal; cost: Decimal }>();
  for (const trade of agent.trades) {
    const quantity = new Decimal(trade.quantity);
    const notional = new Decimal(trade.notional);
    const fee = new Decimal(trade.fee);
    fees = fees.plus(fee);
    const position = held.get(trade.productId) ??
      { quantity: new Decimal(0), cost: new Decimal(0) };
    if (trade.side === "buy") {
      cash = cash.minus(notional).minus(fee);
      position.cost = position.cost.plus(notional);
      position.quantity = position.quantity.plus(quantity);
    } else {
      cash = cash.plus(notional).minus(fee);
      const average = position.quantity.isZero()
        ? new Decimal(0)
        : position.cost.div(position.quantity);
      position.quantity = position.quantity.minus(quantity);
      position.cost = average.times(position.quantity);
    }
    held.set(trade.productId, position);
  }
  let marketValue = new Decimal(0);
  const positions = [...held.entries()].filter(([, p]) => p.quantity.gt(0)).map(
    ([productId, p]) => {
      const price = new Decimal(options.prices.get(productId)?.bestBid ?? "0");
      const value = p.quantity.times(price);
      marketValue = marketValue.plus(value);
      const pnl = value.minus(p.cost);
      return {
        productId,
        quantity: p.quantity.toString(),
        averageCost: p.cost.div(p.quantity).toFixed(2),
        costBasis: p.cost.toFixed(2),
        price: price.toString(),
        marketValue: value.toFixed(2),
        unrealizedPnl: pnl.toFixed(2),
        unrealizedPnlPct: p.cost.isZero() ? "0.00" : pnl.div(p.cost).times(100).toFixed(2),
        averageHoldMinutes: 0,
      };
    },
  );
  const equity = cash.plus(marketValue);
  return {
    agent: agent.name,
    time: options.time,
    startingCash: startingCash.toFixed(2),
    cash: cash.toFixed(2),
    equity: equity.toFixed(2),
    totalReturnPct: startingCash.isZero()
      ? "0.00"
      : equity.div(startingCash).minus(1).times(100).toFixed(2),
    realizedPnl: "0.00",
    unrealizedPnl: positions.reduce((sum, p) => sum.plus(p.unrealizedPnl), new Decimal(0))
      .toFixed(2),
    feesPaid: fees.toFixed(2),
    tradeCount: agent.trades.length,
    positions,
  };
}

/** Performance figures of one agent over the price history. */
export function performanceOf(
  agent: AgentRecord,
  _options: { history: Map<string, PricePoint[]> },
): PerformanceFigures {
  return {
    equityCurve: [],
    totalReturnPct: "0.00",
    maxDrawdownPct: "0.00",
    sharpe: null,
    winRate: null,
    roundTrips: 0,
    turnover: agent.trades.length ? "0" : "0",
  };
}

/** Buy-and-hold of every product with equal weights over the same window, or null. */
export function buyAndHoldOf(
  _options: { history: Map<string, PricePoint[]>; startingCash: string },
): PerformanceFigures | null {
  return null;
}

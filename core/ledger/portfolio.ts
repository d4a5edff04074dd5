/** The portfolio view an agent reads: an account marked at the best bid on the market clock. */

import type { PortfolioView, PositionView } from "../contracts/portfolio.ts";
import type { PriceTick } from "../contracts/market.ts";
import type { Account } from "./account.ts";
import { Money, moneyString, roundedString, ZERO } from "./money.ts";

/** Options for {@linkcode portfolioView}. */
export interface PortfolioViewOptions {
  /** Latest price tick per product id. */
  prices: ReadonlyMap<string, PriceTick>;
  /** Market-clock time of the view (ISO); hold times are measured up to it. */
  time: string;
}

/** Decimal places of the average cost shown (a display-only division). */
const AVERAGE_COST_DECIMALS = 8;

/**
 * Marks an account to market: positions at the best bid (what a sale would get; the average
 * cost when no price was seen), unrealized P&L against cost basis, hold time on the market
 * clock. Money fields are exact; average cost has 8 decimals and percentages 2.
 */
export function portfolioView(account: Account, options: PortfolioViewOptions): PortfolioView {
  const nowMs = Date.parse(options.time);
  let marketValue = ZERO;
  let unrealized = ZERO;
  const positions: PositionView[] = [...account.positions.values()]
    .sort((a, b) => a.productId.localeCompare(b.productId))
    .map((position) => {
      const averageCost = position.costBasis.div(position.quantity);
      const tick = options.prices.get(position.productId);
      const mark = tick ? new Money(tick.bestBid) : averageCost;
      const value = position.quantity.times(mark);
      const pnl = value.minus(position.costBasis);
      marketValue = marketValue.plus(value);
      unrealized = unrealized.plus(pnl);
      const holdMinutes = Math.max(0, (nowMs - position.averageOpenTimeMs) / 60_000);
      return {
        productId: position.productId,
        quantity: moneyString(position.quantity),
        averageCost: roundedString(averageCost, AVERAGE_COST_DECIMALS),
        costBasis: moneyString(position.costBasis),
        price: moneyString(mark),
        marketValue: moneyString(value),
        unrealizedPnl: moneyString(pnl),
        unrealizedPnlPct: position.costBasis.isZero()
          ? "0.00"
          : roundedString(pnl.div(position.costBasis).times(100), 2),
        averageHoldMinutes: Number.isFinite(holdMinutes) ? Math.round(holdMinutes * 100) / 100 : 0,
      };
    });
  const equity = account.cash.plus(marketValue);
  const totalReturn = account.startingCash.isZero()
    ? ZERO
    : equity.div(account.startingCash).minus(1).times(100);
  return {
    agent: account.agent,
    time: options.time,
    startingCash: moneyString(account.startingCash),
    cash: moneyString(account.cash),
    equity: moneyString(equity),
    totalReturnPct: roundedString(totalReturn, 2),
    realizedPnl: moneyString(account.realizedPnl),
    unrealizedPnl: moneyString(unrealized),
    feesPaid: moneyString(account.feesPaid),
    tradeCount: account.tradeCount,
    positions,
  };
}

/** Result of {@linkcode reconcile}: the identity every account must satisfy. */
export interface Reconciliation {
  /** True when every check passed. */
  ok: boolean;
  /** What failed, one line per problem. */
  problems: string[];
}

/**
 * Checks an account's invariants exactly: cash >= 0, every quantity > 0 and cost basis >= 0,
 * and `cash + sum(cost bases) + fees paid - realized P&L == starting cash`.
 */
export function reconcile(account: Account): Reconciliation {
  const problems: string[] = [];
  if (account.cash.isNegative()) problems.push(`Cash is negative: ${moneyString(account.cash)}`);
  let costs = ZERO;
  for (const position of account.positions.values()) {
    if (!position.quantity.gt(0)) {
      problems.push(`${position.productId} quantity is ${moneyString(position.quantity)}`);
    }
    if (position.costBasis.isNegative()) {
      problems.push(`${position.productId} cost basis is ${moneyString(position.costBasis)}`);
    }
    costs = costs.plus(position.costBasis);
  }
  const total = account.cash.plus(costs).plus(account.feesPaid).minus(account.realizedPnl);
  if (!total.eq(account.startingCash)) {
    problems.push(
      `cash + cost bases + fees - realized P&L is ${moneyString(total)}, starting cash is ${
        moneyString(account.startingCash)
      }`,
    );
  }
  return { ok: problems.length === 0, problems };
}

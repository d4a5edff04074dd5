/** The portfolio view an agent reads: an account marked at the best bid on the market clock. */

import type { PortfolioView, PositionView } from "../contracts/portfolio.ts";
import type { PriceTick } from "../contracts/market.ts";
import { type Account, positionPnl, positionValue } from "./account.ts";
import { liquidationPrice } from "./margin.ts";
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
 * Marks an account to market: positions at the quote that would close them (the best bid for a
 * long, the best ask for a short; the average cost when no price was seen), unrealized P&L
 * against cost basis, hold time on the market clock, margin, liquidation price and exit plan.
 * Money fields are exact; average cost has 8 decimals and percentages 2.
 */
export function portfolioView(account: Account, options: PortfolioViewOptions): PortfolioView {
  const nowMs = Date.parse(options.time);
  let positionsValue = ZERO;
  let marginUsed = ZERO;
  let unrealized = ZERO;
  const positions: PositionView[] = [...account.positions.values()]
    .sort((a, b) => a.productId.localeCompare(b.productId))
    .map((position) => {
      const averageCost = position.costBasis.div(position.quantity);
      const tick = options.prices.get(position.productId);
      const quote = position.side === "long" ? tick?.bestBid : tick?.bestAsk;
      const mark = quote ? new Money(quote) : averageCost;
      const value = position.quantity.times(mark);
      const pnl = positionPnl(position, {
        quantity: position.quantity,
        costBasis: position.costBasis,
        price: mark,
      });
      positionsValue = positionsValue.plus(positionValue(position, mark));
      marginUsed = marginUsed.plus(position.margin);
      unrealized = unrealized.plus(pnl);
      const liquidation = liquidationPrice(position);
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
        side: position.side,
        margin: moneyString(position.margin),
        leverage: position.margin.isZero()
          ? 1
          : position.costBasis.div(position.margin).toDecimalPlaces(2).toNumber(),
        ...(liquidation ? { liquidationPrice: moneyString(liquidation) } : {}),
        ...(position.stopLoss ? { stopLoss: moneyString(position.stopLoss) } : {}),
        ...(position.takeProfit ? { takeProfit: moneyString(position.takeProfit) } : {}),
        ...(position.invalidation ? { invalidation: position.invalidation } : {}),
        ...(position.confidence === undefined ? {} : { confidence: position.confidence }),
      };
    });
  const equity = account.cash.plus(positionsValue);
  const totalReturn = account.startingCash.isZero()
    ? ZERO
    : equity.div(account.startingCash).minus(1).times(100);
  return {
    agent: account.agent,
    time: options.time,
    startingCash: moneyString(account.startingCash),
    cash: moneyString(account.cash),
    equity: moneyString(equity),
    marginUsed: moneyString(marginUsed),
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
 * Checks an account's invariants exactly: cash >= 0, every quantity > 0, cost basis and margin
 * >= 0, and `cash + sum(margins) + fees paid - realized P&L - bad debt == starting cash` (for
 * spot longs the margin is the cost basis, so this is the original's identity).
 */
export function reconcile(account: Account): Reconciliation {
  const problems: string[] = [];
  if (account.cash.isNegative()) problems.push(`Cash is negative: ${moneyString(account.cash)}`);
  let margins = ZERO;
  for (const position of account.positions.values()) {
    if (!position.quantity.gt(0)) {
      problems.push(`${position.productId} quantity is ${moneyString(position.quantity)}`);
    }
    if (position.costBasis.isNegative()) {
      problems.push(`${position.productId} cost basis is ${moneyString(position.costBasis)}`);
    }
    if (position.margin.isNegative()) {
      problems.push(`${position.productId} margin is ${moneyString(position.margin)}`);
    }
    margins = margins.plus(position.margin);
  }
  if (account.badDebt.isNegative()) problems.push(`Bad debt is ${moneyString(account.badDebt)}`);
  const total = account.cash.plus(margins).plus(account.feesPaid).minus(account.realizedPnl)
    .minus(account.badDebt);
  if (!total.eq(account.startingCash)) {
    problems.push(
      `cash + margins + fees - realized P&L - bad debt is ${moneyString(total)}, starting cash is ${
        moneyString(account.startingCash)
      }`,
    );
  }
  return { ok: problems.length === 0, problems };
}

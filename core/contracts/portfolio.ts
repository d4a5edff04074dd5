/** The portfolio view `get_portfolio` returns as JSON text (read by LLMs and the rules model). */

import { z } from "zod";
import { AgentName, DecimalString, ProductId, Timestamp } from "./common.ts";

/** One open position marked at the best bid. */
export const PositionView = z.object({
  productId: ProductId,
  quantity: DecimalString,
  /** Average cost per unit, fees excluded. */
  averageCost: DecimalString,
  /** quantity x averageCost. */
  costBasis: DecimalString,
  /** Mark price (best bid: what a sale would get). */
  price: DecimalString,
  marketValue: DecimalString,
  unrealizedPnl: DecimalString,
  /** Unrealized P&L in percent of cost basis, two decimals. */
  unrealizedPnlPct: DecimalString,
  /** Quantity-weighted average minutes held on the market clock. */
  averageHoldMinutes: z.number().nonnegative(),
});
/** One open position. */
export type PositionView = z.infer<typeof PositionView>;

/** An account as an agent sees it. Money in USD as exact decimal strings. */
export const PortfolioView = z.object({
  agent: AgentName,
  time: Timestamp,
  startingCash: DecimalString,
  cash: DecimalString,
  /** cash + market value of positions. */
  equity: DecimalString,
  /** Equity over starting cash minus one, in percent, two decimals. */
  totalReturnPct: DecimalString,
  realizedPnl: DecimalString,
  unrealizedPnl: DecimalString,
  feesPaid: DecimalString,
  tradeCount: z.number().int().nonnegative(),
  positions: z.array(PositionView),
});
/** An account as an agent sees it. */
export type PortfolioView = z.infer<typeof PortfolioView>;

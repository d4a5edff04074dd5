/** The portfolio view `get_portfolio` returns as JSON text (read by LLMs and the rules model). */

import { z } from "zod";
import { AgentName, DecimalString, ProductId, Timestamp } from "./common.ts";

/** One open position marked at the quote that would close it (bid for a long, ask for a short). */
export const PositionView = z.object({
  productId: ProductId,
  /** `long` or `short`. */
  side: z.enum(["long", "short"]),
  quantity: DecimalString,
  /** Average cost per unit, fees excluded. */
  averageCost: DecimalString,
  /** quantity x averageCost. */
  costBasis: DecimalString,
  /** Mark price: the best bid for a long, the best ask for a short (what closing would get). */
  price: DecimalString,
  /** quantity x mark price (the exposure). */
  marketValue: DecimalString,
  /** Cash the position locked (isolated margin); its cost basis for a spot long. */
  margin: DecimalString,
  /** Cost basis over margin, two decimals (1 for a spot long). */
  leverage: z.number().positive(),
  /** Price at which the engine liquidates it; absent when it cannot be liquidated. */
  liquidationPrice: DecimalString.optional(),
  /** The engine closes it when the closing quote reaches this price (a loss). */
  stopLoss: DecimalString.optional(),
  /** The engine closes it when the closing quote reaches this price (a profit). */
  takeProfit: DecimalString.optional(),
  /** The agent's stated condition for being wrong. */
  invalidation: z.string().optional(),
  /** The agent's stated confidence of its latest entry, 0 to 1. */
  confidence: z.number().min(0).max(1).optional(),
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
  /** cash + each position's margin plus its unrealized P&L (never below zero per position). */
  equity: DecimalString,
  /** Margin locked by open positions. */
  marginUsed: DecimalString,
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

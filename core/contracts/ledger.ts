/** Ledger events: the durable source of truth for every account (topic `arena.ledger`). */

import { z } from "zod";
import { AgentName, DecimalString, ProductId, Timestamp, Version } from "./common.ts";

/** An account was created with its starting cash on the agent's first request. */
export const AccountOpened = z.object({
  v: Version,
  type: z.literal("account_opened"),
  eventId: z.string().min(1),
  agent: AgentName,
  cash: DecimalString,
  time: Timestamp,
});
/** An account was created. */
export type AccountOpened = z.infer<typeof AccountOpened>;

/** Longest invalidation condition kept with an exit plan, in characters. */
export const MAX_INVALIDATION_LENGTH = 300;

/** Which position a trade changes: a long (bought first) or a short (sold first). */
export const PositionSide = z.enum(["long", "short"]);
/** Which position a trade changes. */
export type PositionSide = z.infer<typeof PositionSide>;

/**
 * Who closed a position: the agent's own order, the engine at the position's stop loss or take
 * profit, or the engine at its liquidation price.
 */
export const TradeCause = z.enum(["agent", "stop_loss", "take_profit", "liquidation"]);
/** Who caused a trade. */
export type TradeCause = z.infer<typeof TradeCause>;

/**
 * A filled trade. Money fields are exact decimal strings in USD. The fields after `tick` are
 * absent on a spot trade of the original's kind (a long position, leverage 1, placed by the
 * agent, no exit plan), so ledgers written before them read the same.
 */
export const TradeExecuted = z.object({
  v: Version,
  type: z.literal("trade_executed"),
  eventId: z.string().min(1),
  agent: AgentName,
  /** The tool call that caused the trade: a second delivery of it executes nothing. */
  toolCallId: z.string().min(1),
  productId: ProductId,
  side: z.enum(["buy", "sell"]),
  quantity: DecimalString,
  /** Price paid or received per unit, slippage included. */
  fillPrice: DecimalString,
  /** Best ask (buy) or best bid (sell) before slippage. */
  quotePrice: DecimalString,
  /** quantity x fillPrice. */
  notional: DecimalString,
  fee: DecimalString,
  takerFeeBps: z.number().int().nonnegative(),
  slippageBps: z.number().nonnegative(),
  /** Cash after the trade, for audit. */
  cashAfter: DecimalString,
  time: Timestamp,
  tick: z.number().int().nonnegative().optional(),
  /** The position the trade opens, adds to or reduces (default `long`). */
  position: PositionSide.optional(),
  /** Leverage of a trade that opens or adds to a position (default 1). */
  leverage: z.number().int().min(1).optional(),
  /**
   * Margin the trade locks from cash (opening or adding: notional / leverage, rounded half-even
   * to 12 decimals) or releases to it (reducing: the position's margin pro rata). Absent on a
   * spot trade: a long at leverage 1 locks its whole notional.
   */
  margin: DecimalString.optional(),
  /** Who placed it (default `agent`); the engine places stops, targets and liquidations. */
  cause: TradeCause.optional(),
  /** Stop-loss price set for the position (replaces the position's plan when present). */
  stopLoss: DecimalString.optional(),
  /** Take-profit price set for the position. */
  takeProfit: DecimalString.optional(),
  /** The agent's stated condition under which its idea is wrong (text, not acted on). */
  invalidation: z.string().min(1).max(MAX_INVALIDATION_LENGTH).optional(),
  /** The agent's stated confidence from 0 to 1 that the position it opens or adds to pays. */
  confidence: z.number().min(0).max(1).optional(),
  /** Loss beyond a liquidated position's margin, absorbed by the house (never below zero). */
  badDebt: DecimalString.optional(),
});
/** A filled trade. */
export type TradeExecuted = z.infer<typeof TradeExecuted>;

/** Longest refusal text kept on the ledger, in characters. */
export const MAX_REFUSAL_LENGTH = 2_000;

/**
 * An `execute_trade` request that was refused (and the agent told so), recorded before the
 * answer so a redelivery of the same tool call gets the same refusal after any restart. It
 * changes no account.
 */
export const TradeRefused = z.object({
  v: Version,
  type: z.literal("trade_refused"),
  eventId: z.string().min(1),
  agent: AgentName,
  /** The refused tool call: a second delivery of it is answered with `reason` again. */
  toolCallId: z.string().min(1),
  /** The refusal text the agent read. */
  reason: z.string().min(1).max(MAX_REFUSAL_LENGTH),
  time: Timestamp,
  tick: z.number().int().nonnegative().optional(),
});
/** A refused trade request. */
export type TradeRefused = z.infer<typeof TradeRefused>;

/** Any ledger event. */
export const LedgerEvent = z.discriminatedUnion("type", [
  AccountOpened,
  TradeExecuted,
  TradeRefused,
]);
/** Any ledger event. */
export type LedgerEvent = z.infer<typeof LedgerEvent>;

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

/** A filled trade. Money fields are exact decimal strings in USD. */
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

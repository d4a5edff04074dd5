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

/** Any ledger event. */
export const LedgerEvent = z.discriminatedUnion("type", [AccountOpened, TradeExecuted]);
/** Any ledger event. */
export type LedgerEvent = z.infer<typeof LedgerEvent>;

/** Account state and how ledger events change it (deterministic, no I/O). */

import type {
  AccountOpened,
  LedgerEvent,
  TradeExecuted,
  TradeRefused,
} from "../contracts/ledger.ts";
import { COST_DECIMALS, Money, moneyString, toMoney, ZERO } from "./money.ts";
import { Decimal } from "decimal.js";

/** An open position, valued at average cost (fees excluded). */
export interface Position {
  /** Product id such as `BTC-USD`. */
  productId: string;
  /** Units held (always > 0 while the position exists). */
  quantity: Money;
  /** Total cost of the units held, fees excluded. */
  costBasis: Money;
  /** Quantity-weighted average acquisition time (unix ms, market clock). */
  averageOpenTimeMs: number;
}

/** One agent's account as rebuilt from the ledger. */
export interface Account {
  /** Agent name (the ledger key). */
  agent: string;
  /** Cash the account opened with. */
  startingCash: Money;
  /** Cash now (never negative). */
  cash: Money;
  /** Sum of (proceeds - cost basis removed) over sells; fees are not included. */
  realizedPnl: Money;
  /** Sum of all fees paid. */
  feesPaid: Money;
  /** Sum of the notional of every trade. */
  tradedNotional: Money;
  /** Number of executed trades. */
  tradeCount: number;
  /** Open positions by product id. */
  positions: Map<string, Position>;
  /** Market-clock time of the opening. */
  openedAt: string;
}

/** Every account plus the index used for exactly-once execution. */
export interface LedgerState {
  /** Accounts by agent name. */
  accounts: Map<string, Account>;
  /** Executed trades by {@linkcode tradeKey} (agent + tool call id). */
  trades: Map<string, TradeExecuted>;
  /** Refused trade requests by {@linkcode tradeKey}: the answer a redelivery gets again. */
  refusals: Map<string, TradeRefused>;
  /** Events applied (duplicates excluded). */
  applied: number;
  /** Duplicate events ignored (second opening of an account, repeated tool call id). */
  duplicates: number;
}

/** Creates an empty ledger state. */
export function createLedgerState(): LedgerState {
  return { accounts: new Map(), trades: new Map(), refusals: new Map(), applied: 0, duplicates: 0 };
}

/** Key of a trade in the exactly-once index: a tool call id is unique per agent. */
export function tradeKey(agent: string, toolCallId: string): string {
  return `${agent}\u0000${toolCallId}`;
}

/** Creates the account an {@linkcode AccountOpened} event describes. */
export function openAccount(event: AccountOpened): Account {
  const cash = toMoney(event.cash);
  return {
    agent: event.agent,
    startingCash: cash,
    cash,
    realizedPnl: ZERO,
    feesPaid: ZERO,
    tradedNotional: ZERO,
    tradeCount: 0,
    positions: new Map(),
    openedAt: event.time,
  };
}

/** What applying one event did. */
export type ApplyResult = "applied" | "duplicate";

/**
 * Applies one ledger event to the state in place. A second opening of an account and a
 * repeated tool call id are ignored (counted as duplicates), so replays are idempotent: the
 * first answer to a tool call (a trade or a refusal) is the one that counts. A refusal changes
 * no account; it is only remembered, so a redelivered request is refused again.
 * Throws when an event contradicts the state (a trade for an unknown account, a sale of more
 * than is held, negative cash): the ledger is corrupt and must not be silently repaired.
 */
export function applyEvent(state: LedgerState, event: LedgerEvent): ApplyResult {
  if (event.type === "account_opened") {
    if (state.accounts.has(event.agent)) {
      state.duplicates++;
      return "duplicate";
    }
    state.accounts.set(event.agent, openAccount(event));
    state.applied++;
    return "applied";
  }
  const key = tradeKey(event.agent, event.toolCallId);
  if (state.trades.has(key) || state.refusals.has(key)) {
    state.duplicates++;
    return "duplicate";
  }
  if (event.type === "trade_refused") {
    state.refusals.set(key, event);
    state.applied++;
    return "applied";
  }
  const account = state.accounts.get(event.agent);
  if (!account) {
    throw new Error(`Trade ${event.eventId} names agent ${event.agent} with no opened account`);
  }
  applyTrade(account, event);
  state.trades.set(key, event);
  state.applied++;
  return "applied";
}

/** Applies a trade to an account in place (see {@linkcode applyEvent}). */
export function applyTrade(account: Account, trade: TradeExecuted): void {
  const quantity = toMoney(trade.quantity);
  const notional = toMoney(trade.notional);
  const fee = toMoney(trade.fee);
  const timeMs = Date.parse(trade.time);
  const position = account.positions.get(trade.productId);
  if (trade.side === "buy") {
    const cash = account.cash.minus(notional).minus(fee);
    if (cash.isNegative()) {
      throw new Error(`Trade ${trade.eventId} would leave cash at ${moneyString(cash)}`);
    }
    account.cash = cash;
    if (position) {
      const total = position.quantity.plus(quantity);
      const weighted = position.quantity.times(position.averageOpenTimeMs)
        .plus(quantity.times(timeMs)).div(total);
      position.quantity = total;
      position.costBasis = position.costBasis.plus(notional);
      position.averageOpenTimeMs = weighted.round().toNumber();
    } else {
      account.positions.set(trade.productId, {
        productId: trade.productId,
        quantity,
        costBasis: notional,
        averageOpenTimeMs: timeMs,
      });
    }
  } else {
    if (!position || position.quantity.lt(quantity)) {
      throw new Error(
        `Trade ${trade.eventId} sells ${trade.quantity} ${trade.productId} but the account holds ${
          position ? moneyString(position.quantity) : "0"
        }`,
      );
    }
    const removed = costRemoved(position, quantity);
    account.cash = account.cash.plus(notional).minus(fee);
    account.realizedPnl = account.realizedPnl.plus(notional.minus(removed));
    position.quantity = position.quantity.minus(quantity);
    position.costBasis = position.costBasis.minus(removed);
    if (position.quantity.isZero()) account.positions.delete(trade.productId);
  }
  account.feesPaid = account.feesPaid.plus(fee);
  account.tradedNotional = account.tradedNotional.plus(notional);
  account.tradeCount++;
}

/** Cost basis a sale of `quantity` removes: all of it for a full sale, else pro rata rounded. */
export function costRemoved(position: Position, quantity: Money): Money {
  if (quantity.gte(position.quantity)) return position.costBasis;
  const share = position.costBasis.times(quantity).div(position.quantity)
    .toDecimalPlaces(COST_DECIMALS, Decimal.ROUND_HALF_EVEN);
  return Money.min(share, position.costBasis);
}

/** Rebuilds the state from a sequence of ledger events. */
export function rebuildState(events: Iterable<LedgerEvent>): LedgerState {
  const state = createLedgerState();
  for (const event of events) applyEvent(state, event);
  return state;
}

/** A plain, comparable snapshot of an account (decimal strings), e.g. for tests and exports. */
export interface AccountSnapshot {
  /** Agent name. */
  agent: string;
  /** Starting cash. */
  startingCash: string;
  /** Cash now. */
  cash: string;
  /** Realized P&L, fees excluded. */
  realizedPnl: string;
  /** Fees paid. */
  feesPaid: string;
  /** Traded notional. */
  tradedNotional: string;
  /** Executed trades. */
  tradeCount: number;
  /** Open positions sorted by product id. */
  positions: { productId: string; quantity: string; costBasis: string; averageOpenTime: string }[];
  /** Market-clock time of the opening. */
  openedAt: string;
}

/** Writes an account as plain decimal strings. */
export function snapshotAccount(account: Account): AccountSnapshot {
  return {
    agent: account.agent,
    startingCash: moneyString(account.startingCash),
    cash: moneyString(account.cash),
    realizedPnl: moneyString(account.realizedPnl),
    feesPaid: moneyString(account.feesPaid),
    tradedNotional: moneyString(account.tradedNotional),
    tradeCount: account.tradeCount,
    positions: [...account.positions.values()]
      .sort((a, b) => a.productId.localeCompare(b.productId))
      .map((position) => ({
        productId: position.productId,
        quantity: moneyString(position.quantity),
        costBasis: moneyString(position.costBasis),
        averageOpenTime: new Date(position.averageOpenTimeMs).toISOString(),
      })),
    openedAt: account.openedAt,
  };
}

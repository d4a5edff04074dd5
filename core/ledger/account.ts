/** Account state and how ledger events change it (deterministic, no I/O). */

import type {
  AccountOpened,
  LedgerEvent,
  PositionSide,
  TradeExecuted,
  TradeRefused,
} from "../contracts/ledger.ts";
import { COST_DECIMALS, Money, moneyString, toMoney, ZERO } from "./money.ts";
import { Decimal } from "decimal.js";

/** What the agent said it would do with a position: engine-held exits and its stated view. */
export interface ExitPlan {
  /** Price at which the engine closes the position at a loss. */
  stopLoss?: Money;
  /** Price at which the engine closes the position at a profit. */
  takeProfit?: Money;
  /** The agent's condition for being wrong (shown back to it, never acted on). */
  invalidation?: string;
  /** The agent's stated confidence (0 to 1) of its latest entry. */
  confidence?: number;
}

/**
 * An open position on an isolated margin: `margin` is the cash it locked. A long at leverage 1
 * (the original's spot holding) locks its whole cost basis.
 */
export interface Position extends ExitPlan {
  /** Product id such as `BTC-USD`. */
  productId: string;
  /** `long` (bought, sold to close) or `short` (sold, bought back to close). */
  side: PositionSide;
  /** Units held (always > 0 while the position exists). */
  quantity: Money;
  /** Entry notional of the units held (quantity x entry price), fees excluded. */
  costBasis: Money;
  /** Cash locked by the position: the most it can lose (isolated margin). */
  margin: Money;
  /** Quantity-weighted average acquisition time (unix ms, market clock). */
  averageOpenTimeMs: number;
  /** Market time (unix ms) of the last trade on it: exits fire only on later quotes. */
  lastTradeTimeMs: number;
  /** Tool call id of the trade that opened it: names its one engine exit. */
  openedBy: string;
  /** Taker fee (bps) of its latest entry: closing it costs that much, so maintenance covers it. */
  takerFeeBps: number;
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
  /** Losses beyond a liquidated position's margin, absorbed by the house. */
  badDebt: Money;
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
    badDebt: ZERO,
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
  if (isVoidExit(account, event)) {
    // A second tools replica's exit for a position that is already closed: the first counts.
    state.duplicates++;
    return "duplicate";
  }
  applyTrade(account, event);
  state.trades.set(key, event);
  state.applied++;
  return "applied";
}

/**
 * An engine exit (stop, target, liquidation) that no longer matches an open position: the
 * position it names was closed or replaced first, so it changes nothing.
 */
export function isVoidExit(account: Account, trade: TradeExecuted): boolean {
  if ((trade.cause ?? "agent") === "agent") return false;
  const position = account.positions.get(trade.productId);
  return !position || exitCallId(position) !== trade.toolCallId ||
    !position.quantity.eq(toMoney(trade.quantity));
}

/** The tool call id of a position's one engine exit (the exactly-once key of its close). */
export function exitCallId(position: Pick<Position, "openedBy">): string {
  return `exit:${position.openedBy}`;
}

/** The side of the position a trade changes and whether it opens/adds (true) or reduces it. */
export function tradeEffect(
  trade: Pick<TradeExecuted, "side" | "position">,
): { side: PositionSide; opens: boolean } {
  const side = trade.position ?? "long";
  return { side, opens: (side === "long") === (trade.side === "buy") };
}

/**
 * Margin a trade locks: its notional over its leverage, rounded half-even to
 * {@linkcode COST_DECIMALS} places (exact at leverage 1).
 */
export function marginOf(notional: Money, leverage: number): Money {
  if (!Number.isInteger(leverage) || leverage < 1) {
    throw new Error(`Leverage must be a whole number of at least 1, got ${leverage}`);
  }
  return leverage === 1
    ? notional
    : notional.div(leverage).toDecimalPlaces(COST_DECIMALS, Decimal.ROUND_HALF_EVEN);
}

/** Profit of a position's units at a price: (price x quantity - cost) for a long, negated for a short. */
export function positionPnl(
  position: Pick<Position, "side">,
  options: { quantity: Money; costBasis: Money; price: Money },
): Money {
  const pnl = options.quantity.times(options.price).minus(options.costBasis);
  return position.side === "long" ? pnl : pnl.negated();
}

/**
 * What a position is worth to the account at a mark price: its margin plus its P&L, never below
 * zero (isolated margin: a position cannot lose more than it locked).
 */
export function positionValue(position: Position, mark: Money): Money {
  const value = position.margin.plus(
    positionPnl(position, {
      quantity: position.quantity,
      costBasis: position.costBasis,
      price: mark,
    }),
  );
  return value.isNegative() ? ZERO : value;
}

/**
 * Applies a trade to an account in place (see {@linkcode applyEvent}). Opening or adding locks
 * `notional / leverage` of margin plus the fee from cash; reducing releases the margin pro rata
 * plus the P&L of the units closed, minus the fee. What a reduction would take beyond the
 * position's margin (a price that gapped past liquidation) is bad debt the house absorbs, so
 * `cash + margins + fees - realized P&L - bad debt == starting cash` always holds.
 */
export function applyTrade(account: Account, trade: TradeExecuted): void {
  const quantity = toMoney(trade.quantity);
  const notional = toMoney(trade.notional);
  const fee = toMoney(trade.fee);
  const timeMs = Date.parse(trade.time);
  const { side, opens } = tradeEffect(trade);
  const position = account.positions.get(trade.productId);
  if (position && position.side !== side) {
    throw new Error(
      `Trade ${trade.eventId} changes a ${side} ${trade.productId} position but the account holds a ${position.side} one`,
    );
  }
  if (opens) {
    const margin = marginOf(notional, trade.leverage ?? 1);
    const cash = account.cash.minus(margin).minus(fee);
    if (cash.isNegative()) {
      throw new Error(`Trade ${trade.eventId} would leave cash at ${moneyString(cash)}`);
    }
    account.cash = cash;
    const plan = exitPlanOf(trade);
    if (position) {
      const added = afterEntry(position, { quantity, notional, margin });
      const weighted = position.quantity.times(position.averageOpenTimeMs)
        .plus(quantity.times(timeMs)).div(added.quantity);
      Object.assign(position, added);
      position.averageOpenTimeMs = weighted.round().toNumber();
      position.lastTradeTimeMs = timeMs;
      position.takerFeeBps = trade.takerFeeBps;
      Object.assign(position, plan);
    } else {
      account.positions.set(trade.productId, {
        productId: trade.productId,
        side,
        quantity,
        costBasis: notional,
        margin,
        averageOpenTimeMs: timeMs,
        lastTradeTimeMs: timeMs,
        openedBy: trade.toolCallId,
        takerFeeBps: trade.takerFeeBps,
        ...plan,
      });
    }
  } else {
    if (!position || position.quantity.lt(quantity)) {
      throw new Error(
        `Trade ${trade.eventId} closes ${trade.quantity} ${trade.productId} but the account holds ${
          position ? moneyString(position.quantity) : "0"
        }`,
      );
    }
    const { removed, released, pnl, returned, badDebt } = reduction(position, {
      quantity,
      notional,
      fee,
    });
    Object.assign(position, exitPlanOf(trade));
    account.badDebt = account.badDebt.plus(badDebt);
    account.cash = account.cash.plus(returned);
    account.realizedPnl = account.realizedPnl.plus(pnl);
    position.quantity = position.quantity.minus(quantity);
    position.costBasis = position.costBasis.minus(removed);
    position.margin = position.margin.minus(released);
    position.lastTradeTimeMs = timeMs;
    if (position.quantity.isZero()) account.positions.delete(trade.productId);
  }
  account.feesPaid = account.feesPaid.plus(fee);
  account.tradedNotional = account.tradedNotional.plus(notional);
  account.tradeCount++;
}

/** What reducing a position moves: see {@linkcode reduction}. */
export interface Reduction {
  /** Cost basis removed from the position. */
  removed: Money;
  /** Margin released from the position. */
  released: Money;
  /** Realized P&L of the units closed, fees excluded. */
  pnl: Money;
  /** Cash returned to the account: released + P&L - fee, never below zero. */
  returned: Money;
  /** What the reduction would take beyond that (absorbed by the house), else zero. */
  badDebt: Money;
}

/** The amounts of a position an entry changes. */
export type PositionAmounts = Pick<Position, "quantity" | "costBasis" | "margin">;

/**
 * A position's quantity, cost basis and margin after an entry of `quantity` units for `notional`
 * locking `margin` (from nothing when `position` is undefined): the one place the ledger and trade
 * execution add to a position.
 */
export function afterEntry(
  position: PositionAmounts | undefined,
  entry: { quantity: Money; notional: Money; margin: Money },
): PositionAmounts {
  return {
    quantity: (position?.quantity ?? ZERO).plus(entry.quantity),
    costBasis: (position?.costBasis ?? ZERO).plus(entry.notional),
    margin: (position?.margin ?? ZERO).plus(entry.margin),
  };
}

/**
 * The money of closing `quantity` units of a position for `notional` with `fee`: the one place
 * the ledger, trade execution and engine exits compute it.
 */
export function reduction(
  position: Pick<Position, "side" | "quantity" | "costBasis" | "margin">,
  trade: { quantity: Money; notional: Money; fee: Money },
): Reduction {
  const removed = costRemoved(position, trade.quantity);
  const released = marginReleased(position, trade.quantity);
  const pnl = position.side === "long"
    ? trade.notional.minus(removed)
    : removed.minus(trade.notional);
  const net = released.plus(pnl).minus(trade.fee);
  return {
    removed,
    released,
    pnl,
    returned: Money.max(net, ZERO),
    badDebt: net.isNegative() ? net.negated() : ZERO,
  };
}

/** The exit plan fields a trade sets (only those present: the others stay as they were). */
function exitPlanOf(trade: TradeExecuted): ExitPlan {
  const plan: ExitPlan = {};
  if (trade.stopLoss !== undefined) plan.stopLoss = toMoney(trade.stopLoss);
  if (trade.takeProfit !== undefined) plan.takeProfit = toMoney(trade.takeProfit);
  if (trade.invalidation !== undefined) plan.invalidation = trade.invalidation;
  if (trade.confidence !== undefined) plan.confidence = trade.confidence;
  return plan;
}

/** Margin a reduction of `quantity` releases: all of it for a full close, else pro rata rounded. */
export function marginReleased(
  position: Pick<Position, "quantity" | "margin">,
  quantity: Money,
): Money {
  return proRata(position.margin, { quantity, held: position.quantity });
}

/** Cost basis a reduction of `quantity` removes: all of it for a full close, else pro rata rounded. */
export function costRemoved(
  position: Pick<Position, "quantity" | "costBasis">,
  quantity: Money,
): Money {
  return proRata(position.costBasis, { quantity, held: position.quantity });
}

/**
 * The share of a position's amount that `quantity` of `held` units carries: the whole amount for
 * a full close, else rounded half-even to {@linkcode COST_DECIMALS} places (never more than it).
 */
function proRata(amount: Money, options: { quantity: Money; held: Money }): Money {
  if (options.quantity.gte(options.held)) return amount;
  const share = amount.times(options.quantity).div(options.held)
    .toDecimalPlaces(COST_DECIMALS, Decimal.ROUND_HALF_EVEN);
  return Money.min(share, amount);
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
  /** Losses beyond liquidated positions' margins, absorbed by the house. */
  badDebt: string;
  /** Traded notional. */
  tradedNotional: string;
  /** Executed trades. */
  tradeCount: number;
  /** Open positions sorted by product id. */
  positions: {
    productId: string;
    side: PositionSide;
    quantity: string;
    costBasis: string;
    margin: string;
    averageOpenTime: string;
  }[];
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
    badDebt: moneyString(account.badDebt),
    tradedNotional: moneyString(account.tradedNotional),
    tradeCount: account.tradeCount,
    positions: [...account.positions.values()]
      .sort((a, b) => a.productId.localeCompare(b.productId))
      .map((position) => ({
        productId: position.productId,
        side: position.side,
        quantity: moneyString(position.quantity),
        costBasis: moneyString(position.costBasis),
        margin: moneyString(position.margin),
        averageOpenTime: new Date(position.averageOpenTimeMs).toISOString(),
      })),
    openedAt: account.openedAt,
  };
}

/**
 * The buy-and-hold benchmark, defined once: starting cash split equally over the products, each
 * bought at its first positive mark in the window paying the arena's taker fee, then held and
 * valued at its last mark. {@linkcode buyAndHoldReturn} gives its return directly;
 * {@linkcode buyAndHoldLedger} gives the same account as ledger events, so a dashboard can draw
 * its curve and measure its drawdown and Sharpe ratio like any agent's. The fee is always passed
 * in ({@linkcode scoringTakerFeeBps} says which one): nothing here has a fee of its own.
 */

import type { Decimal } from "decimal.js";
import type { LedgerEvent } from "../contracts/ledger.ts";
import { bps, Money, moneyString, ZERO } from "../ledger/money.ts";
import { DEFAULT_TRADE_CONFIG } from "../ledger/trade.ts";
import { type MarkPoint, sortedMarks } from "./marks.ts";

/** The benchmark's name in leaderboards and charts. */
export const BENCHMARK_NAME = "buy-and-hold";

/**
 * The taker fee every score compares against: the arena's configured fee when given, else the
 * fee recorded on the ledger's first trade (what the arena charged), else the desk's default.
 */
export function scoringTakerFeeBps(
  events: Iterable<LedgerEvent>,
  configured?: number,
): number {
  if (configured !== undefined) return configured;
  for (const event of events) {
    if (event.type === "trade_executed") return event.takerFeeBps;
  }
  return DEFAULT_TRADE_CONFIG.takerFeeBps;
}

/** Each product's first positive mark in `[startMs, endMs]`, in order of those marks. */
export function firstMarks(
  points: readonly MarkPoint[],
  options: { startMs: number; endMs?: number },
): MarkPoint[] {
  const first = new Map<string, MarkPoint>();
  const endMs = options.endMs ?? Infinity;
  for (const point of sortedMarks(points)) {
    if (point.timeMs > endMs) break;
    if (point.timeMs < options.startMs || first.has(point.productId)) continue;
    if (new Money(point.price).gt(0)) first.set(point.productId, point);
  }
  return [...first.values()];
}

/** Options for {@linkcode buyAndHoldReturn}. */
export interface BuyAndHoldReturnOptions {
  /** Window start (unix ms). */
  startMs: number;
  /** Window end (unix ms). */
  endMs: number;
  /** Products held; default every product marked in the window. */
  products?: string[];
  /** The arena's taker fee in basis points, paid on each purchase. */
  takerFeeBps: number;
}

/** Equal-weight buy-and-hold return over a window, as a fraction. */
export function buyAndHoldReturn(
  points: readonly MarkPoint[],
  options: BuyAndHoldReturnOptions,
): Decimal {
  const first = new Map(
    firstMarks(points, options).map((mark) => [mark.productId, new Money(mark.price)]),
  );
  const last = new Map<string, Decimal>();
  for (const point of sortedMarks(points)) {
    if (point.timeMs > options.endMs) break;
    last.set(point.productId, new Money(point.price));
  }
  const products = (options.products ?? [...first.keys()]).filter((id) => first.has(id));
  if (products.length === 0) return ZERO;
  const keep = new Money(1).minus(bps(options.takerFeeBps));
  let total = ZERO;
  for (const product of products) {
    total = total.plus(last.get(product)!.div(first.get(product)!).times(keep));
  }
  return total.div(products.length).minus(1);
}

/** Options for {@linkcode buyAndHoldLedger}. */
export interface BuyAndHoldOptions {
  /** Window start (unix ms): the account opens then and buys at each product's first mark. */
  startMs: number;
  /** Starting cash (decimal string). */
  startingCash: string;
  /** The arena's taker fee in basis points, paid on each purchase. */
  takerFeeBps: number;
}

/** Ledger events of an equal-weight buy-and-hold account, or [] without marks in the window. */
export function buyAndHoldLedger(
  marks: readonly MarkPoint[],
  options: BuyAndHoldOptions,
): LedgerEvent[] {
  const products = firstMarks(marks, { startMs: options.startMs }).sort((a, b) =>
    a.timeMs - b.timeMs || a.productId.localeCompare(b.productId)
  );
  if (products.length === 0) return [];
  const cash = new Money(options.startingCash);
  const feeRate = bps(options.takerFeeBps);
  const share = cash.div(products.length);
  const events: LedgerEvent[] = [{
    v: 1,
    type: "account_opened",
    eventId: `open:${BENCHMARK_NAME}`,
    agent: BENCHMARK_NAME,
    cash: moneyString(cash),
    time: new Date(options.startMs).toISOString(),
  }];
  let left = cash;
  products.forEach((mark, index) => {
    // The last product takes what is left, so the account ends with exactly zero cash.
    const budget = index === products.length - 1 ? left : share;
    left = left.minus(budget);
    const notional = budget.times(new Money(1).minus(feeRate));
    const fee = budget.minus(notional);
    events.push({
      v: 1,
      type: "trade_executed",
      eventId: `trade:${BENCHMARK_NAME}:${mark.productId}`,
      agent: BENCHMARK_NAME,
      toolCallId: `${BENCHMARK_NAME}-${mark.productId}`,
      productId: mark.productId,
      side: "buy",
      quantity: moneyString(notional.div(mark.price)),
      fillPrice: mark.price,
      quotePrice: mark.price,
      notional: moneyString(notional),
      fee: moneyString(fee),
      takerFeeBps: options.takerFeeBps,
      slippageBps: 0,
      cashAfter: moneyString(left),
      time: new Date(mark.timeMs).toISOString(),
    });
  });
  return events;
}

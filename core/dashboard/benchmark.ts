/**
 * The buy-and-hold benchmark as a ledger: an account that splits its cash equally over the
 * products at their first mark and holds. Its metrics then come from core/metrics like any
 * agent's, so the benchmark row has a curve, a drawdown and a Sharpe ratio, and its return equals
 * core/metrics' `buyAndHoldReturn` over the same window.
 */

import type { LedgerEvent } from "../contracts/ledger.ts";
import { bps, Money, moneyString } from "../ledger/money.ts";
import type { MarkPoint } from "../metrics/metrics.ts";

/** The benchmark's name in leaderboards and charts. */
export const BENCHMARK_NAME = "buy-and-hold";

/** Options for {@linkcode buyAndHoldLedger}. */
export interface BuyAndHoldOptions {
  /** Window start (unix ms): the account opens then and buys at each product's first mark. */
  startMs: number;
  /** Starting cash (decimal string). */
  startingCash: string;
  /** Taker fee of the purchases in basis points. */
  takerFeeBps: number;
}

/** Ledger events of an equal-weight buy-and-hold account, or [] without marks in the window. */
export function buyAndHoldLedger(
  marks: readonly MarkPoint[],
  options: BuyAndHoldOptions,
): LedgerEvent[] {
  const first = new Map<string, MarkPoint>();
  for (const mark of marks) {
    if (mark.timeMs < options.startMs || !(Number(mark.price) > 0)) continue;
    const seen = first.get(mark.productId);
    if (!seen || mark.timeMs < seen.timeMs) first.set(mark.productId, mark);
  }
  const products = [...first.values()].sort((a, b) =>
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

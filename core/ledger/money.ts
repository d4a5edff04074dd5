/**
 * Money and quantities: one exact representation everywhere.
 *
 * - In memory every cash balance, price, quantity, notional, fee and P&L is a {@linkcode Money}
 *   value: a dedicated decimal.js clone with 40 significant digits and half-even rounding.
 *   Binary floats are never used for balances, quantities or prices.
 * - On the wire (ledger events, price ticks, portfolio views) the same values are decimal
 *   strings in plain notation (`"4652.69"`, `"0.00000001"`, never exponent form), written with
 *   {@linkcode moneyString} and read with {@linkcode toMoney}.
 * - Amounts are in USD (the quote currency of every product); quantities are in base units.
 * - Nothing is rounded when a trade is executed: `notional = quantity x fillPrice` and
 *   `fee = notional x takerFeeBps / 10000` are exact products of decimals (quantities have at
 *   most the product's increment of decimals, prices the exchange's precision, so the result
 *   stays far below 40 significant digits). Slippage multiplies the quote by
 *   `1 +/- slippageBps / 10000`, also exact.
 * - The only rounding in the ledger is the cost basis removed by a partial sell:
 *   `costBasis x sold / held`, rounded half-even to {@linkcode COST_DECIMALS} decimal places.
 *   Realized P&L uses that same rounded figure, so
 *   `cash + sum(cost bases) + fees paid - realized P&L == starting cash` holds exactly.
 *   Selling a whole position removes its whole cost basis.
 * - Display-only divisions (average cost, percentages) are rounded where they are shown.
 */

import { Decimal } from "decimal.js";

/** Decimal constructor for all ledger money: 40 significant digits, half-even rounding. */
export const Money: typeof Decimal = Decimal.clone({
  precision: 40,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -100,
  toExpPos: 100,
});

/** An exact decimal value of the ledger. */
export type Money = Decimal;

/** Decimal places kept for the cost basis removed by a partial sell. */
export const COST_DECIMALS = 12;

/** Zero as {@linkcode Money}. */
export const ZERO: Money = new Money(0);

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** Parses a decimal string of the wire format; throws on anything else. */
export function toMoney(value: string): Money {
  if (!PLAIN_DECIMAL.test(value)) {
    throw new Error(`Amount must be a decimal string like "12.5", got ${JSON.stringify(value)}`);
  }
  return new Money(value);
}

/** Writes a value as a plain decimal string (no exponent, no trailing zeros). */
export function moneyString(value: Money): string {
  const text = value.toFixed();
  return text === "-0" ? "0" : text;
}

/** Writes a value rounded half-even to a number of decimal places, e.g. for percentages. */
export function roundedString(value: Money, decimals: number): string {
  const text = value.toFixed(decimals, Decimal.ROUND_HALF_EVEN);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** Basis points as a multiplier: 60 -> 0.006. */
export function bps(value: number): Money {
  return new Money(value).div(10_000);
}

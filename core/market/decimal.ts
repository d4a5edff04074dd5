/** Exact decimal helpers for market data (decimal.js with enough precision, no binary floats). */

import { Decimal } from "decimal.js";

/** A Decimal constructor with 40 significant digits, enough for any price or volume sum. */
export const MarketDecimal: typeof Decimal = Decimal.clone({ precision: 40 });

/** Writes a decimal in plain notation (never exponent form), e.g. `"0.00000001"`. */
export function plainDecimal(value: Decimal): string {
  return value.toFixed();
}

/** Number of digits after the decimal point of a decimal string (`"4652.6"` -> 1). */
export function decimalPlaces(value: string): number {
  const dot = value.indexOf(".");
  return dot < 0 ? 0 : value.length - dot - 1;
}

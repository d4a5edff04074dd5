/** Text formatting for dashboards: money, percentages, quantities and ANSI-aware padding. */

import { Decimal } from "decimal.js";

/** Groups thousands with commas: `"1234567.5"` -> `"1,234,567.5"`. */
export function groupThousands(text: string): string {
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const [whole = "", fraction] = body.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`;
}

/** Formats a decimal string as US dollars with cents: `"-1234.5"` -> `"-$1,234.50"`. */
export function formatUsd(value: string | number): string {
  const amount = new Decimal(value).toDecimalPlaces(2);
  const text = groupThousands(amount.abs().toFixed(2));
  return amount.isNegative() && !amount.isZero() ? `-$${text}` : `$${text}`;
}

/** Formats a price with its significant precision (at most 8 decimals, at least 2). */
export function formatPrice(value: string): string {
  const amount = new Decimal(value);
  const decimals = Math.min(8, Math.max(2, amount.decimalPlaces()));
  return groupThousands(amount.toFixed(decimals));
}

/** Formats a quantity without trailing zeros, at most 8 decimals. */
export function formatQuantity(value: string): string {
  return groupThousands(new Decimal(value).toDecimalPlaces(8).toString());
}

/** Formats a percentage string with a sign: `"1.5"` -> `"+1.50%"`. */
export function formatPct(value: string | number): string {
  const amount = new Decimal(value).toDecimalPlaces(2);
  return `${amount.gt(0) ? "+" : ""}${amount.toFixed(2)}%`;
}

/** Sign of a decimal string: -1, 0 or 1. */
export function signOf(value: string | number): number {
  return new Decimal(value).comparedTo(0);
}

// deno-lint-ignore no-control-regex
const ANSI_PATTERN = /\x1b\[[0-9;?]*[A-Za-z]/g;
// deno-lint-ignore no-control-regex
const ANSI_AT_START = /^\x1b\[[0-9;?]*[A-Za-z]/;

/** Removes ANSI escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, "");
}

/** Visible width of a line: characters excluding ANSI sequences. */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

/** Cuts a line to a visible width, keeping ANSI sequences intact and resetting at the cut. */
export function truncateVisible(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  let out = "";
  let visible = 0;
  let hasAnsi = false;
  for (let i = 0; i < text.length;) {
    const match = text[i] === "\x1b" ? ANSI_AT_START.exec(text.slice(i)) : null;
    if (match) {
      out += match[0];
      hasAnsi = true;
      i += match[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i)!);
    if (visible + 1 > width - 1) {
      out += "…";
      break;
    }
    out += char;
    visible++;
    i += char.length;
  }
  return hasAnsi ? `${out}\x1b[0m` : out;
}

/** Pads (or cuts) to an exact visible width; `align` right pads on the left. */
export function fit(text: string, width: number, align: "left" | "right" = "left"): string {
  const cut = truncateVisible(text, width);
  const pad = " ".repeat(Math.max(0, width - visibleWidth(cut)));
  return align === "left" ? cut + pad : pad + cut;
}

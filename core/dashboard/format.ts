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

/** Cuts text longer than `limit` characters, ending it with an ellipsis. */
export function clipText(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** Formats a model cost in USD with 4 decimals, or `—` for a model without cost (`rules`). */
export function formatCost(usd: number): string {
  return usd > 0 ? `$${usd.toFixed(4)}` : "—";
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

/** One column of a {@linkcode layoutTable} table. */
export interface TableColumn {
  /** Header text. */
  header: string;
  /** One cell per row (ANSI colours allowed); ignored for a flex column. */
  cells: string[];
  /** Alignment (default left). */
  align?: "left" | "right";
  /** 0 (default) is always kept; higher numbers are dropped first when the width is short. */
  priority?: number;
  /** Text columns may be shortened with an ellipsis down to this width; numbers never are. */
  minWidth?: number;
  /** A column that takes the space left (between `min` and `max`), drawn at that width. */
  flex?: { min: number; max: number; render: (row: number, width: number) => string };
}

/**
 * Lays out a table in at most `width` columns without cutting a cell: text columns with a
 * `minWidth` are shortened first, then the highest-priority-number columns are dropped. Returns
 * the header line then one line per row.
 */
export function layoutTable(columns: TableColumn[], width: number): string[] {
  const rows = Math.max(0, ...columns.map((column) => column.flex ? 0 : column.cells.length));
  const natural = columns.map((column) =>
    column.flex
      ? Math.max(column.flex.min, visibleWidth(column.header))
      : Math.max(visibleWidth(column.header), ...column.cells.map(visibleWidth))
  );
  const ranks = [...new Set(columns.map((column) => column.priority ?? 0))].sort((a, b) => b - a);
  let kept: number[] = columns.map((_, index) => index);
  let widths = [...natural];
  for (const dropFrom of [Infinity, ...ranks.filter((rank) => rank > 0)]) {
    kept = columns.map((_, index) => index)
      .filter((index) => (columns[index]!.priority ?? 0) < dropFrom);
    widths = [...natural];
    let excess = kept.reduce((sum, index) => sum + widths[index]!, 0) + kept.length - 1 - width;
    // Shorten the widest shortenable text column first, one character at a time.
    while (excess > 0) {
      let widest = -1;
      for (const index of kept) {
        const min = columns[index]!.minWidth;
        if (min === undefined || widths[index]! <= min) continue;
        if (widest < 0 || widths[index]! > widths[widest]!) widest = index;
      }
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
    if (excess <= 0) {
      // Flex columns take what is left, up to their maximum.
      for (const index of kept) {
        const flex = columns[index]!.flex;
        if (!flex || excess >= 0) continue;
        const grow = Math.min(-excess, flex.max - widths[index]!);
        widths[index]! += Math.max(0, grow);
        excess += Math.max(0, grow);
      }
      break;
    }
  }
  const line = (cell: (index: number) => string) =>
    kept.map((index) => fit(cell(index), widths[index]!, columns[index]!.align ?? "left"))
      .join(" ").trimEnd();
  const lines = [line((index) => columns[index]!.header)];
  for (let row = 0; row < rows; row++) {
    lines.push(line((index) => {
      const column = columns[index]!;
      return column.flex ? column.flex.render(row, widths[index]!) : column.cells[row] ?? "";
    }));
  }
  return lines;
}

const SPARK_BARS = "▁▂▃▄▅▆▇█";

/** A one-line chart of the values in `width` characters (the last value of each bucket). */
export function sparkline(values: readonly number[], width: number): string {
  if (values.length === 0 || width <= 0) return "";
  const points: number[] = [];
  const count = Math.min(width, values.length);
  for (let i = 0; i < count; i++) {
    points.push(values[Math.floor((i + 1) * values.length / count) - 1]!);
  }
  const low = Math.min(...points);
  const high = Math.max(...points);
  return points.map((value) =>
    high === low
      ? SPARK_BARS[3]!
      : SPARK_BARS[Math.round((value - low) / (high - low) * (SPARK_BARS.length - 1))]!
  ).join("");
}

/** Seconds for a latency column: `"0.4s"`, `"12s"`, or `"-"` when unknown. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "-";
  return seconds < 10 ? `${seconds.toFixed(1)}s` : `${Math.round(seconds)}s`;
}

/** Word-wraps plain text (whitespace collapsed) into lines of at most `width` characters. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.replace(/\s+/g, " ").trim().split(" ")) {
    if (word === "") continue;
    let rest = word;
    while ([...rest].length > width) {
      if (line) lines.push(line);
      line = "";
      lines.push([...rest].slice(0, width).join(""));
      rest = [...rest].slice(width).join("");
    }
    if (!line) line = rest;
    else if ([...line].length + 1 + [...rest].length <= width) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Options for {@linkcode textTable}. */
export interface TextTableOptions {
  /** Columns aligned right, by index. */
  right?: number[];
  /** Widest line allowed: the gap narrows to one space, then `shrink` columns get an ellipsis. */
  width?: number;
  /** Text columns that may be shortened (by index), never numbers. */
  shrink?: number[];
}

/** Renders rows as an aligned text table with a rule under the header. */
export function textTable(
  header: string[],
  rows: string[][],
  options: TextTableOptions | number[] = {},
): string {
  const { right = [], width = Infinity, shrink = [] } = Array.isArray(options)
    ? { right: options }
    : options;
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => (row[index] ?? "").length))
  );
  const total = (gap: number) => widths.reduce((sum, w) => sum + w, 0) + gap * (widths.length - 1);
  const gap = total(2) <= width ? 2 : 1;
  let excess = total(gap) - width;
  while (excess > 0) {
    const widest = shrink.filter((index) => widths[index]! > Math.max(6, header[index]!.length))
      .sort((a, b) => widths[b]! - widths[a]!)[0];
    if (widest === undefined) break;
    widths[widest]!--;
    excess--;
  }
  const cut = (cell: string, size: number) =>
    cell.length <= size ? cell : `${cell.slice(0, Math.max(0, size - 1))}…`;
  const line = (cells: string[]) =>
    cells.map((cell, index) => {
      const text = cut(cell, widths[index]!);
      return right.includes(index) ? text.padStart(widths[index]!) : text.padEnd(widths[index]!);
    }).join(" ".repeat(gap)).trimEnd();
  return [line(header), line(widths.map((size) => "-".repeat(size))), ...rows.map(line)]
    .join("\n");
}

/** Renders rows as an aligned markdown table (cells padded so it also reads well as text). */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) =>
    Math.max(3, cell.length, ...rows.map((row) => (row[index] ?? "").length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, index) => cell.padEnd(widths[index]!)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)]
    .join("\n");
}

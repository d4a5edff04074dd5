/** Plain-text tables of arena results: the final leaderboard of one run. */

import { Decimal } from "decimal.js";
import type { ReportJson } from "../dashboard/report.ts";
import { formatPct, formatUsd } from "../dashboard/format.ts";

/** A drawdown (a positive fall) in percent without a sign: `"5.5"` -> `"5.50%"`. */
function drawdown(value: string): string {
  return `${new Decimal(value).toDecimalPlaces(2).toFixed(2)}%`;
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

/** Width the final leaderboard fits in. */
export const LEADERBOARD_WIDTH = 80;

/**
 * The final leaderboard of a report as two plain tables that fit {@linkcode LEADERBOARD_WIDTH}
 * columns (no colours, no wall-clock values), best first, with the buy-and-hold benchmark as the
 * last row of each. Two identical runs give identical text.
 *
 * First table: equity, return, max DD (from the running peak, starting cash included), trades,
 * valid (share of decisions that ended with a valid answer, not an invalid reply, a timeout or a
 * model error) and model cost. Second table, the same agents: net (return net of model cost), DD
 * start (largest fall below the starting cash), sharpe 1h (Sharpe of hourly returns,
 * annualised), win (winning share of round trips), fees, fees % (of the starting cash) and
 * edge/dec (fees / decisions in percent of it).
 */
export function formatLeaderboard(report: ReportJson): string {
  const bench = report.benchmark;
  const main = report.leaderboard.map((row) => [
    String(row.rank),
    row.agent,
    row.model,
    formatUsd(row.equity),
    formatPct(row.returnPct),
    drawdown(row.maxDrawdownPct),
    String(row.trades),
    row.validPct === null ? "-" : `${row.validPct.toFixed(0)}%`,
    `$${row.costUsd.toFixed(4)}`,
  ]);
  const extra = report.leaderboard.map((row) => [
    String(row.rank),
    row.agent,
    formatPct(row.netReturnPct),
    drawdown(row.maxDrawdownFromStartPct),
    row.sharpe === null ? "-" : row.sharpe.toFixed(2),
    row.winRate === null ? "-" : `${(row.winRate * 100).toFixed(0)}%`,
    formatUsd(row.feesPaid),
    `${Number(row.feesPct).toFixed(2)}%`,
    row.breakEvenEdgePct === null ? "-" : `${row.breakEvenEdgePct.toFixed(4)}%`,
  ]);
  if (bench) {
    main.push([
      "-",
      "buy-and-hold",
      "-",
      "-",
      formatPct(bench.returnPct),
      drawdown(bench.maxDrawdownPct),
      "-",
      "-",
      "-",
    ]);
    extra.push([
      "-",
      "buy-and-hold",
      formatPct(bench.returnPct),
      "-",
      bench.sharpe === null ? "-" : bench.sharpe.toFixed(2),
      "-",
      "-",
      "-",
      "-",
    ]);
  }
  const fitting = { width: LEADERBOARD_WIDTH, shrink: [1, 2] };
  return [
    textTable(
      ["#", "agent", "model", "equity", "return", "max DD", "trades", "valid", "cost"],
      main,
      { ...fitting, right: [0, 3, 4, 5, 6, 7, 8] },
    ),
    "",
    textTable(
      ["#", "agent", "net", "DD start", "sharpe 1h", "win", "fees", "fees %", "edge/dec"],
      extra,
      { ...fitting, shrink: [1], right: [0, 2, 3, 4, 5, 6, 7, 8] },
    ),
  ].join("\n");
}

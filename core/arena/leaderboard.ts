/** Plain-text tables of arena results: the final leaderboard of one run. */

import { Decimal } from "decimal.js";
import type { ReportJson } from "../dashboard/report.ts";
import { formatPct, formatUsd } from "../dashboard/format.ts";

/** A drawdown (a positive fall) in percent without a sign: `"5.5"` -> `"5.50%"`. */
function drawdown(value: string): string {
  return `${new Decimal(value).toDecimalPlaces(2).toFixed(2)}%`;
}

/** Renders rows as an aligned text table; `right` marks right-aligned columns by index. */
export function textTable(header: string[], rows: string[][], right: number[] = []): string {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => (row[index] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, index) =>
      right.includes(index) ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)
    ).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)]
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

/**
 * The final leaderboard of a report as a plain table (no colours, no wall-clock values), best
 * first, with the buy-and-hold benchmark as the last row. Two identical runs give identical text.
 * net: return net of model cost; max DD: from the running peak (starting cash included); DD start:
 * largest fall below the starting cash; sharpe 1h: Sharpe of hourly returns, annualised; fees %:
 * fees in percent of the starting cash; edge/dec: fees / decisions in percent of it; valid: share
 * of decisions that ended with a valid answer (not an invalid reply, a timeout or a model error).
 */
export function formatLeaderboard(report: ReportJson): string {
  const rows = report.leaderboard.map((row) => [
    String(row.rank),
    row.agent,
    row.model,
    formatUsd(row.equity),
    formatPct(row.returnPct),
    formatPct(row.netReturnPct),
    drawdown(row.maxDrawdownPct),
    drawdown(row.maxDrawdownFromStartPct),
    row.sharpe === null ? "-" : row.sharpe.toFixed(2),
    row.winRate === null ? "-" : `${(row.winRate * 100).toFixed(0)}%`,
    String(row.trades),
    formatUsd(row.feesPaid),
    `${Number(row.feesPct).toFixed(2)}%`,
    row.breakEvenEdgePct === null ? "-" : `${row.breakEvenEdgePct.toFixed(4)}%`,
    row.validPct === null ? "-" : `${row.validPct.toFixed(0)}%`,
    `$${row.costUsd.toFixed(4)}`,
  ]);
  if (report.benchmark) {
    rows.push([
      "-",
      "buy-and-hold",
      "-",
      "-",
      formatPct(report.benchmark.returnPct),
      formatPct(report.benchmark.returnPct),
      drawdown(report.benchmark.maxDrawdownPct),
      "-",
      report.benchmark.sharpe === null ? "-" : report.benchmark.sharpe.toFixed(2),
      "-",
      "-",
      "-",
      "-",
      "-",
      "-",
      "-",
    ]);
  }
  return textTable(
    [
      "#",
      "agent",
      "model",
      "equity",
      "return",
      "net",
      "max DD",
      "DD start",
      "sharpe 1h",
      "win",
      "trades",
      "fees",
      "fees %",
      "edge/dec",
      "valid",
      "cost",
    ],
    rows,
    [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  );
}

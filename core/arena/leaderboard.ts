/** Plain-text tables of arena results: the final leaderboard of one run. */

import { Decimal } from "decimal.js";
import type { ReportJson } from "../dashboard/report.ts";
import { formatCost, formatPct, formatUsd, textTable } from "../dashboard/format.ts";
import { anyCalls, calibrationCells } from "../metrics/calibration.ts";

/** A drawdown (a positive fall) in percent without a sign: `"5.5"` -> `"5.50%"`. */
function drawdown(value: string): string {
  return `${new Decimal(value).toDecimalPlaces(2).toFixed(2)}%`;
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
 * model error) and model cost (— for a model without cost). Second table, the same agents: net
 * (return net of model cost), DD start (largest fall below the starting cash), sharpe 1h (Sharpe
 * of hourly returns, annualised), win (winning share of round trips), fees, fees % (of the starting cash) and
 * edge/dec (fees / decisions in percent of it). When any agent stated a confidence with its
 * trades, a third table scores it (core/metrics/calibration.ts): brier (n/a without a scored
 * call), calls (scored), open (calls on positions still open), conf (mean stated confidence of
 * the scored calls) and hit (share of them whose position made money after fees).
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
    formatCost(row.costUsd),
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
  const tables = [
    textTable(
      ["#", "agent", "model", "equity", "return", "max DD", "trades", "valid", "cost"],
      main,
      { ...fitting, right: [0, 3, 4, 5, 6, 7, 8] },
    ),
    textTable(
      ["#", "agent", "net", "DD start", "sharpe 1h", "win", "fees", "fees %", "edge/dec"],
      extra,
      { ...fitting, shrink: [1], right: [0, 2, 3, 4, 5, 6, 7, 8] },
    ),
  ];
  if (anyCalls(report.leaderboard.map((row) => row.calibration))) {
    tables.push(textTable(
      ["#", "agent", "brier", "calls", "open", "conf", "hit"],
      report.leaderboard.map((row) => [
        String(row.rank),
        row.agent,
        ...calibrationCells(row.calibration),
      ]),
      { ...fitting, shrink: [1], right: [0, 2, 3, 4, 5, 6] },
    ));
  }
  return tables.join("\n\n");
}

/**
 * The tournament's printed report: the verdict on the first line, then what was played, then
 * three markdown tables (returns and the statistics, costs and activity, entry vs entry), the
 * calibration of stated confidence when any entry stated one, and the method, every line readable
 * in 100 columns. Money, percentages, tables and wrapping use the dashboard's helpers
 * (core/dashboard/format.ts).
 */

import { describeDesk, isMarginDesk } from "./describe.ts";
import { formatCost, formatPct, formatUsd, markdownTable, wrapText } from "../dashboard/format.ts";
import { describeMask } from "../market/mask.ts";
import { anyCalls, calibrationCells } from "../metrics/calibration.ts";
import { type Comparison, formatPValue, type Interval } from "./stats.ts";
import type { EntryResult, TournamentResult } from "./tournament.ts";

/** Column width the report is laid out for. */
export const REPORT_WIDTH = 100;

function pct(value: number): string {
  return Number.isFinite(value) ? formatPct(value) : "-";
}

function num(value: number): string {
  return `${value > 0 ? "+" : ""}${value.toFixed(2)}`;
}

function interval(ci: Interval | null): string {
  return ci ? `[${num(ci.low)}, ${num(ci.high)}]` : "n/a";
}

/** Wraps words into lines of at most {@linkcode REPORT_WIDTH} characters. */
function wrap(text: string): string[] {
  return wrapText(text, REPORT_WIDTH);
}

function counts(values: readonly string[]): string {
  const tally = new Map<string, number>();
  for (const value of values) tally.set(value, (tally.get(value) ?? 0) + 1);
  return [...tally].map(([value, count]) => `${value} ${count}`).join(", ");
}

function runsLine(result: TournamentResult): string {
  const fixed = result.entries.filter((entry) => entry.deterministic).map((entry) => entry.entry);
  const random = result.entries.filter((entry) => !entry.deterministic);
  if (fixed.length === 0) return `Runs: ${result.runs} per window for every entry.`;
  const note = `${fixed.join(", ")} ${fixed.length === 1 ? "is" : "are"} deterministic: ` +
    `1 run per window (identical runs are not repeated)`;
  return random.length === 0
    ? `Runs: ${note}${result.runs > 1 ? `; --runs ${result.runs} has nothing to repeat` : ""}.`
    : `Runs: ${result.runs} per window for ${random.map((entry) => entry.entry).join(", ")}; ` +
      `${note}.`;
}

function returnsTable(result: TournamentResult): string {
  const rows = result.entries.map((entry) => [
    entry.entry,
    pct(entry.meanReturnPct),
    interval(entry.ci95),
    pct(entry.vsBenchmark.meanDiff),
    interval(entry.vsBenchmark.ci95),
    formatPValue(entry.vsBenchmark.p),
    formatPValue(entry.vsBenchmark.pHolm),
    entry.random ? `${entry.random.percentile.toFixed(0)}%` : "-",
  ]);
  rows.push([
    "buy-and-hold",
    pct(result.benchmark.summary.mean),
    interval(result.benchmark.ci95),
    "-",
    "-",
    "-",
    "-",
    "-",
  ]);
  return markdownTable(
    ["entry", "mean", "95% CI", "vs B&H", "95% CI", "p", "p Holm", "vs random"],
    rows,
  );
}

function costsTable(result: TournamentResult): string {
  const rows = result.entries.map((entry: EntryResult) => [
    entry.entry,
    pct(entry.netReturns.mean),
    formatCost(entry.totalCostUsd),
    `${entry.feesPct.toFixed(2)}%`,
    entry.breakEvenEdgePct === null ? "-" : `${entry.breakEvenEdgePct.toFixed(4)}%`,
    (entry.totalTrades / Math.max(1, entry.windows.length)).toFixed(1),
    `${entry.turnover.toFixed(2)}x`,
    `${entry.meanMaxDrawdownPct.toFixed(2)}%`,
    `${entry.beatBenchmark}/${entry.windows.length}`,
    entry.random ? pct(entry.random.meanReturnPct) : "-",
  ]);
  return markdownTable(
    ["entry", "net", "model", "fees", "edge/dec", "trades", "turn", "max DD", "beat", "random"],
    rows,
  );
}

function pairsTable(pairs: readonly Comparison[]): string {
  return markdownTable(
    ["entry minus entry", "mean", "95% CI", "p Holm"],
    pairs.map((pair) => [
      `${pair.a} - ${pair.b}`,
      pct(pair.meanDiff),
      interval(pair.ci95),
      formatPValue(pair.pHolm),
    ]),
  );
}

/**
 * The calibration of every entry that stated a confidence (pooled over windows and runs): Brier
 * score, scored and open calls, mean confidence against hit rate, and hits/calls per confidence
 * bin; nothing when no entry stated one.
 */
function calibrationLines(result: TournamentResult): string[] {
  if (!anyCalls(result.entries.map((entry) => entry.calibration))) return [];
  return [
    "",
    ...wrap(
      "Calibration, pooled over windows: each trade that opened or added to a position with a " +
        "stated confidence is a call, won when that position's round trip made money after fees:",
    ),
    "",
    markdownTable(
      ["entry", "brier", "calls", "open", "conf", "hit", "0-.2", ".2-.4", ".4-.6", ".6-.8", ".8-1"],
      result.entries.map((entry) => [
        entry.entry,
        ...calibrationCells(entry.calibration),
        ...entry.calibration.bins.map((bin) => `${bin.hits}/${bin.calls}`),
      ]),
    ),
    "",
    ...wrap(
      "brier: mean (confidence - outcome)^2 over the scored calls (0 is perfect, always 0.5 " +
        "scores 0.25; n/a without one); open: calls on positions still open at a window's end, " +
        "not scored; conf: mean stated confidence; hit: share of calls won; 0-.2 ... .8-1: " +
        "calls won / scored per confidence range.",
    ),
  ];
}

/**
 * The memorisation gap of every LLM entry (unmasked minus masked return per window, with its
 * interval) and each window's mask, when the tournament played both; nothing otherwise.
 */
function memorizationLines(result: TournamentResult): string[] {
  const measured = result.entries.filter((entry) => entry.memorization && !entry.deterministic);
  const masks = result.windows.filter((window) => window.mask !== undefined);
  if (masks.length === 0) return [];
  const lines: string[] = [];
  if (result.entries.some((entry) => entry.memorization)) {
    lines.push(
      "",
      ...wrap(
        "Memorisation gap (unmasked minus masked return per window; above zero: the model " +
          "does better when it sees real dates, tickers and prices):",
      ),
      "",
      measured.length === 0
        ? "No LLM entry: the rules model's gap is 0 by construction (its returns are scale-free)."
        : markdownTable(
          ["entry", "mean gap", "95% CI", "windows"],
          measured.map((entry) => [
            entry.entry,
            pct(entry.memorization!.meanPct),
            interval(entry.memorization!.ci95),
            String(entry.memorization!.gapsPct.length),
          ]),
        ),
    );
  }
  lines.push(
    "",
    "Masks (shown after the run; agents saw only the masked names, prices and T+ times):",
    ...masks.flatMap((window) =>
      describeMask(window.mask!).map((line, index) =>
        `${index === 0 ? `${window.set} #${window.index}:` : " ".repeat(2)} ${line}`
      )
    ),
  );
  return lines;
}

/** The result as text: the verdict first, then the tables and the notes, 100 columns wide. */
export function formatTournamentMarkdown(result: TournamentResult): string {
  const sets = [...new Set(result.windows.map((window) => window.set))];
  const regimes = result.windows.map((window) => window.regime).filter((regime) => regime !== null);
  const header = [
    `Tournament: ${result.entries.length} entries x ${result.windows.length} windows of ` +
    `${result.windowHours} h from ${sets.length} ${sets.length === 1 ? "set" : "sets"} ` +
    `(${sets.join(", ")}).`,
    regimes.length > 0 ? `Regimes (windows): ${counts(regimes)}.` : "",
    `A decision every ${result.intervalSeconds / 60} min of market time, lockstep, ` +
    `${formatUsd(result.startingCash)} per account per window, ${describeDesk(result.desk)}, ` +
    `seed ${result.seed}.`,
    runsLine(result),
    result.randomBaselines > 0
      ? `Random baseline: ${result.randomBaselines} seeded random traders per entry and ` +
        `window, each matched on the entry's trades and traded notional in that window` +
        (isMarginDesk(result.desk)
          ? `, on the same desk (${
            result.desk.allowShort ? "long or short by coin flip, " : ""
          }borrowing what that notional needs).`
          : ".")
      : "Random baseline: none (--random-baselines 0).",
  ].filter((line) => line !== "").flatMap((line) => wrap(line));
  const losers = result.entries.filter((entry) =>
    entry.vsBenchmark.pHolm < 0.05 && entry.vsBenchmark.meanDiff < 0
  );
  const lines = [
    result.verdict,
    ...losers.flatMap((entry) =>
      wrap(
        `${entry.entry} trails buy-and-hold by ${pct(entry.vsBenchmark.meanDiff)} per window ` +
          `${interval(entry.vsBenchmark.ci95)}, p=${formatPValue(entry.vsBenchmark.pHolm)} ` +
          `(Holm).`,
      )
    ),
    "",
    ...header,
    "",
    "Returns per window in percent of the starting cash:",
    "",
    returnsTable(result),
    "",
    "Costs and activity, means per window:",
    "",
    costsTable(result),
  ];
  if (result.pairs.length > 0) lines.push("", pairsTable(result.pairs));
  lines.push(...calibrationLines(result));
  lines.push(...memorizationLines(result));
  const notes = [
    "Entries best first (mean net return). mean: mean return per window; vs B&H: mean paired " +
    "excess over buy-and-hold; 95% CI: unadjusted intervals; p: sign-flip p-value of that " +
    "excess; p Holm: adjusted over every comparison shown (each entry vs buy-and-hold and each " +
    "pair), the one the verdict uses; vs random: the entry's percentile among its matched " +
    "random traders, averaged over windows (50% = what luck gives).",
    "net: mean return net of model cost; model: total model cost; fees: fees in percent of the " +
    "starting cash; edge/dec: the edge each decision needs, in percent of the starting cash, to " +
    "pay those fees (fees / decisions); max DD: from the running peak, starting cash included; " +
    "beat: windows won against buy-and-hold; turn: turnover (traded notional / starting cash); random: the random traders' mean return.",
    `Method: ${result.method}.`,
  ];
  lines.push("", ...notes.flatMap((note) => [...wrap(note), ""]));
  return lines.join("\n").trimEnd();
}

/** The result as the JSON document of `--json` and tournament.json. */
export function tournamentJson(result: TournamentResult): string {
  return JSON.stringify(result, null, 2);
}

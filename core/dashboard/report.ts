/** The run report: a self-contained HTML page (data and chart library inlined) and its JSON. */

import type { PortfolioView } from "../contracts/portfolio.ts";
import {
  anyCalls,
  binCells,
  type Calibration,
  calibrationOf,
  formatBrier,
} from "../metrics/calibration.ts";
import { breakEvenEdgePct, netReturnPct } from "../metrics/metrics.ts";
import { loadWebAssetsSync, type WebAssets } from "./assets.ts";
import type { DashboardState } from "./state.ts";
import type { TradeView } from "./view.ts";
import { buildWebView, type WebView } from "./web_view.ts";

/** One leaderboard row of the report. */
export interface ReportRow {
  /** 1-based rank by equity. */
  rank: number;
  /** Agent name. */
  agent: string;
  /** Model label. */
  model: string;
  /** Final equity (decimal string, USD). */
  equity: string;
  /** Total return in percent. */
  returnPct: string;
  /** Return net of the model cost in percent of the starting cash. */
  netReturnPct: string;
  /** Largest fall from a peak in percent (the starting cash counts as a peak). */
  maxDrawdownPct: string;
  /** Largest fall below the starting cash in percent. */
  maxDrawdownFromStartPct: string;
  /** Sharpe ratio of hourly returns, annualised; null when undefined. */
  sharpe: number | null;
  /** Winning share of closed round trips, null without round trips. */
  winRate: number | null;
  /** Fees paid (decimal string, USD). */
  feesPaid: string;
  /** Fees in percent of the starting cash. */
  feesPct: string;
  /** Decisions made. */
  decisions: number;
  /** Share of decisions with a valid answer in percent, null before the first decision. */
  validPct: number | null;
  /** Edge per decision that pays the fees, percent of the starting cash; null without any. */
  breakEvenEdgePct: number | null;
  /** Trades executed. */
  trades: number;
  /** Tokens used. */
  tokens: number;
  /** Estimated model cost in USD. */
  costUsd: number;
  /** Stated confidence scored against outcomes (core/metrics/calibration.ts). */
  calibration: Calibration;
}

/** The report's JSON document. */
export interface ReportJson {
  /** Report format version. */
  v: 1;
  /** Market time of the last event in the run. */
  marketTime: string | null;
  /** Last snapshot tick. */
  tick: number | null;
  /** Agents by equity, best first. */
  leaderboard: ReportRow[];
  /** Buy-and-hold benchmark, when prices allowed one. */
  benchmark: { returnPct: string; maxDrawdownPct: string; sharpe: number | null } | null;
  /** Final portfolio of every agent. */
  portfolios: PortfolioView[];
  /** Every trade, newest first. */
  trades: TradeView[];
}

/** A built report. */
export interface Report {
  /** The self-contained page. */
  html: string;
  /** The JSON document. */
  json: ReportJson;
  /** The full view embedded in the page (round trips and the reasoning feed included). */
  view: WebView;
}

/** Nothing may be fetched by the report: inline scripts and styles only. */
const REPORT_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/**
 * Builds the report of a finished run from its state. Deterministic; it only reads the static
 * web assets (once, cached) when they are not given.
 */
export function buildReport(
  state: DashboardState,
  assets: WebAssets = loadWebAssetsSync(),
): Report {
  const view = buildWebView(
    { ...state, status: "finished" },
    { tradeLimit: Infinity, activityLimit: 300, maxPoints: 3000, roundTripLimit: Infinity },
  );
  const json: ReportJson = {
    v: 1,
    marketTime: view.clock.time,
    tick: view.clock.tick,
    leaderboard: view.agents.map((agent) => ({
      rank: agent.rank,
      agent: agent.name,
      model: agent.model,
      equity: agent.portfolio.equity,
      returnPct: agent.returnPct,
      netReturnPct: netReturnPct(Number(agent.returnPct), {
        costUsd: agent.costUsd,
        startingCash: Number(agent.portfolio.startingCash),
      }).toFixed(4),
      maxDrawdownPct: agent.maxDrawdownPct,
      maxDrawdownFromStartPct: agent.maxDrawdownFromStartPct,
      sharpe: agent.sharpe,
      winRate: agent.winRate,
      feesPaid: agent.portfolio.feesPaid,
      feesPct: agent.feesPct,
      decisions: agent.decisions,
      validPct: agent.decisions === 0
        ? null
        : Math.round(1000 * agent.validDecisions / agent.decisions) / 10,
      breakEvenEdgePct: breakEvenEdgePct(Number(agent.portfolio.feesPaid), {
        decisions: agent.decisions,
        startingCash: Number(agent.portfolio.startingCash),
      }),
      trades: agent.tradeCount,
      tokens: agent.tokens,
      costUsd: agent.costUsd,
      calibration: calibrationOf(state.agents.get(agent.name)?.events ?? [], agent.name),
    })),
    benchmark: view.benchmark
      ? {
        returnPct: view.benchmark.returnPct,
        maxDrawdownPct: view.benchmark.maxDrawdownPct,
        sharpe: view.benchmark.sharpe,
      }
      : null,
    portfolios: view.agents.map((agent) => agent.portfolio),
    trades: view.trades,
  };
  return { html: reportHtml(view, { assets, rows: json.leaderboard }), json, view };
}

/**
 * The report's calibration section: per agent that stated a confidence, its Brier score and its
 * reliability table (calls, mean confidence and hit rate per confidence bin). Static HTML: the
 * page's script does not draw it.
 */
export function calibrationHtml(rows: readonly ReportRow[]): string {
  const stated = rows.filter((row) => row.calibration.calls + row.calibration.open > 0);
  const body = !anyCalls(rows.map((row) => row.calibration))
    ? '<p class="muted">No agent stated a confidence with its trades: nothing to score.</p>'
    : stated.map((row) => {
      const { calibration } = row;
      const cells = calibration.bins.map((bin) => {
        const [label, ...numbers] = binCells(bin);
        return `<tr><td class="left">${label}</td>${
          numbers.map((cell) => `<td>${cell}</td>`).join("")
        }</tr>`;
      }).join("");
      return `<div><h3>${escapeHtml(row.agent)}: Brier ${formatBrier(calibration.brier)}` +
        ` <span class="muted small">${calibration.calls} scored, ${calibration.open} open</span>` +
        `</h3><div class="table-wrap"><table class="calibration"><thead><tr>` +
        `<th class="left">Confidence</th><th>Calls</th><th>Mean confidence</th>` +
        `<th>Hit rate</th></tr></thead><tbody>${cells}</tbody></table></div></div>`;
    }).join("\n");
  const grid = "display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0 24px";
  return `<section class="panel wide" id="calibration">\n` +
    `<h2>Calibration <span class="muted small">stated confidence against outcomes: a call's ` +
    `position made money after fees (1) or not (0); Brier = mean (confidence - outcome)²; ` +
    `0 is perfect, always 0.5 scores 0.25</span></h2>\n<div style="${grid}">${body}</div>\n` +
    `</section>`;
}

function reportHtml(
  view: WebView,
  options: { assets: WebAssets; rows: readonly ReportRow[] },
): string {
  const { assets } = options;
  const replaceOnce = (html: string, needle: string, replacement: string): string => {
    const at = html.indexOf(needle);
    if (at < 0) throw new Error(`Report template must contain ${needle}`);
    return html.slice(0, at) + replacement + html.slice(at + needle.length);
  };
  let html = assets.indexHtml;
  html = replaceOnce(
    html,
    "<title>Daytrading Agents Arena</title>",
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">\n` +
      `    <title>Daytrading Agents Arena — report${
        view.clock.time ? ` ${escapeHtml(view.clock.time)}` : ""
      }</title>`,
  );
  html = replaceOnce(
    html,
    '<link rel="stylesheet" href="/styles.css">',
    `<style>\n${assets.stylesCss}\n</style>`,
  );
  html = replaceOnce(html, "</main>", `${calibrationHtml(options.rows)}\n    </main>`);
  html = replaceOnce(
    html,
    '<script src="/vendor/lightweight-charts.js"></script>',
    `<script>\n${inlineScript(assets.chartsJs)}\n</script>`,
  );
  html = replaceOnce(
    html,
    '<script src="/app.js"></script>',
    `<script id="report-data" type="application/json">${inlineScript(JSON.stringify(view))}` +
      `</script>\n    <script>\n${inlineScript(assets.appJs)}\n</script>`,
  );
  return html;
}

/** Makes text safe inside a script element (no early `</script>` or comment opener). */
function inlineScript(text: string): string {
  return text.replaceAll("</", "<\\/").replaceAll("<!--", "<\\!--");
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll('"', "&quot;");
}

/** Options for {@linkcode writeReport}. */
export interface WriteReportOptions {
  /** Directory for report.html and report.json (created when missing). */
  outDir: string;
}

/** Writes report.html and report.json; returns their paths. */
export async function writeReport(
  report: Report,
  options: WriteReportOptions,
): Promise<{ html: string; json: string }> {
  await Deno.mkdir(options.outDir, { recursive: true });
  const htmlPath = `${options.outDir.replace(/\/+$/, "")}/report.html`;
  const jsonPath = `${options.outDir.replace(/\/+$/, "")}/report.json`;
  await Deno.writeTextFile(htmlPath, report.html);
  await Deno.writeTextFile(jsonPath, JSON.stringify(report.json, null, 2) + "\n");
  return { html: htmlPath, json: jsonPath };
}

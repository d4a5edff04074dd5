/** The ledger export: every account, position, trade and metric rebuilt from ledger events. */

import type { LedgerEvent, TradeExecuted } from "../contracts/ledger.ts";
import type { PriceTick } from "../contracts/market.ts";
import type { PortfolioView } from "../contracts/portfolio.ts";
import {
  type AccountSnapshot,
  applyEvent,
  createLedgerState,
  snapshotAccount,
} from "../ledger/account.ts";
import { portfolioView, reconcile } from "../ledger/portfolio.ts";
import {
  type AgentMetrics,
  computeMetrics,
  markPointsFromTicks,
  type MetricsOptions,
} from "./metrics.ts";

/** One account in the export. */
export interface AccountReport {
  /** The account's state as exact decimal strings. */
  account: AccountSnapshot;
  /** The portfolio marked at the latest best bids. */
  portfolio: PortfolioView;
  /** Performance metrics (the equity curve only when asked for). */
  metrics: AgentMetrics;
  /** Reconciliation problems (empty when the books balance exactly). */
  problems: string[];
}

/** Everything `deno task ledger --json` prints. */
export interface LedgerReport {
  /** Latest market-clock time seen in prices or events. */
  marketTime: string | null;
  /** Events read, duplicates ignored, events that contradicted the state. */
  counts: { events: number; duplicates: number; corrupt: number; priceTicks: number };
  /** Latest price tick per product. */
  prices: PriceTick[];
  /** Accounts in order of first appearance. */
  accounts: AccountReport[];
  /** Every executed trade in ledger order. */
  trades: TradeExecuted[];
}

/** Builds the export from ledger events and price ticks (pure). */
export function buildLedgerReport(
  events: readonly LedgerEvent[],
  ticks: readonly PriceTick[],
  options: MetricsOptions & { includeCurves?: boolean } = {},
): LedgerReport {
  const state = createLedgerState();
  let corrupt = 0;
  const trades: TradeExecuted[] = [];
  for (const event of events) {
    try {
      if (applyEvent(state, event) === "applied" && event.type === "trade_executed") {
        trades.push(event);
      }
    } catch {
      corrupt++;
    }
  }
  const latest = new Map<string, PriceTick>();
  let marketMs = Number.NEGATIVE_INFINITY;
  for (const tick of ticks) {
    const held = latest.get(tick.productId);
    if (!held || Date.parse(held.time) <= Date.parse(tick.time)) latest.set(tick.productId, tick);
    marketMs = Math.max(marketMs, Date.parse(tick.time));
  }
  for (const event of events) marketMs = Math.max(marketMs, Date.parse(event.time));
  const marketTime = Number.isFinite(marketMs) ? new Date(marketMs).toISOString() : null;
  const marks = markPointsFromTicks(ticks);
  const accounts = [...state.accounts.values()].map((account) => {
    const metrics = computeMetrics(events, marks, { ...options, agent: account.agent });
    return {
      account: snapshotAccount(account),
      portfolio: portfolioView(account, {
        prices: latest,
        time: marketTime ?? account.openedAt,
      }),
      metrics: options.includeCurves ? metrics : { ...metrics, equityCurve: [] },
      problems: reconcile(account).problems,
    };
  });
  return {
    marketTime,
    counts: {
      events: state.applied,
      duplicates: state.duplicates,
      corrupt,
      priceTicks: ticks.length,
    },
    prices: [...latest.values()].sort((a, b) => a.productId.localeCompare(b.productId)),
    accounts,
    trades,
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))
      .join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join(
    "\n",
  );
}

function usd(value: string): string {
  const [whole, fraction = ""] = Number(value).toFixed(2).split(".");
  return `${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${fraction}`;
}

/** Renders the export as readable tables (accounts, positions, the latest trades). */
export function formatLedgerReport(
  report: LedgerReport,
  options: { trades?: number } = {},
): string {
  const parts: string[] = [];
  parts.push(
    `Ledger at ${
      report.marketTime ?? "(no data)"
    }: ${report.counts.events} events, ${report.counts.duplicates} duplicates ignored, ${report.counts.corrupt} corrupt, ${report.counts.priceTicks} price ticks`,
  );
  parts.push(
    "",
    table(
      [
        "agent",
        "equity",
        "cash",
        "return %",
        "realized",
        "fees",
        "trades",
        "max DD %",
        "DD start %",
        "sharpe 1h",
        "win rate",
        "B&H %",
        "exposure %",
      ],
      report.accounts.map(({ portfolio, metrics }) => [
        portfolio.agent,
        usd(portfolio.equity),
        usd(portfolio.cash),
        portfolio.totalReturnPct,
        usd(portfolio.realizedPnl),
        usd(portfolio.feesPaid),
        String(portfolio.tradeCount),
        Number(metrics.maxDrawdownPct).toFixed(2),
        Number(metrics.maxDrawdownFromStartPct).toFixed(2),
        metrics.sharpe === null ? "-" : metrics.sharpe.toFixed(2),
        metrics.winRate === null ? "-" : `${(metrics.winRate * 100).toFixed(0)}%`,
        Number(metrics.benchmarkReturnPct).toFixed(2),
        metrics.exposurePct,
      ]),
    ),
  );
  const positions = report.accounts.flatMap(({ portfolio }) =>
    portfolio.positions.map((position) => [
      portfolio.agent,
      position.productId,
      position.quantity,
      position.averageCost,
      position.price,
      usd(position.marketValue),
      usd(position.unrealizedPnl),
      position.unrealizedPnlPct,
      position.averageHoldMinutes.toFixed(1),
    ])
  );
  parts.push(
    "",
    positions.length === 0 ? "No open positions." : table(
      ["agent", "product", "quantity", "avg cost", "bid", "value", "unrealized", "%", "held min"],
      positions,
    ),
  );
  const limit = options.trades ?? 20;
  const shown = report.trades.slice(-limit);
  parts.push(
    "",
    shown.length === 0
      ? "No trades."
      : `Latest ${shown.length} of ${report.trades.length} trades:\n` + table(
        ["time", "agent", "side", "product", "quantity", "fill", "notional", "fee"],
        shown.map((trade) => [
          trade.time,
          trade.agent,
          trade.side,
          trade.productId,
          trade.quantity,
          trade.fillPrice,
          usd(trade.notional),
          usd(trade.fee),
        ]),
      ),
  );
  const problems = report.accounts.flatMap(({ portfolio, problems }) =>
    problems.map((problem) => `${portfolio.agent}: ${problem}`)
  );
  if (problems.length > 0) parts.push("", "RECONCILIATION PROBLEMS:", ...problems);
  return parts.join("\n");
}

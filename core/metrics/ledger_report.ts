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
import { Money, roundedString } from "../ledger/money.ts";
import { portfolioView, reconcile } from "../ledger/portfolio.ts";
import { groupThousands, textTable } from "../dashboard/format.ts";
import { scoringTakerFeeBps } from "./benchmark.ts";
import { type Calibration, calibrationOf, formatBrier } from "./calibration.ts";
import { markPointsFromTicks } from "./marks.ts";
import { type AgentMetrics, computeMetrics, type MetricsOptions } from "./metrics.ts";

/** One account in the export. */
export interface AccountReport {
  /** The account's state as exact decimal strings. */
  account: AccountSnapshot;
  /** The portfolio marked at the latest best bids. */
  portfolio: PortfolioView;
  /** Performance metrics (the equity curve only when asked for). */
  metrics: AgentMetrics;
  /** Stated confidence scored against outcomes (core/metrics/calibration.ts). */
  calibration: Calibration;
  /** Reconciliation problems (empty when the books balance exactly). */
  problems: string[];
}

/** Everything `deno task ledger --json` prints. */
export interface LedgerReport {
  /** Latest market-clock time seen in prices or events: every account is scored at it. */
  marketTime: string | null;
  /** Taker fee in bps the buy-and-hold comparison paid (the arena's, as its trades record). */
  takerFeeBps: number;
  /** Events read, duplicates ignored, events that contradicted the state. */
  counts: { events: number; duplicates: number; corrupt: number; priceTicks: number };
  /** Latest price tick per product. */
  prices: PriceTick[];
  /** Accounts in order of first appearance. */
  accounts: AccountReport[];
  /** Every executed trade in ledger order. */
  trades: TradeExecuted[];
}

/** Options for {@linkcode buildLedgerReport}. */
export interface LedgerReportOptions extends MetricsOptions {
  /** Include each agent's equity curve. */
  includeCurves?: boolean;
}

/**
 * Builds the export from ledger events and price ticks (pure). Every account is scored by
 * core/metrics at the same market time (the latest seen), against buy-and-hold paying the fee
 * `takerFeeBps` names, else the one the ledger's trades record (see `scoringTakerFeeBps`).
 */
export function buildLedgerReport(
  events: readonly LedgerEvent[],
  ticks: readonly PriceTick[],
  options: LedgerReportOptions = {},
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
  const takerFeeBps = scoringTakerFeeBps(events, options.takerFeeBps);
  const endMs = options.endMs ?? (Number.isFinite(marketMs) ? marketMs : undefined);
  const accounts = [...state.accounts.values()].map((account) => {
    const metrics = computeMetrics(events, marks, {
      ...options,
      agent: account.agent,
      takerFeeBps,
      endMs,
    });
    return {
      account: snapshotAccount(account),
      portfolio: portfolioView(account, {
        prices: latest,
        time: marketTime ?? account.openedAt,
      }),
      metrics: options.includeCurves ? metrics : { ...metrics, equityCurve: [] },
      calibration: calibrationOf(events, account.agent),
      problems: reconcile(account).problems,
    };
  });
  return {
    marketTime,
    takerFeeBps,
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

/** Left-aligned first column, the numbers right-aligned. */
function table(headers: string[], rows: string[][]): string {
  return textTable(headers, rows, { right: headers.map((_, index) => index).slice(1) });
}

/** Dollars with cents and thousands separators, no sign of the currency: `1,038.80`. */
function usd(value: string): string {
  return groupThousands(roundedString(new Money(value), 2));
}

/**
 * Renders the export as readable tables: accounts (with the Brier score of their stated confidence
 * and its scored calls), positions, the latest trades.
 */
export function formatLedgerReport(
  report: LedgerReport,
  options: { trades?: number } = {},
): string {
  const parts: string[] = [];
  parts.push(
    `Ledger at ${
      report.marketTime ?? "(no data)"
    }: ${report.counts.events} events, ${report.counts.duplicates} duplicates ignored, ${report.counts.corrupt} corrupt, ${report.counts.priceTicks} price ticks, B&H fee ${report.takerFeeBps} bps`,
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
        "brier",
        "calls",
      ],
      report.accounts.map(({ portfolio, metrics, calibration }) => [
        portfolio.agent,
        usd(metrics.finalEquity),
        usd(portfolio.cash),
        roundedString(new Money(metrics.totalReturnPct), 2),
        usd(portfolio.realizedPnl),
        usd(portfolio.feesPaid),
        String(portfolio.tradeCount),
        Number(metrics.maxDrawdownPct).toFixed(2),
        Number(metrics.maxDrawdownFromStartPct).toFixed(2),
        metrics.sharpe === null ? "-" : metrics.sharpe.toFixed(2),
        metrics.winRate === null ? "-" : `${(metrics.winRate * 100).toFixed(0)}%`,
        roundedString(new Money(metrics.benchmarkReturnPct), 2),
        metrics.exposurePct,
        formatBrier(calibration.brier),
        String(calibration.calls),
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

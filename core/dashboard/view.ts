/** The dashboard view: plain JSON derived from the state, shared by terminal, web and report. */

import { Decimal } from "decimal.js";
import type { TradeCause, TradeExecuted } from "../contracts/ledger.ts";
import type { PortfolioView } from "../contracts/portfolio.ts";
import type { PriceTick } from "../contracts/market.ts";
import { portfolioView } from "../ledger/portfolio.ts";
import { DEFAULT_STARTING_CASH } from "../ledger/trade.ts";
import { BENCHMARK_NAME, buyAndHoldLedger, scoringTakerFeeBps } from "../metrics/benchmark.ts";
import type { MarkPoint } from "../metrics/marks.ts";
import { type EquityChartPoint, RunningMetrics, type RunningResult } from "../metrics/running.ts";
import { clipText } from "./format.ts";
import {
  type AgentRecord,
  type DashboardState,
  type DashboardStatus,
  type InputCounts,
  type MarketClock,
  markOfPricePoint,
  marksOf,
  type ReasoningRecord,
  tradeLatencySeconds,
} from "./state.ts";

/** A point of a chart series: unix seconds and a display number (core/metrics' chart point). */
export type ChartPoint = EquityChartPoint;

/** One agent's row: portfolio, metrics, usage and equity curve. */
export interface AgentView {
  /** 1-based rank by equity. */
  rank: number;
  /** Agent name. */
  name: string;
  /** Model label from usage activity (`rules`, `gpt-5-nano`), or `-` when unknown. */
  model: string;
  /** The account marked at the latest prices. */
  portfolio: PortfolioView;
  /** Total return in percent (core/metrics, 4 decimals). */
  returnPct: string;
  /** Largest fall from a peak in percent (the starting cash counts as a peak). */
  maxDrawdownPct: string;
  /** Largest fall below the starting cash in percent. */
  maxDrawdownFromStartPct: string;
  /** Sharpe ratio of hourly returns, annualised; null when undefined. */
  sharpe: number | null;
  /** Fees in percent of the starting cash. */
  feesPct: string;
  /** Winning share of closed round trips (0..1), null without round trips. */
  winRate: number | null;
  /** Mean share of equity held in positions, percent. */
  exposurePct: string;
  /** Return over the buy-and-hold benchmark of the agent's window, percent. */
  excessReturnPct: string;
  /** Closed round trips. */
  roundTrips: number;
  /** Traded notional over starting cash. */
  turnover: string;
  /** Trades executed. */
  tradeCount: number;
  /** Prompt plus completion tokens. */
  tokens: number;
  /** Estimated model cost in USD. */
  costUsd: number;
  /** Decisions made. */
  decisions: number;
  /** Decisions that ended with a valid answer. */
  validDecisions: number;
  /** Errors reported. */
  errors: number;
  /** Equity over time up to the market clock, downsampled. */
  equityCurve: ChartPoint[];
  /** The agent's latest reasoning (text cut to the view's text limit), or null. */
  lastReasoning: ReasoningRecord | null;
}

/** The buy-and-hold benchmark row. */
export interface BenchmarkView {
  /** Row label. */
  name: string;
  /** Cash it starts with (the first agent's), for a return axis. */
  startingCash: string;
  /** Total return in percent. */
  returnPct: string;
  /** Largest fall from a peak in percent (the starting cash counts as a peak). */
  maxDrawdownPct: string;
  /** Sharpe ratio of hourly returns, annualised; null when undefined. */
  sharpe: number | null;
  /** Equity over time, downsampled. */
  equityCurve: ChartPoint[];
}

/** An exit the engine made: at the position's stop loss, take profit or liquidation price. */
export type ExitCause = Exclude<TradeCause, "agent">;

/** What a trade did, as traders say it: buy or sell a long, short or cover a short. */
export type TradeAction = "buy" | "sell" | "short" | "cover";

/** One fill drawn on a product's price chart. */
export interface FillView {
  /** Unix seconds. */
  time: number;
  /** Agent that traded. */
  agent: string;
  /** Buy or sell. */
  side: "buy" | "sell";
  /** Fill price (decimal string). */
  price: string;
  /** Quantity (decimal string). */
  quantity: string;
  /** The engine exit it was, absent for the agent's own trade. */
  cause?: ExitCause;
}

/** One product: latest quote, price history and every agent's fills. */
export interface ProductView {
  /** Product id. */
  productId: string;
  /** Latest price tick. */
  latest: PriceTick;
  /** Price history, downsampled. */
  history: ChartPoint[];
  /** Fills of every agent, oldest first. */
  fills: FillView[];
}

/** One trade in the log. */
export interface TradeView {
  /** Ledger event id. */
  eventId: string;
  /** ISO market time. */
  time: string;
  /** Agent. */
  agent: string;
  /** Buy or sell. */
  side: "buy" | "sell";
  /** What it did to a position: buy/sell a long, short/cover a short. */
  action: TradeAction;
  /** The engine exit it was, absent for the agent's own trade. */
  cause?: ExitCause;
  /** Leverage of an opening trade, present only above 1. */
  leverage?: number;
  /** Product id. */
  productId: string;
  /** Quantity. */
  quantity: string;
  /** Fill price. */
  fillPrice: string;
  /** Notional in USD. */
  notional: string;
  /** Fee in USD. */
  fee: string;
  /** Tick the trade was decided on, when the ledger event names it. */
  tick?: number;
  /** Seconds from that tick's snapshot to the fill (market clock), null when unknown. */
  latencySeconds: number | null;
}

/** One activity feed entry. */
export interface ActivityView {
  /** ISO market time. */
  time: string;
  /** Agent. */
  agent: string;
  /** Activity kind. */
  kind: string;
  /** Short text for display. */
  text: string;
  /** Tick the event belongs to. */
  tick?: number;
}

/** Everything shown on a dashboard, as plain JSON. */
export interface DashboardView {
  /** Reading status. */
  status: DashboardStatus;
  /** Market clock. */
  clock: MarketClock;
  /** Consumed message counts. */
  counts: InputCounts;
  /** Agents sorted by equity, best first. */
  agents: AgentView[];
  /** Buy-and-hold of the same products over the same window, when prices allow. */
  benchmark: BenchmarkView | null;
  /** Products sorted by id. */
  products: ProductView[];
  /** Trades, newest first. */
  trades: TradeView[];
  /** Activity feed, newest first. */
  activity: ActivityView[];
  /** Always false: metrics are exact at the market clock in every view (kept for readers). */
  metricsStale: boolean;
}

/** Options for {@linkcode buildDashboardView}. */
export interface DashboardViewOptions {
  /** Most points per chart series (default 2000). */
  maxPoints?: number;
  /** Most trades in the log (default 200; `Infinity` for all). */
  tradeLimit?: number;
  /** Most activity entries (default 200). */
  activityLimit?: number;
  /** Longest activity text in characters (default 600). */
  textLimit?: number;
  /** Include the products' price histories and fills (default true; the terminal needs none). */
  withProducts?: boolean;
  /**
   * Ignored, kept so older callers still compile: metrics are now kept current incrementally,
   * so every view is exact at the market clock.
   */
  metricsMaxAgeMs?: number;
}

/** Derives the view from the state; pure, with ledger maths from core/ledger and core/metrics. */
export function buildDashboardView(
  state: DashboardState,
  options: DashboardViewOptions = {},
): DashboardView {
  const maxPoints = options.maxPoints ?? 2000;
  const tradeLimit = options.tradeLimit ?? 200;
  const activityLimit = options.activityLimit ?? 200;
  const textLimit = options.textLimit ?? 600;
  const prices = new Map<string, PriceTick>();
  for (const product of state.products.values()) prices.set(product.productId, product.latest);
  const time = state.clock.time ?? new Date(0).toISOString();
  // Every row and the benchmark are measured at the same market time (the clock), against
  // buy-and-hold paying the same fee: the arena's.
  const endMs = Date.parse(time);
  const takerFeeBps = scoringTakerFeeBps(state.trades, state.takerFeeBps ?? undefined);

  const agents: AgentView[] = [];
  for (const agent of state.agents.values()) {
    const account = state.ledger.accounts.get(agent.name);
    if (!account) continue;
    const portfolio = portfolioView(account, { prices, time });
    const measured = measureAgent(state, agent, { endMs, takerFeeBps });
    const metrics = measured?.metrics;
    agents.push({
      rank: 0,
      name: agent.name,
      model: agent.usage.model ?? "-",
      portfolio,
      returnPct: metrics?.totalReturnPct ?? portfolio.totalReturnPct,
      maxDrawdownPct: metrics?.maxDrawdownPct ?? "0",
      maxDrawdownFromStartPct: metrics?.maxDrawdownFromStartPct ?? "0",
      sharpe: metrics?.sharpe ?? null,
      feesPct: metrics?.feesPct ?? "0",
      winRate: metrics?.winRate ?? null,
      exposurePct: metrics?.exposurePct ?? "0",
      excessReturnPct: metrics?.excessReturnPct ?? "0",
      roundTrips: metrics?.roundTrips ?? 0,
      turnover: metrics?.turnover ?? "0",
      tradeCount: account.tradeCount,
      tokens: agent.usage.promptTokens + agent.usage.completionTokens,
      costUsd: agent.usage.costUsd,
      decisions: agent.decisions,
      validDecisions: agent.validDecisions,
      errors: agent.errors,
      equityCurve: chartCurve(measured, maxPoints),
      lastReasoning: agent.lastReasoning && {
        ...agent.lastReasoning,
        text: clipText(agent.lastReasoning.text, textLimit),
      },
    });
  }
  agents.sort((a, b) =>
    new Decimal(b.portfolio.equity).comparedTo(a.portfolio.equity) || a.name.localeCompare(b.name)
  );
  agents.forEach((agent, index) => agent.rank = index + 1);

  const measuredBenchmark = measureBenchmark(state, { endMs, takerFeeBps });
  const benchmark: BenchmarkView | null = measuredBenchmark
    ? {
      name: BENCHMARK_NAME,
      startingCash: measuredBenchmark.metrics.startingCash,
      returnPct: measuredBenchmark.metrics.totalReturnPct,
      maxDrawdownPct: measuredBenchmark.metrics.maxDrawdownPct,
      sharpe: measuredBenchmark.metrics.sharpe,
      equityCurve: chartCurve(measuredBenchmark, maxPoints),
    }
    : null;

  const fillsByProduct = new Map<string, FillView[]>();
  const withProducts = options.withProducts ?? true;
  for (const trade of withProducts ? state.trades : []) {
    const fills = fillsByProduct.get(trade.productId) ?? [];
    const cause = exitCauseOf(trade);
    fills.push({
      time: Math.floor(Date.parse(trade.time) / 1000),
      agent: trade.agent,
      side: trade.side,
      price: trade.fillPrice,
      quantity: trade.quantity,
      ...(cause ? { cause } : {}),
    });
    fillsByProduct.set(trade.productId, fills);
  }
  const products: ProductView[] = [...withProducts ? state.products.values() : []].sort((a, b) =>
    a.productId.localeCompare(b.productId)
  ).map((product) => ({
    productId: product.productId,
    latest: product.latest,
    history: downsample(
      strictlyIncreasing(
        product.history.map((point) => ({ time: point.time, value: Number(point.price) })),
      ),
      maxPoints,
    ),
    fills: (fillsByProduct.get(product.productId) ?? []).sort((a, b) => a.time - b.time),
  }));

  const trades = newestFirst(state.trades, tradeLimit, (trade): TradeView => {
    const cause = exitCauseOf(trade);
    return {
      eventId: trade.eventId,
      time: trade.time,
      agent: trade.agent,
      side: trade.side,
      action: tradeAction(trade),
      ...(cause ? { cause } : {}),
      ...((trade.leverage ?? 1) > 1 ? { leverage: trade.leverage } : {}),
      productId: trade.productId,
      quantity: trade.quantity,
      fillPrice: trade.fillPrice,
      notional: trade.notional,
      fee: trade.fee,
      ...(trade.tick === undefined ? {} : { tick: trade.tick }),
      latencySeconds: tradeLatencySeconds(state, trade),
    };
  }).sort((a, b) => Date.parse(b.time) - Date.parse(a.time));

  const activity = newestFirst(state.activity, activityLimit, (event): ActivityView => ({
    time: event.time,
    agent: event.agent,
    kind: event.kind,
    text: clipText(activityText(event), textLimit),
    ...(event.tick === undefined ? {} : { tick: event.tick }),
  }));

  return {
    status: state.status,
    clock: { ...state.clock },
    counts: { ...state.counts },
    agents,
    benchmark,
    products,
    trades,
    activity,
    metricsStale: false,
  };
}

/** The engine exit a trade was, or undefined for the agent's own trade. */
export function exitCauseOf(trade: Pick<TradeExecuted, "cause">): ExitCause | undefined {
  return trade.cause === undefined || trade.cause === "agent" ? undefined : trade.cause;
}

/** What a trade did: a buy opens or adds to a long unless it covers a short, and so on. */
export function tradeAction(trade: Pick<TradeExecuted, "side" | "position">): TradeAction {
  if ((trade.position ?? "long") === "long") return trade.side;
  return trade.side === "sell" ? "short" : "cover";
}

/** How dashboards name the engine's exits. */
export const EXIT_LABELS: Readonly<Record<ExitCause, string>> = {
  stop_loss: "STOP",
  take_profit: "TARGET",
  liquidation: "LIQ",
};

/**
 * A trade's label: its action in capitals, then the exit that made it or its leverage above 1,
 * e.g. `BUY`, `SHORT 5x`, `COVER STOP`, `SELL LIQ`.
 */
export function tradeLabel(trade: Pick<TradeView, "action" | "cause" | "leverage">): string {
  const parts = [trade.action.toUpperCase()];
  if (trade.cause) parts.push(EXIT_LABELS[trade.cause]);
  if (trade.leverage !== undefined && trade.leverage > 1) parts.push(`${trade.leverage}x`);
  return parts.join(" ");
}

/** The last `limit` items of a list, newest (last) first, each mapped. */
function newestFirst<T, V>(items: readonly T[], limit: number, map: (item: T) => V): V[] {
  const out: V[] = [];
  for (let i = items.length - 1; i >= 0 && out.length < limit; i--) out.push(map(items[i]!));
  return out;
}

/** When and against which fee a view scores. */
interface ScoreAt {
  endMs: number;
  takerFeeBps: number;
}

/** An agent's metrics at `endMs`, replaying its inputs first when one arrived late. */
function measureAgent(
  state: DashboardState,
  agent: AgentRecord,
  at: ScoreAt,
): RunningResult | null {
  const running = agent.metrics;
  if (!running || !state.ledger.accounts.has(agent.name)) return null;
  if (running.stale) running.rebuild(agent.events, marksOf(state));
  return running.read(at.endMs, { takerFeeBps: at.takerFeeBps });
}

/**
 * The buy-and-hold benchmark at `endMs`: an account opened with the first agent's cash at the
 * earliest opening, buying each product at its first mark from then on. Its running metrics are
 * rebuilt only when those inputs change (a new product, an earlier opening, the fee).
 */
function measureBenchmark(state: DashboardState, at: ScoreAt): RunningResult | null {
  let startMs = Infinity;
  let startingCash: string | undefined;
  for (const agent of state.agents.values()) {
    if (!state.ledger.accounts.has(agent.name)) continue;
    if (agent.opened) {
      startMs = Math.min(startMs, Date.parse(agent.opened.time));
      startingCash ??= agent.opened.cash;
    }
  }
  if (!Number.isFinite(startMs)) startMs = firstMarkMs(state);
  if (!Number.isFinite(startMs)) return null;
  const fee = at.takerFeeBps;
  const cash = startingCash ?? DEFAULT_STARTING_CASH;
  const firsts = firstMarksFrom(state, startMs);
  const key = `${startMs}|${cash}|${fee}|${
    firsts.map((mark) => `${mark.productId}@${mark.timeMs}=${mark.price}`).join(",")
  }`;
  const record = state.benchmark;
  if (record.key !== key) {
    const events = buyAndHoldLedger(firsts, { startMs, startingCash: cash, takerFeeBps: fee });
    record.key = key;
    record.metrics = null;
    if (events.length > 0) {
      record.metrics = new RunningMetrics({ agent: BENCHMARK_NAME });
      record.metrics.rebuild(events, marksOf(state));
    }
  }
  const running = record.metrics;
  if (!running) return null;
  if (running.stale) {
    const events = buyAndHoldLedger(firsts, { startMs, startingCash: cash, takerFeeBps: fee });
    running.rebuild(events, marksOf(state));
  }
  return running.read(at.endMs, { takerFeeBps: fee });
}

function firstMarkMs(state: DashboardState): number {
  let first = Infinity;
  for (const product of state.products.values()) {
    const point = product.history[0];
    if (point) first = Math.min(first, point.time * 1000);
  }
  return first;
}

/** Each product's first positive mark at or after `startMs` (binary search per product). */
function firstMarksFrom(state: DashboardState, startMs: number): MarkPoint[] {
  const marks: MarkPoint[] = [];
  for (const product of state.products.values()) {
    const history = product.history;
    let low = 0;
    let high = history.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (history[mid]!.time * 1000 < startMs) low = mid + 1;
      else high = mid;
    }
    while (low < history.length && !(Number(history[low]!.bestBid) > 0)) low++;
    const point = history[low];
    if (point) marks.push(markOfPricePoint(product.productId, point));
  }
  return marks;
}

function chartCurve(measured: RunningResult | null | undefined, maxPoints: number): ChartPoint[] {
  if (!measured) return [];
  return downsample(strictlyIncreasing(measured.chart), maxPoints);
}

/** Keeps the last point of each second: charts need strictly increasing times. */
function strictlyIncreasing(points: ChartPoint[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const point of points) {
    if (out.length && out[out.length - 1]!.time >= point.time) out[out.length - 1] = point;
    else out.push(point);
  }
  return out;
}

function activityText(event: DashboardState["activity"][number]): string {
  switch (event.kind) {
    case "reasoning":
      return event.text;
    case "tool_call":
      return `${event.tool}(${event.arguments})`;
    case "tool_result":
      return `${event.tool} ${event.ok ? "ok" : "refused"}: ${event.content}`;
    case "error":
      return event.message;
    case "decision":
      return `${event.outcome} after ${event.steps} step(s)` +
        (event.skippedTicks ? `, ${event.skippedTicks} tick(s) skipped` : "");
    case "usage":
      return `${event.model}: ${event.promptTokens}+${event.completionTokens} tokens`;
  }
}

/** Keeps at most `maxPoints` points: the last point of each equal-width time bucket. */
export function downsample(points: ChartPoint[], maxPoints: number): ChartPoint[] {
  if (points.length <= maxPoints) return points;
  const first = points[0]!.time;
  const span = points[points.length - 1]!.time - first + 1;
  const bucketSeconds = Math.ceil(span / maxPoints);
  const out: ChartPoint[] = [];
  for (const point of points) {
    const bucket = Math.floor((point.time - first) / bucketSeconds);
    const lastBucket = out.length
      ? Math.floor((out[out.length - 1]!.time - first) / bucketSeconds)
      : -1;
    if (bucket === lastBucket) out[out.length - 1] = point;
    else out.push(point);
  }
  return out;
}

/** The dashboard view: plain JSON derived from the state, shared by terminal, web and report. */

import { Decimal } from "decimal.js";
import type { PortfolioView } from "../contracts/portfolio.ts";
import type { PriceTick } from "../contracts/market.ts";
import { buyAndHoldOf, performanceOf, portfolioOf } from "./_ledger.ts";
import type { DashboardState, DashboardStatus, InputCounts, MarketClock } from "./state.ts";

/** A point of a chart series: unix seconds and a display number. */
export interface ChartPoint {
  /** Unix seconds on the market clock. */
  time: number;
  /** Value for display only (money stays exact in the decimal strings). */
  value: number;
}

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
  /** Total return in percent. */
  returnPct: string;
  /** Largest fall from a peak in percent. */
  maxDrawdownPct: string;
  /** Annualised Sharpe ratio, null when undefined. */
  sharpe: number | null;
  /** Winning share of closed round trips (0..1), null without round trips. */
  winRate: number | null;
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
  /** Errors reported. */
  errors: number;
  /** Equity over time, downsampled. */
  equityCurve: ChartPoint[];
}

/** The buy-and-hold benchmark row. */
export interface BenchmarkView {
  /** Row label. */
  name: string;
  /** Total return in percent. */
  returnPct: string;
  /** Largest fall from a peak in percent. */
  maxDrawdownPct: string;
  /** Annualised Sharpe ratio, null when undefined. */
  sharpe: number | null;
  /** Equity over time, downsampled. */
  equityCurve: ChartPoint[];
}

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
  /** Products in order of first appearance. */
  products: ProductView[];
  /** Trades, newest first. */
  trades: TradeView[];
  /** Activity feed, newest first. */
  activity: ActivityView[];
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
  const history = new Map<string, { time: number; price: string }[]>();
  for (const product of state.products.values()) {
    prices.set(product.productId, product.latest);
    history.set(product.productId, product.history);
  }
  const time = state.clock.time ?? new Date(0).toISOString();

  const agents: AgentView[] = [...state.agents.values()]
    .filter((agent) => agent.opened !== null || agent.trades.length > 0)
    .map((agent) => {
      const portfolio = portfolioOf(agent, { prices, time });
      const performance = performanceOf(agent, { history });
      return {
        rank: 0,
        name: agent.name,
        model: agent.usage.model ?? "-",
        portfolio,
        returnPct: portfolio.totalReturnPct,
        maxDrawdownPct: performance.maxDrawdownPct,
        sharpe: performance.sharpe,
        winRate: performance.winRate,
        roundTrips: performance.roundTrips,
        turnover: performance.turnover,
        tradeCount: agent.trades.length,
        tokens: agent.usage.promptTokens + agent.usage.completionTokens,
        costUsd: agent.usage.costUsd,
        decisions: agent.decisions,
        errors: agent.errors,
        equityCurve: downsample(
          performance.equityCurve.map((point) => ({
            time: point.time,
            value: Number(point.equity),
          })),
          maxPoints,
        ),
      };
    });
  agents.sort((a, b) =>
    new Decimal(b.portfolio.equity).comparedTo(a.portfolio.equity) || a.name.localeCompare(b.name)
  );
  agents.forEach((agent, index) => agent.rank = index + 1);

  const startingCash = agents[0]?.portfolio.startingCash ?? "100000";
  const benchmarkFigures = buyAndHoldOf({ history, startingCash });
  const benchmark: BenchmarkView | null = benchmarkFigures
    ? {
      name: "buy-and-hold",
      returnPct: benchmarkFigures.totalReturnPct,
      maxDrawdownPct: benchmarkFigures.maxDrawdownPct,
      sharpe: benchmarkFigures.sharpe,
      equityCurve: downsample(
        benchmarkFigures.equityCurve.map((p) => ({ time: p.time, value: Number(p.equity) })),
        maxPoints,
      ),
    }
    : null;

  const fillsByProduct = new Map<string, FillView[]>();
  for (const trade of state.trades) {
    const fills = fillsByProduct.get(trade.productId) ?? [];
    fills.push({
      time: Math.floor(Date.parse(trade.time) / 1000),
      agent: trade.agent,
      side: trade.side,
      price: trade.fillPrice,
      quantity: trade.quantity,
    });
    fillsByProduct.set(trade.productId, fills);
  }
  const products: ProductView[] = [...state.products.values()].map((product) => ({
    productId: product.productId,
    latest: product.latest,
    history: downsample(
      product.history.map((point) => ({ time: point.time, value: Number(point.price) })),
      maxPoints,
    ),
    fills: (fillsByProduct.get(product.productId) ?? []).sort((a, b) => a.time - b.time),
  }));

  const trades: TradeView[] = [];
  for (let i = state.trades.length - 1; i >= 0 && trades.length < tradeLimit; i--) {
    const trade = state.trades[i]!;
    trades.push({
      eventId: trade.eventId,
      time: trade.time,
      agent: trade.agent,
      side: trade.side,
      productId: trade.productId,
      quantity: trade.quantity,
      fillPrice: trade.fillPrice,
      notional: trade.notional,
      fee: trade.fee,
    });
  }
  trades.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));

  const activity: ActivityView[] = [];
  for (let i = state.activity.length - 1; i >= 0 && activity.length < activityLimit; i--) {
    const event = state.activity[i]!;
    activity.push({
      time: event.time,
      agent: event.agent,
      kind: event.kind,
      text: truncate(activityText(event), textLimit),
      ...(event.tick === undefined ? {} : { tick: event.tick }),
    });
  }

  return {
    status: state.status,
    clock: { ...state.clock },
    counts: { ...state.counts },
    agents,
    benchmark,
    products,
    trades,
    activity,
  };
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

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
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

/** The web page's view: the dashboard view plus completed round trips and a readable feed. */

import type { PositionSide, TradeCause, TradeExecuted } from "../contracts/ledger.ts";
import { Money, moneyString, roundedString } from "../ledger/money.ts";
import { roundTrips } from "../metrics/metrics.ts";
import type { AgentRecord, DashboardState } from "./state.ts";
import {
  buildDashboardView,
  type DashboardView,
  type DashboardViewOptions,
  EXIT_LABELS,
  type ExitCause,
  exitCauseOf,
  tradeAction,
} from "./view.ts";
import { clipText as clip, formatPrice, formatQuantity, formatUsd } from "./format.ts";

/** One completed round trip: a trade closing (part of) a position at its average entry. */
export interface RoundTripView {
  /** Event id of the closing trade (unique). */
  eventId: string;
  /** Agent. */
  agent: string;
  /** Product id. */
  productId: string;
  /** The position closed: long (bought, then sold) or short (sold, then bought back). */
  side: PositionSide;
  /** Who closed it: the agent, or the engine at a stop loss, take profit or liquidation. */
  cause: TradeCause;
  /** Quantity closed (decimal string). */
  quantity: string;
  /** Average entry price per unit of the quantity closed (8 decimals, display only). */
  entryPrice: string;
  /** Exit price per unit (8 decimals, display only). */
  exitPrice: string;
  /** Closing fee plus the pro-rata entry fees, USD. */
  fees: string;
  /** Realized P&L after fees, USD (exact; the win rate counts it). */
  pnl: string;
  /** P&L in percent of the cost, 2 decimals. */
  pnlPct: string;
  /** ISO time the position was (on average) opened. */
  openedAt: string;
  /** ISO time of the close. */
  closedAt: string;
  /** Holding time in minutes (market clock). */
  holdMinutes: number;
}

/** One line of the reasoning feed. */
export interface FeedItem {
  /** Stable key of the line. */
  id: string;
  /** ISO market time. */
  time: string;
  /** Agent. */
  agent: string;
  /** Tick the line belongs to. */
  tick?: number;
  /** What the line is; `exit` is the engine closing a position (a ledger trade, no tool call). */
  kind: "reasoning" | "tool_call" | "tool_result" | "error" | "decision" | "exit";
  /** Reasoning text, or a one-line summary of a tool call and its result or of an exit. */
  text: string;
  /** The exit an `exit` line is: stop loss, take profit or liquidation. */
  cause?: ExitCause;
  /** Tool name of a call. */
  tool?: string;
  /** Where a call came from: native tool calls, calls written as text, or a JSON decision. */
  source?: "native" | "text" | "json";
  /** A call's state: answered, refused, or still running. */
  status?: "ok" | "refused" | "pending";
  /** The call's arguments and result as compact JSON (at most 2000 characters), on demand. */
  raw?: string;
}

/** Everything the web page shows (a superset of {@linkcode DashboardView}). */
export interface WebView extends DashboardView {
  /** Completed round trips, newest first. */
  roundTrips: RoundTripView[];
  /** Reasoning feed, newest first. */
  feed: FeedItem[];
}

/** Options for {@linkcode buildWebView}. */
export interface WebViewOptions extends DashboardViewOptions {
  /** Most round trips (default 200). */
  roundTripLimit?: number;
  /** Most feed lines (default 200). */
  feedLimit?: number;
  /** Longest reasoning text in characters (default 2000). */
  reasoningLimit?: number;
}

/** Builds the web view: the dashboard view, round trips from core/metrics, and the feed. */
export function buildWebView(state: DashboardState, options: WebViewOptions = {}): WebView {
  const view = buildDashboardView(state, options);
  return {
    ...view,
    roundTrips: buildRoundTrips(state, options.roundTripLimit ?? 200),
    feed: buildFeed(state, {
      limit: options.feedLimit ?? 200,
      reasoningLimit: options.reasoningLimit ?? 2000,
    }),
  };
}

/** Round trips per agent, cached until the agent's ledger events change. */
const tripsCache = new WeakMap<AgentRecord, { events: number; trips: RoundTripView[] }>();

function agentTrips(agent: AgentRecord): RoundTripView[] {
  const cached = tripsCache.get(agent);
  if (cached?.events === agent.events.length) return cached.trips;
  const trips = roundTrips(agent.events).trips.map((trip): RoundTripView => ({
    eventId: trip.eventId,
    agent: trip.agent,
    productId: trip.productId,
    side: trip.side,
    cause: trip.cause,
    quantity: moneyString(trip.quantity),
    entryPrice: roundedString(trip.cost.div(trip.quantity), 8),
    exitPrice: roundedString(trip.proceeds.div(trip.quantity), 8),
    fees: moneyString(trip.fees),
    pnl: moneyString(trip.pnl),
    pnlPct: trip.cost.isZero() ? "0.00" : roundedString(trip.pnl.div(trip.cost).times(100), 2),
    openedAt: new Date(trip.openedMs).toISOString(),
    closedAt: new Date(trip.closedMs).toISOString(),
    holdMinutes: Math.max(0, Math.round((trip.closedMs - trip.openedMs) / 600) / 100),
  }));
  tripsCache.set(agent, { events: agent.events.length, trips });
  return trips;
}

function buildRoundTrips(state: DashboardState, limit: number): RoundTripView[] {
  const all: RoundTripView[] = [];
  for (const agent of state.agents.values()) all.push(...agentTrips(agent));
  all.sort((a, b) =>
    Date.parse(b.closedAt) - Date.parse(a.closedAt) || b.eventId.localeCompare(a.eventId)
  );
  return all.slice(0, limit);
}

type Activity = DashboardState["activity"][number];
type ToolResult = Extract<Activity, { kind: "tool_result" }>;

function buildFeed(
  state: DashboardState,
  options: { limit: number; reasoningLimit: number },
): FeedItem[] {
  const results = new Map<string, ToolResult>();
  const calls = new Set<string>();
  for (const event of state.activity) {
    if (event.kind === "tool_result") results.set(`${event.agent}/${event.toolCallId}`, event);
    if (event.kind === "tool_call") calls.add(`${event.agent}/${event.toolCallId}`);
  }
  const seen = new Map<string, number>();
  const items: FeedItem[] = [];
  for (const event of state.activity) {
    if (event.kind === "usage") continue;
    // A result is shown on its call's line; only an orphan result gets a line of its own.
    if (event.kind === "tool_result" && calls.has(`${event.agent}/${event.toolCallId}`)) continue;
    const base = `${event.agent}/${event.time}/${event.kind}`;
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    const common = {
      id: event.kind === "tool_call" ? `${event.agent}/${event.toolCallId}` : `${base}/${count}`,
      time: event.time,
      agent: event.agent,
      ...(event.tick === undefined ? {} : { tick: event.tick }),
    };
    switch (event.kind) {
      case "reasoning":
        items.push({
          ...common,
          kind: "reasoning",
          text: clip(event.text.trim(), options.reasoningLimit),
        });
        break;
      case "tool_call": {
        const result = results.get(`${event.agent}/${event.toolCallId}`);
        items.push({
          ...common,
          kind: "tool_call",
          tool: event.tool,
          text: summarizeToolCall(event.tool, event.arguments, result),
          ...(event.source ? { source: event.source } : {}),
          status: result ? (result.ok ? "ok" : "refused") : "pending",
          raw: rawJson(event.arguments, result),
        });
        break;
      }
      case "tool_result":
        items.push({
          ...common,
          kind: "tool_result",
          tool: event.tool,
          text: `${event.tool} ${event.ok ? "answered" : "refused"}: ${
            clip(oneLine(event.content), 160)
          }`,
          status: event.ok ? "ok" : "refused",
          raw: rawJson("", event),
        });
        break;
      case "error":
        items.push({ ...common, kind: "error", text: clip(event.message, 600) });
        break;
      case "decision":
        items.push({
          ...common,
          kind: "decision",
          text:
            `${event.outcome.replace("_", " ")} after ${event.steps} step${
              event.steps === 1 ? "" : "s"
            }` + (event.skippedTicks ? `, ${event.skippedTicks} tick(s) skipped` : ""),
        });
        break;
    }
  }
  return mergeByTime(items, exitLines(state)).slice(-options.limit).reverse();
}

/** A feed line for every engine exit on the ledger (they have no tool call to show them). */
function exitLines(state: DashboardState): FeedItem[] {
  const lines: FeedItem[] = [];
  for (const trade of state.trades) {
    const cause = exitCauseOf(trade);
    if (!cause) continue;
    lines.push({
      id: `exit/${trade.eventId}`,
      time: trade.time,
      agent: trade.agent,
      ...(trade.tick === undefined ? {} : { tick: trade.tick }),
      kind: "exit",
      cause,
      text: exitText(trade, cause),
    });
  }
  return lines;
}

/** One line such as `STOP: sold 2 BTC-USD at 4,100.00, long closed, fee $4.92`. */
function exitText(trade: TradeExecuted, cause: ExitCause): string {
  const verb = tradeAction(trade) === "cover" ? "bought back" : "sold";
  const side = trade.position ?? "long";
  const badDebt = trade.badDebt ? `, bad debt ${formatUsd(trade.badDebt)}` : "";
  return `${EXIT_LABELS[cause]}: ${verb} ${formatQuantity(trade.quantity)} ${trade.productId} at ${
    formatPrice(trade.fillPrice)
  }, ${side} closed, fee ${formatUsd(trade.fee)}${badDebt}`;
}

/** Two lists in time order merged into one, each keeping its own order (activity first on ties). */
function mergeByTime(first: FeedItem[], second: FeedItem[]): FeedItem[] {
  if (second.length === 0) return first;
  const out: FeedItem[] = [];
  let j = 0;
  for (const item of first) {
    const timeMs = Date.parse(item.time);
    while (j < second.length && Date.parse(second[j]!.time) < timeMs) out.push(second[j++]!);
    out.push(item);
  }
  return out.concat(second.slice(j));
}

/** One line such as `buy 0.5 BTC-USD -> filled at 4,612.35`. */
export function summarizeToolCall(
  tool: string,
  argumentsJson: string,
  result?: { ok: boolean; content: string },
): string {
  const args = parseObject(argumentsJson);
  let call: string;
  if (tool === "execute_trade" && args) {
    const action = String(args.action ?? "?").trim().toLowerCase();
    call = `${action} ${quantityText(args.quantity)} ${String(args.product_id ?? "?")}` +
      marginTerms(args);
  } else if (tool === "calculator" && args && typeof args.expression === "string") {
    call = `calculate ${clip(args.expression, 80)}`;
  } else if (tool === "get_portfolio") {
    call = "view portfolio";
  } else {
    call = `${tool}(${clip(oneLine(argumentsJson), 80)})`;
  }
  if (!result) return `${call} -> …`;
  return `${call} -> ${resultText(tool, result)}`;
}

/** The margin terms of an `execute_trade` call: ` 5x stop 4,400.00 target 3,900.00`. */
function marginTerms(args: Record<string, unknown>): string {
  const leverage = Number(args.leverage);
  return (Number.isFinite(leverage) && leverage > 1 ? ` ${leverage}x` : "") +
    (args.stop_loss === undefined ? "" : ` stop ${priceText(args.stop_loss)}`) +
    (args.take_profit === undefined ? "" : ` target ${priceText(args.take_profit)}`);
}

function resultText(tool: string, result: { ok: boolean; content: string }): string {
  if (!result.ok) return `refused: ${clip(oneLine(result.content), 160)}`;
  const content = parseObject(result.content);
  if (tool === "execute_trade" && content?.status === "executed") {
    const fee = content.fee === undefined ? "" : `, fee ${moneyText(content.fee)}`;
    return `filled at ${priceText(content.fill_price)}${fee}`;
  }
  if (tool === "get_portfolio" && content && content.equity !== undefined) {
    return `equity ${moneyText(content.equity)}, cash ${moneyText(content.cash)}`;
  }
  return clip(oneLine(result.content), 160);
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function isDecimal(value: unknown): value is string | number {
  if (typeof value !== "string" && typeof value !== "number") return false;
  try {
    return new Money(value).isFinite();
  } catch {
    return false;
  }
}

function quantityText(value: unknown): string {
  return isDecimal(value) ? formatQuantity(String(value)) : String(value ?? "?");
}

function priceText(value: unknown): string {
  return isDecimal(value) ? formatPrice(String(value)) : String(value ?? "?");
}

function moneyText(value: unknown): string {
  return isDecimal(value) ? formatUsd(String(value)) : String(value ?? "?");
}

function rawJson(argumentsJson: string, result: ToolResult | undefined): string {
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  const raw: Record<string, unknown> = {};
  if (argumentsJson) raw.arguments = parse(argumentsJson);
  if (result) raw.result = { ok: result.ok, content: parse(result.content) };
  return clip(JSON.stringify(raw), 2000);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Dashboard state: everything a read-only dashboard knows, built from the arena's topics. */

import type { ActivityEvent } from "../contracts/activity.ts";
import type { AccountOpened, LedgerEvent, TradeExecuted } from "../contracts/ledger.ts";
import type { MarketSnapshot, PriceTick } from "../contracts/market.ts";
import { applyEvent, createLedgerState, type LedgerState } from "../ledger/account.ts";
import { type MarkPoint, markPointOf, markQuoteOf } from "../metrics/marks.ts";
import { RunningMetrics } from "../metrics/running.ts";

/** Where the dashboard is in reading its topics. */
export type DashboardStatus = "connecting" | "catching_up" | "live" | "finished";

/** One price point of a product on the market clock (`time` in unix seconds). */
export interface PricePoint {
  /** Unix seconds on the market clock. */
  time: number;
  /** Last traded price as an exact decimal string. */
  price: string;
  /** Best bid: the mark price of longs. */
  bestBid: string;
  /** Best ask: the mark price of shorts. */
  bestAsk: string;
}

/** Everything the dashboard keeps about one product. */
export interface ProductRecord {
  /** Product id such as `BTC-USD`. */
  productId: string;
  /** Latest tick by market time. */
  latest: PriceTick;
  /** One point per market second, oldest first. */
  history: PricePoint[];
}

/** Token usage and model of one agent, summed over its `usage` activity. */
export interface AgentUsage {
  /** Model label of the latest usage event, e.g. `rules` or `gpt-5-nano`. */
  model: string | null;
  /** Model calls counted. */
  calls: number;
  /** Prompt tokens summed. */
  promptTokens: number;
  /** Completion tokens summed. */
  completionTokens: number;
  /** Estimated model cost in USD summed. */
  costUsd: number;
}

/** The latest reasoning text of an agent. */
export interface ReasoningRecord {
  /** Market time of the tick it belongs to (ISO). */
  time: string;
  /** Tick number, when known. */
  tick?: number;
  /** The reasoning text. */
  text: string;
}

/** Everything the dashboard keeps about one agent. */
export interface AgentRecord {
  /** Agent name (ledger key). */
  name: string;
  /** The account opening, once seen. */
  opened: AccountOpened | null;
  /** This agent's applied ledger events in ledger order (duplicates and rejects removed). */
  events: LedgerEvent[];
  /** This agent's trades in ledger order. */
  trades: TradeExecuted[];
  /** Model and token usage. */
  usage: AgentUsage;
  /** Decisions seen (one per tick the agent answered). */
  decisions: number;
  /** Decisions that ended with a valid answer (not invalid, timed out, failed or cut short). */
  validDecisions: number;
  /** Error activity events seen. */
  errors: number;
  /** Market time of the agent's latest activity, if any. */
  lastActivityTime: string | null;
  /** The agent's latest reasoning, if any. */
  lastReasoning: ReasoningRecord | null;
  /** Metrics kept current as events and prices arrive (from the account opening on). */
  metrics: RunningMetrics | null;
}

/** The buy-and-hold benchmark's running metrics and the inputs they were built from. */
export interface BenchmarkRecord {
  /** Start, cash, fee and first marks the benchmark's ledger was built from. */
  key: string | null;
  /** Its running metrics, fed every price tick. */
  metrics: RunningMetrics | null;
}

/** The market clock as the dashboard last saw it. */
export interface MarketClock {
  /** ISO time of the latest snapshot or price tick on the market clock. */
  time: string | null;
  /** Latest snapshot tick number. */
  tick: number | null;
  /** Snapshot source, when a snapshot was seen. */
  source: "live" | "replay" | null;
}

/** Counts of consumed messages per input kind. */
export interface InputCounts {
  /** Ledger events applied (duplicates excluded). */
  ledger: number;
  /** Price ticks applied. */
  prices: number;
  /** Activity events applied. */
  activity: number;
  /** Market snapshots applied. */
  snapshots: number;
  /** Duplicate ledger events ignored. */
  duplicates: number;
  /** Ledger events refused because they contradict the account. */
  rejected: number;
}

/** The whole dashboard state; updated only through {@linkcode applyDashboardInput}. */
export interface DashboardState {
  /** Reading status. */
  status: DashboardStatus;
  /** Market clock. */
  clock: MarketClock;
  /** Agents by name, in order of first appearance. */
  agents: Map<string, AgentRecord>;
  /** Products by id, in order of first appearance. */
  products: Map<string, ProductRecord>;
  /** Every trade of every agent in ledger arrival order. */
  trades: TradeExecuted[];
  /** Latest activity events (not usage), oldest first, at most `activityLimit`. */
  activity: ActivityEvent[];
  /** How many activity events are kept. */
  activityLimit: number;
  /** Every account, rebuilt with core/ledger (which also drops redelivered events). */
  ledger: LedgerState;
  /** Ledger events the ledger refused (corrupt history), newest last, at most 20. */
  rejected: { eventId: string; reason: string }[];
  /** Consumed message counts. */
  counts: InputCounts;
  /** Market time (ISO) of each tick's snapshot, for the snapshot-to-fill latency of trades. */
  tickTimes: Map<number, string>;
  /** The benchmark's running metrics (shared by shallow copies of the state). */
  benchmark: BenchmarkRecord;
  /** The arena's taker fee in bps when the dashboard was told it (scores compare with it). */
  takerFeeBps: number | null;
}

/** One input of the dashboard reducer, tagged by the topic it came from. */
export type DashboardInput =
  | { kind: "ledger"; event: LedgerEvent }
  | { kind: "price"; tick: PriceTick }
  | { kind: "activity"; event: ActivityEvent }
  | { kind: "snapshot"; snapshot: Pick<MarketSnapshot, "tick" | "time" | "source"> }
  | { kind: "status"; status: DashboardStatus };

/** Options for {@linkcode createDashboardState}. */
export interface DashboardStateOptions {
  /** Activity events kept for the feed (default 500). */
  activityLimit?: number;
  /**
   * The arena's taker fee in bps, paid by the buy-and-hold comparison; default the fee the
   * ledger's trades record (see core/metrics/benchmark.ts `scoringTakerFeeBps`).
   */
  takerFeeBps?: number;
}

/** Creates an empty dashboard state. */
export function createDashboardState(options: DashboardStateOptions = {}): DashboardState {
  return {
    status: "connecting",
    clock: { time: null, tick: null, source: null },
    agents: new Map(),
    products: new Map(),
    trades: [],
    activity: [],
    activityLimit: options.activityLimit ?? 500,
    ledger: createLedgerState(),
    rejected: [],
    counts: { ledger: 0, prices: 0, activity: 0, snapshots: 0, duplicates: 0, rejected: 0 },
    tickTimes: new Map(),
    benchmark: { key: null, metrics: null },
    takerFeeBps: options.takerFeeBps ?? null,
  };
}

/** Applies one input to the state in place; deterministic and free of I/O. */
export function applyDashboardInput(state: DashboardState, input: DashboardInput): void {
  switch (input.kind) {
    case "ledger":
      applyLedgerEvent(state, input.event);
      return;
    case "price":
      applyPriceTick(state, input.tick);
      return;
    case "activity":
      applyActivity(state, input.event);
      return;
    case "snapshot":
      state.counts.snapshots++;
      state.tickTimes.set(input.snapshot.tick, input.snapshot.time);
      advanceClock(state, input.snapshot.time);
      if (state.clock.tick === null || input.snapshot.tick >= state.clock.tick) {
        state.clock.tick = input.snapshot.tick;
      }
      state.clock.source = input.snapshot.source;
      return;
    case "status":
      state.status = input.status;
      return;
  }
}

/** Applies many inputs in order. */
export function applyDashboardInputs(state: DashboardState, inputs: DashboardInput[]): void {
  for (const input of inputs) applyDashboardInput(state, input);
}

function agentRecord(state: DashboardState, name: string): AgentRecord {
  let agent = state.agents.get(name);
  if (!agent) {
    agent = {
      name,
      opened: null,
      events: [],
      trades: [],
      usage: { model: null, calls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 },
      decisions: 0,
      validDecisions: 0,
      errors: 0,
      lastActivityTime: null,
      lastReasoning: null,
      metrics: null,
    };
    state.agents.set(name, agent);
  }
  return agent;
}

function applyLedgerEvent(state: DashboardState, event: LedgerEvent): void {
  let result;
  try {
    result = applyEvent(state.ledger, event);
  } catch (error) {
    state.counts.rejected++;
    state.rejected.push({ eventId: event.eventId, reason: (error as Error).message });
    if (state.rejected.length > 20) state.rejected.shift();
    return;
  }
  if (result === "duplicate") {
    state.counts.duplicates++;
    return;
  }
  state.counts.ledger++;
  const agent = agentRecord(state, event.agent);
  agent.events.push(event);
  if (event.type === "account_opened") {
    agent.opened ??= event;
    if (!agent.metrics) {
      // Prices seen before the opening count for its first point: replay them once.
      agent.metrics = new RunningMetrics({ agent: agent.name });
      agent.metrics.rebuild(agent.events, marksOf(state));
    }
  } else if (event.type === "trade_executed") {
    agent.trades.push(event);
    state.trades.push(event);
    agent.metrics?.addEvent(event);
  }
  advanceClock(state, event.time);
}

function applyPriceTick(state: DashboardState, tick: PriceTick): void {
  state.counts.prices++;
  const time = Math.floor(Date.parse(tick.time) / 1000);
  let product = state.products.get(tick.productId);
  if (!product) {
    product = { productId: tick.productId, latest: tick, history: [] };
    state.products.set(tick.productId, product);
  } else if (Date.parse(tick.time) >= Date.parse(product.latest.time)) {
    product.latest = tick;
  }
  insertPricePoint(product.history, {
    time,
    price: tick.price,
    bestBid: tick.bestBid,
    bestAsk: tick.bestAsk,
  });
  // Marks are the best bid and ask per market second, as in the product history and core/metrics.
  const mark = markPointOf(tick);
  const value = markQuoteOf(mark);
  for (const agent of state.agents.values()) agent.metrics?.addMark(mark, value);
  state.benchmark.metrics?.addMark(mark, value);
  advanceClock(state, tick.time);
}

/** Inserts keeping time order; a point at an existing second replaces it. */
function insertPricePoint(history: PricePoint[], point: PricePoint): void {
  const last = history[history.length - 1];
  if (!last || point.time > last.time) {
    history.push(point);
    return;
  }
  let low = 0;
  let high = history.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (history[mid]!.time < point.time) low = mid + 1;
    else high = mid;
  }
  if (history[low]?.time === point.time) history[low] = point;
  else history.splice(low, 0, point);
}

function applyActivity(state: DashboardState, event: ActivityEvent): void {
  state.counts.activity++;
  const agent = agentRecord(state, event.agent);
  if (isLater(event.time, agent.lastActivityTime)) {
    agent.lastActivityTime = event.time;
  }
  if (event.tick !== undefined && !state.tickTimes.has(event.tick)) {
    // Activity carries its tick's market time: the snapshot time when the snapshot was missed.
    state.tickTimes.set(event.tick, event.time);
  }
  if (
    event.kind === "reasoning" && event.text.trim() !== "" &&
    (agent.lastReasoning === null || !isLater(agent.lastReasoning.time, event.time))
  ) {
    agent.lastReasoning = {
      time: event.time,
      ...(event.tick === undefined ? {} : { tick: event.tick }),
      text: event.text,
    };
  }
  if (event.kind === "usage") {
    agent.usage.model = event.model;
    agent.usage.calls++;
    agent.usage.promptTokens += event.promptTokens;
    agent.usage.completionTokens += event.completionTokens;
    agent.usage.costUsd += event.costUsd;
    return;
  }
  if (event.kind === "decision") {
    agent.decisions++;
    if (event.outcome === "answered") agent.validDecisions++;
  }
  if (event.kind === "error") agent.errors++;
  state.activity.push(event);
  if (state.activity.length > state.activityLimit) {
    state.activity.splice(0, state.activity.length - state.activityLimit);
  }
}

/** Every mark the dashboard holds (best bid and ask per product and market second), oldest first. */
export function marksOf(state: DashboardState): MarkPoint[] {
  const marks: MarkPoint[] = [];
  for (const product of state.products.values()) {
    for (const point of product.history) marks.push(markOfPricePoint(product.productId, point));
  }
  return marks.sort((a, b) => a.timeMs - b.timeMs);
}

/** The mark of one point of a product's history (the same as its tick's, core/metrics/marks.ts). */
export function markOfPricePoint(productId: string, point: PricePoint): MarkPoint {
  return { productId, timeMs: point.time * 1000, price: point.bestBid, ask: point.bestAsk };
}

/**
 * Seconds from the snapshot of a trade's tick to its fill on the market clock, or null when the
 * trade names no tick or the tick's time is unknown.
 */
export function tradeLatencySeconds(
  state: DashboardState,
  trade: Pick<TradeExecuted, "time" | "tick">,
): number | null {
  if (trade.tick === undefined) return null;
  const snapshot = state.tickTimes.get(trade.tick);
  if (snapshot === undefined) return null;
  const seconds = (Date.parse(trade.time) - Date.parse(snapshot)) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

function advanceClock(state: DashboardState, time: string): void {
  if (isLater(time, state.clock.time)) state.clock.time = time;
}

function isLater(time: string, than: string | null): boolean {
  return than === null || Date.parse(time) > Date.parse(than);
}

/**
 * Running metrics: one account's equity curve, drawdowns, Sharpe ratio and exposure kept current
 * as ledger events and marks arrive, so a live view is exact at every market time without
 * recomputing the whole history.
 *
 * The result of {@linkcode RunningMetrics.read} equals {@linkcode computeMetrics} over the same
 * events and marks with the same window end (same curve grid, same conventions; the tests check
 * it), except that the sampling period stays fixed instead of growing past `maxSamples`.
 *
 * How it stays cheap: samples older than the newest input minus a lag (at least a few periods,
 * twice the latest input lateness seen) are settled once, with running peak, lowest equity,
 * exposure sum and hourly equities; a read only computes the samples after them. An input older
 * than a settled sample makes the metrics stale: {@linkcode RunningMetrics.rebuild} then replays
 * every input once (exact, counted in {@linkcode RunningWork}).
 */

import type { Decimal } from "decimal.js";
import type { LedgerEvent, TradeExecuted } from "../contracts/ledger.ts";
import {
  type Account,
  applyTrade,
  isVoidExit,
  openAccount,
  tradeEffect,
} from "../ledger/account.ts";
import { Money, moneyString, roundedString, ZERO } from "../ledger/money.ts";
import { buyAndHoldReturn } from "./benchmark.ts";
import { type MarkPoint, type MarkQuote, markQuoteOf, sortedMarks } from "./marks.ts";
import {
  accountEvents,
  type AgentMetrics,
  type EquityPoint,
  equitySample,
  eventOrder,
  isScoredEvent,
  maxDrawdown,
  maxDrawdownFromStart,
  periodReturns,
  periodsPerYear,
  roundTrips,
  type ScoredEvent,
  sharpeRatio,
} from "./metrics.ts";

/** One point of an equity chart: unix seconds and a display number. */
export interface EquityChartPoint {
  /** Unix seconds on the market clock. */
  time: number;
  /** Equity for display only (the exact value is in the curve's decimal strings). */
  value: number;
}

/** Options for {@linkcode RunningMetrics}. */
export interface RunningMetricsOptions {
  /** Agent (account) measured. */
  agent: string;
  /** Sampling period of the equity curve in ms (default 60 000, as computeMetrics). */
  periodMs?: number;
  /** Return period of the Sharpe ratio in ms (default 3 600 000). */
  sharpePeriodMs?: number;
  /** Shortest settling lag in ms of market time (default 5 periods). */
  minLagMs?: number;
  /** Longest settling lag in ms of market time (default 6 hours). */
  maxLagMs?: number;
}

/** Options for {@linkcode RunningMetrics.read}. */
export interface RunningReadOptions {
  /** The arena's taker fee in bps, paid by the buy-and-hold comparison (as computeMetrics). */
  takerFeeBps: number;
}

/** Work counters, for cost tests and benchmarks. */
export interface RunningWork {
  /** Events and marks added. */
  inputs: number;
  /** Equity samples computed (settled and provisional). */
  samples: number;
  /** Full replays after a late input. */
  rebuilds: number;
  /** Reads that computed a result (not served from the cache). */
  reads: number;
}

/** Metrics at one market time plus the equity chart of the same curve. */
export interface RunningResult {
  /** Everything computeMetrics gives. */
  metrics: AgentMetrics;
  /** The equity curve as display numbers, one point per sample. */
  chart: EquityChartPoint[];
}

interface PendingMark {
  mark: MarkPoint;
  value: MarkQuote;
}

/** Where a replay of the inputs has got to; the settled one is advanced in place. */
interface Cursor {
  account: Account | null;
  marks: Map<string, MarkQuote>;
  firstMarks: Map<string, MarkPoint>;
  lastMarks: Map<string, MarkPoint>;
  /** The opening point was taken. */
  opened: boolean;
  /** Events consumed when the opening point was taken. */
  eventsAtOpening: number;
  /** Events and marks consumed from the pending lists. */
  eventIndex: number;
  markIndex: number;
  /** Total events consumed (also those dropped from the pending list). */
  eventsConsumed: number;
  /** Next grid time to sample. */
  nextSampleMs: number;
  /** Running aggregates of the samples taken. */
  startEquity: Decimal | null;
  peak: Decimal | null;
  worst: Decimal;
  lowest: Decimal | null;
  exposureSum: number;
  exposureCount: number;
  /** Equity at the last whole Sharpe period boundary passed, and the returns between them. */
  boundary: Decimal | null;
  returns: number[];
  nextBoundaryMs: number;
  last: { timeMs: number; equity: Decimal } | null;
}

/** An account's metrics kept current as its ledger events and the marks arrive. */
export class RunningMetrics {
  /** Work done so far. */
  readonly work: RunningWork = { inputs: 0, samples: 0, rebuilds: 0, reads: 0 };
  #agent: string;
  #periodMs: number;
  #sharpePeriodMs: number;
  #minLagMs: number;
  #maxLagMs: number;
  #lagMs: number;
  #startMs: number | null = null;
  #stale = false;
  #latestMs = -Infinity;
  #lastEventMs = -Infinity;
  #pendingEvents: ScoredEvent[] = [];
  #pendingMarks: PendingMark[] = [];
  #settled: Cursor = emptyCursor();
  #settledMs = -Infinity;
  #curve: EquityPoint[] = [];
  #chart: EquityChartPoint[] = [];
  #full: Account | null = null;
  /** P&L of every closed round trip, and each product's trades since its position was flat. */
  #trips: Decimal[] = [];
  #openTrades = new Map<string, { trades: ScoredEvent[]; trips: number }>();
  #cache: { key: string; result: RunningResult } | null = null;

  /** Creates empty running metrics of one account. */
  constructor(options: RunningMetricsOptions) {
    this.#agent = options.agent;
    this.#periodMs = Math.max(1, options.periodMs ?? 60_000);
    this.#sharpePeriodMs = Math.max(this.#periodMs, options.sharpePeriodMs ?? 3_600_000);
    this.#minLagMs = options.minLagMs ?? 5 * this.#periodMs;
    this.#maxLagMs = Math.max(this.#minLagMs, options.maxLagMs ?? 6 * 3_600_000);
    this.#lagMs = this.#minLagMs;
  }

  /** True when an input arrived older than a settled sample: call {@linkcode rebuild}. */
  get stale(): boolean {
    return this.#stale;
  }

  /** Newest input time (unix ms), or -Infinity before any. */
  get latestMs(): number {
    return this.#latestMs;
  }

  /**
   * Adds one of the account's ledger events (already de-duplicated, in ledger order); other
   * accounts' events and refused trade requests change nothing.
   */
  addEvent(event: LedgerEvent): void {
    if (event.agent !== this.#agent || !isScoredEvent(event)) return;
    this.work.inputs++;
    this.#cache = null;
    const timeMs = Date.parse(event.time);
    const early = event.type === "trade_executed" && this.#full === null;
    this.#applyFull(event);
    if (event.type === "account_opened" && this.#startMs === null) this.#startMs = timeMs;
    if (this.#stale) return;
    // A trade before its opening, or older than a settled sample, needs a replay in time order.
    if (early || timeMs <= this.#settledMs || timeMs < this.#lastEventMs) {
      this.#stale = true;
      return;
    }
    this.#lastEventMs = timeMs;
    this.#noteTime(timeMs);
    insertSorted(this.#pendingEvents, event, (item) => eventOrder(item) > eventOrder(event));
  }

  /** Adds a mark (best bid and ask) of any product; `value` is its parsed quotes when known. */
  addMark(mark: MarkPoint, value: MarkQuote = markQuoteOf(mark)): void {
    if (!Number.isFinite(mark.timeMs)) return;
    this.work.inputs++;
    this.#cache = null;
    if (this.#stale) return;
    if (mark.timeMs <= this.#settledMs) {
      this.#stale = true;
      return;
    }
    this.#noteTime(mark.timeMs);
    insertSorted(
      this.#pendingMarks,
      { mark, value },
      (item) => item.mark.timeMs > mark.timeMs,
    );
  }

  /** Replays every input from scratch (after a late input); marks in any order. */
  rebuild(events: readonly LedgerEvent[], marks: readonly MarkPoint[]): void {
    this.work.rebuilds++;
    const lag = this.#lagMs;
    const work = { ...this.work };
    this.#reset();
    for (const event of accountEvents(events, this.#agent)) this.addEvent(event);
    for (const mark of sortedMarks(marks)) this.addMark(mark);
    Object.assign(this.work, work);
    this.#lagMs = lag;
  }

  /**
   * Metrics over the window from the account opening to `endMs` (unix ms, at least the newest
   * input), the benchmark paying the arena's `takerFeeBps`; null before the opening. Throws when
   * {@linkcode stale}.
   */
  read(endMs: number, options: RunningReadOptions): RunningResult | null {
    if (this.#stale) {
      throw new Error(`Running metrics of ${this.#agent} are stale: rebuild them before reading`);
    }
    const startMs = this.#startMs;
    if (startMs === null || this.#full === null) return null;
    const end = Math.max(endMs, startMs, this.#latestMs);
    const key = `${end}|${options.takerFeeBps}`;
    if (this.#cache?.key === key) return this.#cache.result;
    this.work.reads++;
    this.#settle(Math.min(this.#latestMs - this.#lagMs, end - 1));

    const cursor = cloneCursor(this.#settled);
    const tail: EquityPoint[] = [];
    this.#advance(cursor, end, end, tail);
    while (cursor.last && cursor.nextBoundaryMs <= cursor.last.timeMs) {
      this.#passBoundary(cursor, cursor.last.equity);
    }

    const full = this.#full;
    const startingCash = full.startingCash;
    const finalEquity = cursor.last?.equity ?? startingCash;
    const totalReturn = startingCash.isZero() ? ZERO : finalEquity.div(startingCash).minus(1);
    const trips = this.#trips;
    const wins = trips.filter((pnl) => pnl.gt(0)).length;
    const benchmark = buyAndHoldReturn(
      [...cursor.firstMarks.values(), ...cursor.lastMarks.values()],
      { startMs, endMs: end, takerFeeBps: options.takerFeeBps },
    );
    const meanExposure = cursor.exposureCount === 0 ? 0 : cursor.exposureSum / cursor.exposureCount;
    const equityCurve = this.#curve.concat(tail);
    const metrics: AgentMetrics = {
      agent: this.#agent,
      start: new Date(startMs).toISOString(),
      end: new Date(end).toISOString(),
      startingCash: moneyString(startingCash),
      finalEquity: moneyString(finalEquity),
      cash: moneyString(full.cash),
      totalReturnPct: roundedString(totalReturn.times(100), 4),
      maxDrawdownPct: roundedString(cursor.worst.times(100), 4),
      maxDrawdownFromStartPct: roundedString(
        maxDrawdownFromStart(
          cursor.startEquity && cursor.lowest ? [cursor.startEquity, cursor.lowest] : [],
        ).times(100),
        4,
      ),
      sharpe: sharpeRatio(cursor.returns, periodsPerYear(this.#sharpePeriodMs)),
      sharpePeriodSeconds: this.#sharpePeriodMs / 1000,
      periodSeconds: this.#periodMs / 1000,
      periodsPerYear: periodsPerYear(this.#sharpePeriodMs),
      winRate: trips.length === 0 ? null : wins / trips.length,
      roundTrips: trips.length,
      wins,
      realizedPnl: moneyString(full.realizedPnl),
      feesPaid: moneyString(full.feesPaid),
      feesPct: startingCash.isZero()
        ? "0"
        : roundedString(full.feesPaid.div(startingCash).times(100), 4),
      tradedNotional: moneyString(full.tradedNotional),
      turnover: startingCash.isZero()
        ? "0"
        : roundedString(full.tradedNotional.div(startingCash), 4),
      exposurePct: roundedString(new Money(meanExposure).times(100), 2),
      tradeCount: full.tradeCount,
      benchmarkReturnPct: roundedString(benchmark.times(100), 4),
      excessReturnPct: roundedString(totalReturn.minus(benchmark).times(100), 4),
      equityCurve,
    };
    const result = { metrics, chart: this.#chart.concat(tail.map(chartPoint)) };
    this.#cache = { key, result };
    return result;
  }

  #reset(): void {
    this.#startMs = null;
    this.#stale = false;
    this.#latestMs = -Infinity;
    this.#lastEventMs = -Infinity;
    this.#pendingEvents = [];
    this.#pendingMarks = [];
    this.#settled = emptyCursor();
    this.#settledMs = -Infinity;
    this.#curve = [];
    this.#chart = [];
    this.#full = null;
    this.#trips = [];
    this.#openTrades = new Map();
    this.#cache = null;
  }

  #noteTime(timeMs: number): void {
    if (timeMs > this.#latestMs) {
      this.#latestMs = timeMs;
      return;
    }
    // A late input widens the lag, so the next one as late stays in the unsettled tail.
    const wanted = Math.min(this.#maxLagMs, 2 * (this.#latestMs - timeMs));
    if (wanted > this.#lagMs) this.#lagMs = wanted;
  }

  #applyFull(event: ScoredEvent): void {
    if (event.type === "account_opened") {
      this.#full ??= openAccount(event);
      return;
    }
    if (!this.#full) return;
    applyScored(this.#full, event);
    // Round trips of a product only depend on its trades since its position was last flat:
    // core/metrics' roundTrips over those few trades gives the new trip of a reduction.
    const open = this.#openTrades.get(event.productId) ?? { trades: [], trips: 0 };
    open.trades.push(event);
    if (!tradeEffect(event).opens) {
      const pnl = roundTrips(open.trades).pnl;
      if (pnl.length > open.trips) this.#trips.push(pnl.at(-1)!);
      open.trips = pnl.length;
    }
    if (this.#full.positions.has(event.productId)) this.#openTrades.set(event.productId, open);
    else this.#openTrades.delete(event.productId);
  }

  /** Settles every sample at or before `toMs` and drops the inputs they consumed. */
  #settle(toMs: number): void {
    const cursor = this.#settled;
    const before = this.#curve.length;
    const settledMs = this.#advance(cursor, toMs, Infinity, this.#curve);
    if (settledMs === null) return;
    this.#settledMs = settledMs;
    for (let i = before; i < this.#curve.length; i++) this.#chart.push(chartPoint(this.#curve[i]!));
    this.#pendingEvents.splice(0, cursor.eventIndex);
    this.#pendingMarks.splice(0, cursor.markIndex);
    cursor.eventIndex = 0;
    cursor.markIndex = 0;
  }

  /**
   * Takes the samples of the window ending at `endMs` up to `untilMs` (the opening point, then
   * the grid, the last sample at `endMs`), as computeMetrics' curve does. Returns the time of the
   * last step taken, or null when none was.
   */
  #advance(cursor: Cursor, untilMs: number, endMs: number, out: EquityPoint[]): number | null {
    const startMs = this.#startMs;
    if (startMs === null || startMs > untilMs) return null;
    let stepped: number | null = null;
    if (!cursor.opened) {
      // The opening point: the account at the start, before anything else at that instant.
      while (cursor.eventIndex < this.#pendingEvents.length) {
        const event = this.#pendingEvents[cursor.eventIndex]!;
        const timeMs = Date.parse(event.time);
        if (!(timeMs < startMs || (event.type === "account_opened" && timeMs <= startMs))) break;
        this.#consumeEvent(cursor, event);
      }
      this.#consumeMarks(cursor, startMs);
      cursor.opened = true;
      cursor.eventsAtOpening = cursor.eventsConsumed;
      cursor.nextSampleMs = startMs;
      cursor.nextBoundaryMs = startMs;
      if (cursor.account) this.#sample(cursor, startMs, out);
      stepped = startMs;
    }
    while (Math.min(cursor.nextSampleMs, endMs) <= untilMs) {
      const time = cursor.nextSampleMs;
      const sampleTime = Math.min(time, endMs);
      while (cursor.eventIndex < this.#pendingEvents.length) {
        const event = this.#pendingEvents[cursor.eventIndex]!;
        if (Date.parse(event.time) > sampleTime) break;
        this.#consumeEvent(cursor, event);
      }
      this.#consumeMarks(cursor, sampleTime);
      // At the start, a second point only when something happened at that instant.
      const repeat = time === startMs && cursor.eventsConsumed === cursor.eventsAtOpening;
      if (cursor.account && !repeat) this.#sample(cursor, sampleTime, out);
      cursor.nextSampleMs = time + this.#periodMs;
      stepped = sampleTime;
      if (sampleTime >= endMs) break;
    }
    return stepped;
  }

  #consumeEvent(cursor: Cursor, event: ScoredEvent): void {
    cursor.eventIndex++;
    cursor.eventsConsumed++;
    if (event.type === "account_opened") {
      cursor.account ??= openAccount(event);
      return;
    }
    if (cursor.account) applyScored(cursor.account, event);
  }

  #consumeMarks(cursor: Cursor, untilMs: number): void {
    const startMs = this.#startMs!;
    while (cursor.markIndex < this.#pendingMarks.length) {
      const { mark, value } = this.#pendingMarks[cursor.markIndex]!;
      if (mark.timeMs > untilMs) break;
      cursor.marks.set(mark.productId, value);
      cursor.lastMarks.set(mark.productId, mark);
      if (mark.timeMs >= startMs && !cursor.firstMarks.has(mark.productId) && value.bid.gt(0)) {
        cursor.firstMarks.set(mark.productId, mark);
      }
      cursor.markIndex++;
    }
  }

  /** Records the equity at a Sharpe period boundary: core/metrics' resampled returns, one by one. */
  #passBoundary(cursor: Cursor, equity: Decimal): void {
    if (cursor.boundary) cursor.returns.push(...periodReturns([cursor.boundary, equity]));
    cursor.boundary = equity;
    cursor.nextBoundaryMs += this.#sharpePeriodMs;
  }

  #sample(cursor: Cursor, timeMs: number, out: EquityPoint[]): void {
    this.work.samples++;
    const { point, equity, exposure } = equitySample(cursor.account!, {
      marks: cursor.marks,
      timeMs,
    });
    out.push(point);
    cursor.exposureSum += exposure;
    cursor.exposureCount++;
    // Sharpe boundaries: each takes the last sample at or before it.
    while (cursor.last && cursor.nextBoundaryMs < timeMs) {
      this.#passBoundary(cursor, cursor.last.equity);
    }
    cursor.last = { timeMs, equity };
    const fall = maxDrawdown(cursor.peak ? [cursor.peak, equity] : [equity]);
    if (fall.gt(cursor.worst)) cursor.worst = fall;
    if (!cursor.peak || equity.gt(cursor.peak)) cursor.peak = equity;
    cursor.startEquity ??= equity;
    if (!cursor.lowest || equity.lt(cursor.lowest)) cursor.lowest = equity;
  }
}

/**
 * Applies a trade as computeMetrics' ledger replay does: an engine exit of a position already
 * closed or replaced changes nothing, and a contradictory trade is skipped (the ledger reports it).
 */
function applyScored(account: Account, trade: TradeExecuted): void {
  if (isVoidExit(account, trade)) return;
  try {
    applyTrade(account, trade);
  } catch {
    // Skipped as in computeMetrics.
  }
}

function emptyCursor(): Cursor {
  return {
    account: null,
    marks: new Map(),
    firstMarks: new Map(),
    lastMarks: new Map(),
    opened: false,
    eventsAtOpening: 0,
    eventIndex: 0,
    markIndex: 0,
    eventsConsumed: 0,
    nextSampleMs: -Infinity,
    startEquity: null,
    peak: null,
    worst: ZERO,
    lowest: null,
    exposureSum: 0,
    exposureCount: 0,
    boundary: null,
    returns: [],
    nextBoundaryMs: -Infinity,
    last: null,
  };
}

function cloneCursor(cursor: Cursor): Cursor {
  return {
    ...cursor,
    account: cursor.account ? cloneAccount(cursor.account) : null,
    marks: new Map(cursor.marks),
    firstMarks: new Map(cursor.firstMarks),
    lastMarks: new Map(cursor.lastMarks),
    returns: [...cursor.returns],
  };
}

function cloneAccount(account: Account): Account {
  const positions = new Map();
  for (const [id, position] of account.positions) positions.set(id, { ...position });
  return { ...account, positions };
}

function chartPoint(point: EquityPoint): EquityChartPoint {
  return { time: Math.floor(point.timeMs / 1000), value: Number(point.equity) };
}

/** Inserts after the last item that does not come after it (stable, cheap for in-order input). */
function insertSorted<T>(items: T[], item: T, after: (other: T) => boolean): void {
  let index = items.length;
  while (index > 0 && after(items[index - 1]!)) index--;
  if (index === items.length) items.push(item);
  else items.splice(index, 0, item);
}

/**
 * Performance metrics as pure functions over ledger events and prices (market clock only).
 *
 * Conventions (documented for the README):
 * - Positions are valued as the ledger values them (core/ledger/account.ts `positionValue`):
 *   margin plus P&L at the mark, never below zero, a long marked at the best bid and a short at
 *   the best ask ({@linkcode MarkPoint}); before a product's first mark a position is valued at
 *   its margin (its cost basis for a spot long). Equity is cash plus those values.
 * - The equity curve starts with the equity at the window start before anything that happens at
 *   that instant (the starting cash for an account opened then), then is sampled on a fixed grid
 *   of `periodMs` (default 60 s, the arena's tick) to the last mark or event. So a fee paid on
 *   the first tick shows as a fall from the starting cash.
 * - Sharpe ratio: mean / sample standard deviation of the simple returns of that curve over whole
 *   hours (`sharpePeriodMs`, default 1 h: minute returns of a bid-marked curve are mostly spread
 *   noise), times sqrt(hours per year), with 365 x 24 h per year (crypto trades around the clock)
 *   and a risk-free rate of 0. Null with fewer than 2 returns or zero volatility.
 * - Max drawdown: the largest fall from a running peak of that curve (starting equity included),
 *   in percent; max drawdown from start: the largest fall below the starting equity, in percent.
 * - Fees in percent of the starting cash; break-even edge per decision: fees / decisions in percent
 *   of the starting cash (what each decision must earn on average to pay the fees).
 * - Win rate: every trade that reduces a position (a sell of a long, a buy covering a short, an
 *   engine exit at a stop, target or liquidation) closes a round trip of its quantity against the
 *   average entry (average-cost method, matching the ledger); its P&L is the ledger's realized
 *   P&L of it - its fee - the pro-rata share of the entry fees, and never loses more than the
 *   margin released plus those entry fees (the rest is the house's bad debt). A round trip with
 *   P&L > 0 is a win.
 * - Turnover: traded notional (buys + sells) / starting cash.
 * - Exposure: mean over the samples of the gross notional of positions at the marks (longs and
 *   shorts alike) / equity, in percent: above 100 with leverage.
 * - Benchmark: equal-weight buy-and-hold of the products (given, else all marked products):
 *   starting cash split equally, bought at each product's first mark in the window paying the
 *   arena's taker fee (passed in, see core/metrics/benchmark.ts), valued at its last mark.
 *
 * Every consumer scores through this module (or core/metrics/running.ts, which gives the same
 * figures incrementally): the dashboard view, the report, the tournament and the ledger export.
 */

import type { Decimal } from "decimal.js";
import type {
  AccountOpened,
  LedgerEvent,
  PositionSide,
  TradeCause,
  TradeExecuted,
} from "../contracts/ledger.ts";
import {
  type Account,
  applyEvent,
  createLedgerState,
  exitCallId,
  marginOf,
  positionValue,
  reduction,
  tradeEffect,
  tradeKey,
} from "../ledger/account.ts";
import { Money, moneyString, roundedString, ZERO } from "../ledger/money.ts";
import { buyAndHoldReturn } from "./benchmark.ts";
import { type MarkPoint, markPriceFor, type MarkQuote, markQuoteOf, sortedMarks } from "./marks.ts";

/** One sample of an equity curve. */
export interface EquityPoint {
  /** Market-clock time as unix milliseconds. */
  timeMs: number;
  /** Cash + the value of positions, exact decimal string. */
  equity: string;
  /** Cash at that time. */
  cash: string;
  /** Value of positions at that time: each one's margin plus P&L at its mark, floored at 0. */
  marketValue: string;
}

/** Options for {@linkcode equityCurve} and {@linkcode computeMetrics}. */
export interface MetricsOptions {
  /** Sampling period of the equity curve in ms (default 60 000). */
  periodMs?: number;
  /** Window start (unix ms); default the account opening. */
  startMs?: number;
  /** Window end (unix ms); default the last mark or event. */
  endMs?: number;
  /** Products of the buy-and-hold benchmark; default every product with marks. */
  benchmarkProducts?: string[];
  /** The arena's taker fee in bps, paid by the benchmark's purchase (required to score). */
  takerFeeBps?: number;
  /** At most this many samples; the period grows to fit (default 100 000). */
  maxSamples?: number;
  /** Return period of the Sharpe ratio in ms (default 3 600 000, one hour). */
  sharpePeriodMs?: number;
}

/** Everything measured about one agent. */
export interface AgentMetrics {
  /** Agent name. */
  agent: string;
  /** Window start (ISO, market clock). */
  start: string;
  /** Window end (ISO, market clock). */
  end: string;
  /** Starting cash. */
  startingCash: string;
  /** Equity at the end of the window. */
  finalEquity: string;
  /** Cash at the end of the window. */
  cash: string;
  /** Final equity / starting cash - 1, percent, 4 decimals. */
  totalReturnPct: string;
  /** Largest fall from a running peak of the curve (start included), percent (>= 0), 4 decimals. */
  maxDrawdownPct: string;
  /** Largest fall below the starting equity, percent (>= 0), 4 decimals. */
  maxDrawdownFromStartPct: string;
  /** Annualised Sharpe ratio of returns over `sharpePeriodSeconds`, or null when undefined. */
  sharpe: number | null;
  /** Return period of the Sharpe ratio in seconds (3600: hourly returns). */
  sharpePeriodSeconds: number;
  /** Sampling period of the curve in seconds. */
  periodSeconds: number;
  /** Sharpe periods per year used to annualise. */
  periodsPerYear: number;
  /** Share of winning round trips in [0, 1], or null without round trips. */
  winRate: number | null;
  /** Closed round trips (trades that reduce a position). */
  roundTrips: number;
  /** Round trips with a profit after fees. */
  wins: number;
  /** Realized P&L, fees excluded. */
  realizedPnl: string;
  /** Fees paid. */
  feesPaid: string;
  /** Fees in percent of the starting cash, 4 decimals. */
  feesPct: string;
  /** Traded notional of buys and sells. */
  tradedNotional: string;
  /** Traded notional / starting cash, 4 decimals. */
  turnover: string;
  /** Mean gross notional of positions over equity, percent (above 100 with leverage), 2 decimals. */
  exposurePct: string;
  /** Executed trades. */
  tradeCount: number;
  /** Equal-weight buy-and-hold return over the same window, percent, 4 decimals. */
  benchmarkReturnPct: string;
  /** totalReturnPct - benchmarkReturnPct, 4 decimals. */
  excessReturnPct: string;
  /** The sampled equity curve. */
  equityCurve: EquityPoint[];
}

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** Periods of `periodMs` in a year of 365 x 24 h (crypto trades around the clock). */
export function periodsPerYear(periodMs: number): number {
  return YEAR_MS / periodMs;
}

/** Where an event goes in an account's history: openings first, then by market time. */
export function eventOrder(event: LedgerEvent): number {
  return event.type === "account_opened" ? -Infinity : Date.parse(event.time);
}

/** A ledger event that changes an account: what scores are computed from. */
export type ScoredEvent = AccountOpened | TradeExecuted;

/** True for events that change an account (a refused trade request changes none). */
export function isScoredEvent(event: LedgerEvent): event is ScoredEvent {
  return event.type === "account_opened" || event.type === "trade_executed";
}

/** One agent's scored events in scoring order (openings first, then by time, stable). */
export function accountEvents(events: readonly LedgerEvent[], agent: string): ScoredEvent[] {
  return events.filter((event): event is ScoredEvent =>
    event.agent === agent && isScoredEvent(event)
  )
    .map((event, index) => ({ event, index }))
    .sort((a, b) => eventOrder(a.event) - eventOrder(b.event) || a.index - b.index)
    .map(({ event }) => event);
}

/** What an account's positions are worth at the marks and how much they control. */
export interface PositionsMark {
  /** Sum of each position's value (margin + P&L at its mark, never below zero): equity - cash. */
  value: Decimal;
  /** Sum of each position's notional at its mark, longs and shorts alike (gross exposure). */
  grossNotional: Decimal;
}

/**
 * Values an account's positions as the ledger does: a long at the bid, a short at the ask, each
 * worth its margin plus its P&L, never below zero; a position not marked yet at its margin, its
 * notional its cost basis.
 */
export function markPositions(
  account: Account,
  marks: ReadonlyMap<string, MarkQuote>,
): PositionsMark {
  let value = ZERO;
  let grossNotional = ZERO;
  for (const position of account.positions.values()) {
    const quote = marks.get(position.productId);
    if (!quote) {
      value = value.plus(position.margin);
      grossNotional = grossNotional.plus(position.costBasis);
      continue;
    }
    const mark = markPriceFor(quote, position.side);
    value = value.plus(positionValue(position, mark));
    grossNotional = grossNotional.plus(position.quantity.times(mark));
  }
  return { value, grossNotional };
}

/** One equity sample of an account at the marks. */
export interface EquitySample {
  /** The curve's point. */
  point: EquityPoint;
  /** Its equity, parsed. */
  equity: Decimal;
  /** Gross notional of positions / equity (0 at zero equity). */
  exposure: number;
}

/** Samples an account's equity and exposure at `timeMs` from the latest marks. */
export function equitySample(
  account: Account,
  options: { marks: ReadonlyMap<string, MarkQuote>; timeMs: number },
): EquitySample {
  const { value, grossNotional } = markPositions(account, options.marks);
  const equity = account.cash.plus(value);
  return {
    point: {
      timeMs: options.timeMs,
      equity: moneyString(equity),
      cash: moneyString(account.cash),
      marketValue: moneyString(value),
    },
    equity,
    exposure: equity.isZero() ? 0 : grossNotional.div(equity).toNumber(),
  };
}

/** The agents that appear in a ledger, in order of first appearance. */
export function agentsOf(events: readonly LedgerEvent[]): string[] {
  return [...new Set(events.map((event) => event.agent))];
}

/** Window of an agent's curve: opening (or first mark) to the last mark or event. */
function windowOf(
  events: readonly LedgerEvent[],
  marks: readonly MarkPoint[],
  options: MetricsOptions,
): { startMs: number; endMs: number } {
  const opened = events.find((event) => event.type === "account_opened");
  const times = [
    ...events.map((event) => Date.parse(event.time)),
    ...marks.map((mark) => mark.timeMs),
  ].filter(Number.isFinite);
  const startMs = options.startMs ??
    (opened ? Date.parse(opened.time) : Math.min(...times, Number.POSITIVE_INFINITY));
  const endMs = options.endMs ?? Math.max(...times, startMs);
  return { startMs, endMs: Math.max(endMs, startMs) };
}

/**
 * The equity curve of one agent sampled every period from the window start to its end
 * (both included). Events and marks at or before a sample time count for it.
 */
export function equityCurve(
  events: readonly LedgerEvent[],
  points: readonly MarkPoint[],
  options: MetricsOptions & { agent: string },
): EquityPoint[] {
  return curveOf(accountEvents(events, options.agent), sortedMarks(points), options).curve;
}

function curveOf(
  events: readonly ScoredEvent[],
  marks: readonly MarkPoint[],
  options: MetricsOptions,
): { curve: EquityPoint[]; exposure: number[]; periodMs: number; account: Account | undefined } {
  const { startMs, endMs } = windowOf(events, marks, options);
  const maxSamples = options.maxSamples ?? 100_000;
  let periodMs = Math.max(1, options.periodMs ?? 60_000);
  if ((endMs - startMs) / periodMs + 1 > maxSamples) {
    periodMs = Math.ceil((endMs - startMs) / (maxSamples - 1));
  }
  const state = createLedgerState();
  const latest = new Map<string, MarkQuote>();
  const curve: EquityPoint[] = [];
  const exposure: number[] = [];
  let eventIndex = 0;
  let markIndex = 0;
  let account: Account | undefined;
  if (!Number.isFinite(startMs)) return { curve, exposure, periodMs, account };
  // The opening point: what the account held at the start, before anything at that instant.
  while (
    eventIndex < events.length && (Date.parse(events[eventIndex]!.time) < startMs ||
      (events[eventIndex]!.type === "account_opened" &&
        Date.parse(events[eventIndex]!.time) <= startMs))
  ) {
    try {
      applyEvent(state, events[eventIndex]!);
    } catch {
      // A contradictory event is skipped here; the ledger service reports it.
    }
    eventIndex++;
  }
  while (markIndex < marks.length && marks[markIndex]!.timeMs <= startMs) {
    latest.set(marks[markIndex]!.productId, markQuoteOf(marks[markIndex]!));
    markIndex++;
  }
  const opening = state.accounts.values().next().value;
  const openedAt = eventIndex;
  const take = (account: Account, timeMs: number) => {
    const sample = equitySample(account, { marks: latest, timeMs });
    curve.push(sample.point);
    exposure.push(sample.exposure);
  };
  if (opening) take(opening, startMs);
  for (let time = startMs;; time += periodMs) {
    const sampleTime = Math.min(time, endMs);
    while (eventIndex < events.length && Date.parse(events[eventIndex]!.time) <= sampleTime) {
      try {
        applyEvent(state, events[eventIndex]!);
      } catch {
        // A contradictory event is skipped here; the ledger service reports it.
      }
      eventIndex++;
    }
    while (markIndex < marks.length && marks[markIndex]!.timeMs <= sampleTime) {
      const mark = marks[markIndex]!;
      latest.set(mark.productId, markQuoteOf(mark));
      markIndex++;
    }
    account = state.accounts.values().next().value;
    // At the start, a second point only when something happened at that instant.
    const repeat = time === startMs && opening && eventIndex === openedAt;
    if (account && !repeat) take(account, sampleTime);
    if (sampleTime >= endMs) break;
  }
  // Events after the window end still belong to the account's totals.
  return { curve, exposure, periodMs, account };
}

/** Largest peak-to-trough fall of a series of equity values, as a fraction (>= 0). */
export function maxDrawdown(equities: readonly Decimal[]): Decimal {
  let peak: Decimal | undefined;
  let worst = ZERO;
  for (const equity of equities) {
    if (!peak || equity.gt(peak)) peak = equity;
    if (peak.gt(0)) {
      const fall = peak.minus(equity).div(peak);
      if (fall.gt(worst)) worst = fall;
    }
  }
  return worst;
}

/** Largest fall below the starting equity (the first value) of a series, as a fraction (>= 0). */
export function maxDrawdownFromStart(equities: readonly Decimal[]): Decimal {
  const start = equities[0];
  if (!start || !start.gt(0)) return ZERO;
  let lowest = start;
  for (const equity of equities) if (equity.lt(lowest)) lowest = equity;
  return start.minus(lowest).div(start);
}

/**
 * The curve's equity at every whole `periodMs` from its first point (the last sample at or before
 * each boundary); a last partial period is left out.
 */
export function resampleEquity(curve: readonly EquityPoint[], periodMs: number): Decimal[] {
  const first = curve[0];
  if (!first || !(periodMs > 0)) return [];
  const out: Decimal[] = [];
  let index = 0;
  const end = curve[curve.length - 1]!.timeMs;
  for (let boundary = first.timeMs; boundary <= end; boundary += periodMs) {
    while (index + 1 < curve.length && curve[index + 1]!.timeMs <= boundary) index++;
    out.push(new Money(curve[index]!.equity));
  }
  return out;
}

/** Return net of model cost, percent: return - cost / starting cash x 100. */
export function netReturnPct(
  returnPct: number,
  options: { costUsd: number; startingCash: number },
): number {
  if (!(options.startingCash > 0)) return returnPct;
  return returnPct - options.costUsd / options.startingCash * 100;
}

/**
 * Edge each decision must earn to pay the fees, percent of the starting cash: fees / decisions /
 * starting cash x 100; null without decisions.
 */
export function breakEvenEdgePct(
  feesUsd: number,
  options: { decisions: number; startingCash: number },
): number | null {
  if (!(options.decisions > 0) || !(options.startingCash > 0)) return null;
  return feesUsd / options.decisions / options.startingCash * 100;
}

/** Simple per-period returns of a series of equity values. */
export function periodReturns(equities: readonly Decimal[]): number[] {
  const returns: number[] = [];
  for (let i = 1; i < equities.length; i++) {
    const previous = equities[i - 1]!;
    if (previous.isZero()) continue;
    returns.push(equities[i]!.div(previous).minus(1).toNumber());
  }
  return returns;
}

/** Annualised Sharpe ratio (risk-free 0) of per-period returns, null when undefined. */
export function sharpeRatio(returns: readonly number[], periodsPerYear: number): number | null {
  if (returns.length < 2) return null;
  const mean = returns.reduce((sum, value) => sum + value, 0) / returns.length;
  const variance = returns.reduce((sum, value) => sum + (value - mean) ** 2, 0) /
    (returns.length - 1);
  const deviation = Math.sqrt(variance);
  if (!(deviation > 1e-15)) return null;
  return (mean / deviation) * Math.sqrt(periodsPerYear);
}

/** One round trip closed by a trade that reduces a position (average-cost method, as the ledger). */
export interface RoundTrip {
  /** Agent. */
  agent: string;
  /** Product id. */
  productId: string;
  /** Event id of the closing trade. */
  eventId: string;
  /** The position closed: `long` (bought, then sold) or `short` (sold, then bought back). */
  side: PositionSide;
  /** Who closed it: the agent, or the engine at a stop loss, take profit or liquidation. */
  cause: TradeCause;
  /** Quantity closed. */
  quantity: Decimal;
  /** Entry notional of the quantity closed at the average entry price, fees excluded. */
  cost: Decimal;
  /** Exit notional of the closing trade, fees excluded. */
  proceeds: Decimal;
  /** The closing fee plus the pro-rata share of the entry fees. */
  fees: Decimal;
  /**
   * What the trip earned after fees: the realized P&L (exit - entry for a long, entry - exit for
   * a short) - fees, never below -(margin released + entry fees): the rest is bad debt.
   */
  pnl: Decimal;
  /** Quantity-weighted mean time of the entries still held (unix ms, market clock). */
  openedMs: number;
  /** Time of the closing trade (unix ms, market clock). */
  closedMs: number;
}

/** An open position as round trips track it. */
interface OpenEntry {
  side: PositionSide;
  quantity: Decimal;
  costBasis: Decimal;
  margin: Decimal;
  fees: Decimal;
  openedMs: Decimal;
  openedBy: string;
}

/**
 * Round trips closed by trades that reduce a position: sells of longs, buys covering shorts and
 * engine exits (average-cost method, fees included in each trip's P&L). Trades the ledger would
 * not apply (a repeated tool call id, a reduction beyond the position, a side that contradicts
 * it, an engine exit of a position already closed or replaced) close nothing.
 */
export function roundTrips(events: readonly LedgerEvent[]): { pnl: Decimal[]; trips: RoundTrip[] } {
  const open = new Map<string, OpenEntry>();
  const applied = new Set<string>();
  const trips: RoundTrip[] = [];
  for (const event of events) {
    if (event.type !== "trade_executed") continue;
    const id = tradeKey(event.agent, event.toolCallId);
    if (applied.has(id)) continue;
    const quantity = new Money(event.quantity);
    const notional = new Money(event.notional);
    const fee = new Money(event.fee);
    const timeMs = Date.parse(event.time);
    const key = `${event.agent}\u0000${event.productId}`;
    const { side, opens } = tradeEffect(event);
    const position = open.get(key);
    if (position && position.side !== side) continue;
    if (opens) {
      applied.add(id);
      const margin = marginOf(notional, event.leverage ?? 1);
      if (!position) {
        open.set(key, {
          side,
          quantity,
          costBasis: notional,
          margin,
          fees: fee,
          openedMs: new Money(timeMs),
          openedBy: event.toolCallId,
        });
        continue;
      }
      const total = position.quantity.plus(quantity);
      position.openedMs = position.quantity.times(position.openedMs).plus(quantity.times(timeMs))
        .div(total);
      position.quantity = total;
      position.costBasis = position.costBasis.plus(notional);
      position.margin = position.margin.plus(margin);
      position.fees = position.fees.plus(fee);
      continue;
    }
    const cause = event.cause ?? "agent";
    if (!position || position.quantity.lt(quantity)) continue;
    const voidExit = cause !== "agent" &&
      (exitCallId(position) !== event.toolCallId || !position.quantity.eq(quantity));
    if (voidExit) continue;
    applied.add(id);
    const { removed: cost, released, pnl: realized, badDebt } = reduction(
      { ...position, side },
      { quantity, notional, fee },
    );
    const entryFees = quantity.eq(position.quantity)
      ? position.fees
      : position.fees.times(quantity).div(position.quantity);
    trips.push({
      agent: event.agent,
      productId: event.productId,
      eventId: event.eventId,
      side,
      cause,
      quantity,
      cost,
      proceeds: notional,
      fees: fee.plus(entryFees),
      pnl: realized.minus(fee).minus(entryFees).plus(badDebt),
      openedMs: position.openedMs.round().toNumber(),
      closedMs: timeMs,
    });
    position.quantity = position.quantity.minus(quantity);
    position.costBasis = position.costBasis.minus(cost);
    position.margin = position.margin.minus(released);
    position.fees = position.fees.minus(entryFees);
    if (position.quantity.isZero()) open.delete(key);
  }
  return { pnl: trips.map((trip) => trip.pnl), trips };
}

/** Options for {@linkcode computeMetrics}: the agent and the arena's taker fee are required. */
export interface ScoreOptions extends MetricsOptions {
  /** Agent (account) scored. */
  agent: string;
  /** The arena's taker fee in bps (see `scoringTakerFeeBps`); nothing here defaults it. */
  takerFeeBps: number;
}

/** All metrics of one agent over its ledger events and the mark prices. */
export function computeMetrics(
  events: readonly LedgerEvent[],
  points: readonly MarkPoint[],
  options: ScoreOptions,
): AgentMetrics {
  const own = accountEvents(events, options.agent);
  const marks = sortedMarks(points);
  const { startMs, endMs } = windowOf(own, marks, options);
  const { curve, exposure, periodMs } = curveOf(own, marks, { ...options, startMs, endMs });
  const full = createLedgerState();
  for (const event of own) {
    try {
      applyEvent(full, event);
    } catch {
      // Skipped as in the curve.
    }
  }
  const account = full.accounts.get(options.agent);
  const startingCash = account?.startingCash ?? ZERO;
  const equities = curve.map((point) => new Money(point.equity));
  const finalEquity = equities.at(-1) ?? startingCash;
  const totalReturn = startingCash.isZero() ? ZERO : finalEquity.div(startingCash).minus(1);
  const sharpePeriodMs = Math.max(periodMs, options.sharpePeriodMs ?? 3_600_000);
  const perYear = periodsPerYear(sharpePeriodMs);
  const trips = roundTrips(own).pnl;
  const wins = trips.filter((pnl) => pnl.gt(0)).length;
  const benchmark = buyAndHoldReturn(marks, {
    startMs,
    endMs,
    products: options.benchmarkProducts,
    takerFeeBps: options.takerFeeBps,
  });
  const meanExposure = exposure.length === 0
    ? 0
    : exposure.reduce((sum, value) => sum + value, 0) / exposure.length;
  const toIso = (ms: number) => Number.isFinite(ms) ? new Date(ms).toISOString() : "";
  return {
    agent: options.agent,
    start: toIso(startMs),
    end: toIso(endMs),
    startingCash: moneyString(startingCash),
    finalEquity: moneyString(finalEquity),
    cash: moneyString(account?.cash ?? ZERO),
    totalReturnPct: roundedString(totalReturn.times(100), 4),
    maxDrawdownPct: roundedString(maxDrawdown(equities).times(100), 4),
    maxDrawdownFromStartPct: roundedString(maxDrawdownFromStart(equities).times(100), 4),
    sharpe: sharpeRatio(periodReturns(resampleEquity(curve, sharpePeriodMs)), perYear),
    sharpePeriodSeconds: sharpePeriodMs / 1000,
    periodSeconds: periodMs / 1000,
    periodsPerYear: perYear,
    winRate: trips.length === 0 ? null : wins / trips.length,
    roundTrips: trips.length,
    wins,
    realizedPnl: moneyString(account?.realizedPnl ?? ZERO),
    feesPaid: moneyString(account?.feesPaid ?? ZERO),
    feesPct: startingCash.isZero()
      ? "0"
      : roundedString((account?.feesPaid ?? ZERO).div(startingCash).times(100), 4),
    tradedNotional: moneyString(account?.tradedNotional ?? ZERO),
    turnover: startingCash.isZero()
      ? "0"
      : roundedString((account?.tradedNotional ?? ZERO).div(startingCash), 4),
    exposurePct: roundedString(new Money(meanExposure).times(100), 2),
    tradeCount: account?.tradeCount ?? 0,
    benchmarkReturnPct: roundedString(benchmark.times(100), 4),
    excessReturnPct: roundedString(totalReturn.minus(benchmark).times(100), 4),
    equityCurve: curve,
  };
}

/** Metrics of every agent in the ledger, in order of first appearance. */
export function computeAllMetrics(
  events: readonly LedgerEvent[],
  points: readonly MarkPoint[],
  options: MetricsOptions & { takerFeeBps: number },
): AgentMetrics[] {
  return agentsOf(events).map((agent) => computeMetrics(events, points, { ...options, agent }));
}

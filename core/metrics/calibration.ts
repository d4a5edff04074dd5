/**
 * Calibration: how well an agent's stated confidence matches what its positions did.
 *
 * The rules, for one agent's ledger events in ledger order:
 *
 * - A **call** is an executed trade that opens or adds to a position (`tradeEffect(trade).opens`:
 *   a buy of a long, a sale of a short) and carries `confidence`. A reducing trade's confidence
 *   is not a call; a trade without confidence is not one either.
 * - A position's **lifetime** runs from the trade that opens it (nothing held in that product)
 *   to the trade that closes it fully, by the agent or by an engine exit (stop loss, take
 *   profit, liquidation). Every call made during a lifetime gets that lifetime's outcome, so a
 *   position opened and added to twice counts three calls with the same outcome.
 * - The **outcome** is 1 when the round trip made money after fees: the sum over every trade
 *   of the lifetime (opening, adding, partial and final closes) of the realized P&L it booked
 *   minus its fee is above zero; otherwise (zero included) it is 0. The figures are the ledger's
 *   own: the events are replayed with `applyEvent` and each trade contributes the change it
 *   made to the account's realized P&L and fees paid (events the ledger ignores as duplicates,
 *   void exits or corrupt history contribute nothing).
 * - Calls of a position still open after the last event are counted as `open` and not scored.
 * - **Brier score** = mean over the scored calls of (confidence - outcome)^2, computed in exact
 *   decimals (0 is perfect; always saying 0.5 scores 0.25); null ("n/a") without scored calls.
 * - The **reliability table** puts scored calls in five bins by confidence: [0, 0.2), [0.2, 0.4),
 *   [0.4, 0.6), [0.6, 0.8) and [0.8, 1] (1 falls in the last), each with its count, mean
 *   confidence and hit rate (share with outcome 1). A calibrated agent's hit rate is close to
 *   its mean confidence in every bin.
 */

import { Decimal } from "decimal.js";
import type { LedgerEvent } from "../contracts/ledger.ts";
import { applyEvent, createLedgerState, tradeEffect } from "../ledger/account.ts";
import { type Money, ZERO } from "../ledger/money.ts";
import { markdownTable } from "../dashboard/format.ts";

/** One scored call: the confidence stated and the outcome of its position's round trip. */
export interface ScoredCall {
  /** Stated confidence, 0 to 1. */
  confidence: number;
  /** 1 when the round trip made money after fees, else 0. */
  outcome: 0 | 1;
}

/** An agent's calls: the scored ones and how many wait on a position still open. */
export interface CalibrationCalls {
  /** Calls whose position closed, in ledger order of their closes. */
  scored: ScoredCall[];
  /** Calls on positions still open (not scored). */
  open: number;
}

/** One bin of the reliability table. */
export interface CalibrationBin {
  /** Lowest confidence of the bin (inclusive). */
  from: number;
  /** Highest confidence of the bin (exclusive, except 1 for the last bin). */
  to: number;
  /** Scored calls in the bin. */
  calls: number;
  /** Of those, calls whose round trip made money. */
  hits: number;
  /** Mean stated confidence of the bin's calls; null for an empty bin. */
  meanConfidence: number | null;
  /** hits / calls; null for an empty bin. */
  hitRate: number | null;
}

/** An agent's calibration: Brier score, call counts and the reliability table. */
export interface Calibration {
  /** Mean squared gap between confidence and outcome; null without scored calls. */
  brier: number | null;
  /** Scored calls. */
  calls: number;
  /** Calls on positions still open (not scored). */
  open: number;
  /** Mean stated confidence of the scored calls; null without any. */
  meanConfidence: number | null;
  /** Share of the scored calls whose round trip made money; null without any. */
  hitRate: number | null;
  /** The five confidence bins, lowest first. */
  bins: CalibrationBin[];
}

/** Number of bins of the reliability table (each 0.2 of confidence wide). */
export const CALIBRATION_BINS = 5;

/** A position's lifetime so far: the P&L after fees it booked and the calls made on it. */
interface Lifetime {
  net: Money;
  confidences: number[];
}

/**
 * The calls of `agent` in ledger events (other agents' events are skipped), each scored by the
 * round trip of the position it opened or added to (see the module doc for the rules).
 */
export function calibrationCalls(
  events: Iterable<LedgerEvent>,
  agent: string,
): CalibrationCalls {
  const state = createLedgerState();
  const lifetimes = new Map<string, Lifetime>();
  const scored: ScoredCall[] = [];
  for (const event of events) {
    if (event.agent !== agent) continue;
    const before = state.accounts.get(agent);
    const realizedBefore = before?.realizedPnl ?? ZERO;
    const feesBefore = before?.feesPaid ?? ZERO;
    try {
      if (applyEvent(state, event) !== "applied" || event.type !== "trade_executed") continue;
    } catch {
      // Corrupt history the ledger refuses changes no account: it is no call either.
      continue;
    }
    const account = state.accounts.get(agent)!;
    const lifetime = lifetimes.get(event.productId) ?? { net: ZERO, confidences: [] };
    lifetimes.set(event.productId, lifetime);
    lifetime.net = lifetime.net
      .plus(account.realizedPnl.minus(realizedBefore))
      .minus(account.feesPaid.minus(feesBefore));
    if (tradeEffect(event).opens && event.confidence !== undefined) {
      lifetime.confidences.push(event.confidence);
    }
    if (!account.positions.has(event.productId)) {
      const outcome = lifetime.net.gt(0) ? 1 : 0;
      for (const confidence of lifetime.confidences) scored.push({ confidence, outcome });
      lifetimes.delete(event.productId);
    }
  }
  let open = 0;
  for (const lifetime of lifetimes.values()) open += lifetime.confidences.length;
  return { scored, open };
}

/** The bin index of a confidence: floor(5 x confidence), with 1 in the last bin. */
function binOf(confidence: number): number {
  return Math.min(
    CALIBRATION_BINS - 1,
    new Decimal(confidence).times(CALIBRATION_BINS).floor().toNumber(),
  );
}

/** Totals a calibration is built from: calls, hits and sums of confidence (exact decimals). */
interface Sums {
  calls: number;
  hits: number;
  confidence: Decimal;
}

/** Sums of the whole sample: also the sum of squared gaps (confidence - outcome)^2. */
interface SampleSums extends Sums {
  squares: Decimal;
  open: number;
  bins: Sums[];
}

/** An empty set of sums. */
function noSums(): Sums {
  return { calls: 0, hits: 0, confidence: new Decimal(0) };
}

/** The sums of a sample with no scored call yet. */
function emptySample(open: number): SampleSums {
  return {
    ...noSums(),
    squares: new Decimal(0),
    open,
    bins: Array.from({ length: CALIBRATION_BINS }, noSums),
  };
}

/** `sum / calls` as a number, null without calls. */
function meanOf(sum: Decimal, calls: number): number | null {
  return calls === 0 ? null : sum.div(calls).toNumber();
}

/** The calibration the sums describe. */
function calibrationFrom(sums: SampleSums): Calibration {
  return {
    brier: meanOf(sums.squares, sums.calls),
    calls: sums.calls,
    open: sums.open,
    meanConfidence: meanOf(sums.confidence, sums.calls),
    hitRate: sums.calls === 0 ? null : sums.hits / sums.calls,
    bins: sums.bins.map((bin, index) => ({
      from: index / CALIBRATION_BINS,
      to: (index + 1) / CALIBRATION_BINS,
      calls: bin.calls,
      hits: bin.hits,
      meanConfidence: meanOf(bin.confidence, bin.calls),
      hitRate: bin.calls === 0 ? null : bin.hits / bin.calls,
    })),
  };
}

/** Adds the sums of one call, or of a part of a pool, to `sums` in place. */
function add(sums: Sums, part: Sums): void {
  sums.calls += part.calls;
  sums.hits += part.hits;
  sums.confidence = sums.confidence.plus(part.confidence);
}

/** Scores calls: the Brier score (exact decimals) and the reliability table. */
export function scoreCalibration(calls: CalibrationCalls): Calibration {
  const sums = emptySample(calls.open);
  for (const call of calls.scored) {
    const confidence = new Decimal(call.confidence);
    const one = { calls: 1, hits: call.outcome, confidence };
    sums.squares = sums.squares.plus(confidence.minus(call.outcome).pow(2));
    add(sums, one);
    add(sums.bins[binOf(call.confidence)]!, one);
  }
  return calibrationFrom(sums);
}

/** A mean over `calls` calls back to its sum (0 for an empty part). */
function sumOf(mean: number | null, calls: number): Decimal {
  return mean === null ? new Decimal(0) : new Decimal(mean).times(calls);
}

/**
 * Several calibrations taken as one sample (a tournament pools its windows and runs): counts
 * add up, and the Brier score and the means are the call-weighted means of the parts.
 */
export function poolCalibrations(parts: readonly Calibration[]): Calibration {
  const sums = emptySample(0);
  for (const part of parts) {
    sums.squares = sums.squares.plus(sumOf(part.brier, part.calls));
    sums.open += part.open;
    part.bins.forEach((bin, index) => {
      const summed = {
        calls: bin.calls,
        hits: bin.hits,
        confidence: sumOf(bin.meanConfidence, bin.calls),
      };
      add(sums, summed);
      add(sums.bins[index]!, summed);
    });
  }
  return calibrationFrom(sums);
}

/** The calibration of `agent` in ledger events: {@linkcode calibrationCalls}, scored. */
export function calibrationOf(events: Iterable<LedgerEvent>, agent: string): Calibration {
  return scoreCalibration(calibrationCalls(events, agent));
}

/** A Brier score as text: three decimals, `n/a` without scored calls. */
export function formatBrier(brier: number | null): string {
  return brier === null ? "n/a" : brier.toFixed(3);
}

/** A share (0 to 1) as a whole percentage: `0.5` -> `50%`; `-` when undefined. */
export function formatShare(value: number | null): string {
  return value === null ? "-" : `${(value * 100).toFixed(0)}%`;
}

/** A confidence with two decimals; `-` when undefined. */
export function formatConfidence(value: number | null): string {
  return value === null ? "-" : value.toFixed(2);
}

/** The summary cells of a calibration: Brier, scored calls, open calls, mean confidence, hit rate. */
export function calibrationCells(calibration: Calibration): string[] {
  return [
    formatBrier(calibration.brier),
    String(calibration.calls),
    String(calibration.open),
    formatConfidence(calibration.meanConfidence),
    formatShare(calibration.hitRate),
  ];
}

/** A bin's range as text: `0.8-1.0`. */
export function binLabel(bin: Pick<CalibrationBin, "from" | "to">): string {
  return `${bin.from.toFixed(1)}-${bin.to.toFixed(1)}`;
}

/** A bin's cells as text: range, calls, mean confidence (2 decimals) and hit rate (percent). */
export function binCells(bin: CalibrationBin): string[] {
  return [
    binLabel(bin),
    String(bin.calls),
    formatConfidence(bin.meanConfidence),
    formatShare(bin.hitRate),
  ];
}

/**
 * One agent's reliability table as markdown: a row per bin (calls, mean confidence, hit rate)
 * under a line with the Brier score and the call counts.
 */
export function formatReliability(agent: string, calibration: Calibration): string {
  return [
    `${agent}: Brier ${formatBrier(calibration.brier)} over ${calibration.calls} scored ` +
    `${calibration.calls === 1 ? "call" : "calls"}, ${calibration.open} open`,
    "",
    markdownTable(
      ["confidence", "calls", "mean conf", "hit rate"],
      calibration.bins.map(binCells),
    ),
  ].join("\n");
}

/** Whether any agent stated a confidence (scored or open): otherwise there is nothing to show. */
export function anyCalls(calibrations: Iterable<Calibration>): boolean {
  for (const calibration of calibrations) {
    if (calibration.calls + calibration.open > 0) return true;
  }
  return false;
}

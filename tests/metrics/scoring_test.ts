/**
 * One scoring path: the same ledger events and prices give the same return, drawdowns, Sharpe
 * ratio and buy-and-hold comparison in every consumer (batch metrics, running metrics, the
 * dashboard view, the report, the tournament's figures and the ledger export). The arena's fee
 * here is 25 bps, not the desk default of 60, so a consumer that scores with a fee of its own
 * fails too.
 */

import assert from "node:assert/strict";
import type { LedgerEvent } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import { figuresOf } from "../../core/arena/tournament.ts";
import { loadWebAssetsSync } from "../../core/dashboard/assets.ts";
import { buildReport } from "../../core/dashboard/report.ts";
import {
  applyDashboardInputs,
  createDashboardState,
  type DashboardInput,
  type DashboardState,
} from "../../core/dashboard/state.ts";
import { buildDashboardView } from "../../core/dashboard/view.ts";
import {
  accountOpenedEvent,
  applyEvent,
  createLedgerState,
  DEFAULT_TRADE_CONFIG,
  executeTrade,
  exitTrade,
  exitTrigger,
  roundedString,
  type TradeConfig,
  type TradeRequest,
} from "../../core/ledger/mod.ts";
import {
  type AgentMetrics,
  at,
  BENCHMARK_NAME,
  buildLedgerReport,
  buyAndHoldLedger,
  buyAndHoldReturn,
  computeMetrics,
  markPointsFromTicks,
  MIN,
  netReturnPct,
  roundTrips,
  RunningMetrics,
  scoringTakerFeeBps,
  START,
} from "./_imports.ts";

const MINUTES = 240;
const CONFIG: TradeConfig = {
  takerFeeBps: 25,
  slippageBps: 0,
  allowShort: true,
  maxLeverage: 20,
};
const FEE = { takerFeeBps: CONFIG.takerFeeBps };
const END_MS = START + MINUTES * MIN;

function quote(productId: string, minute: number): PriceTick {
  const mid = productId === "BTC-USD"
    ? 4000 + 300 * Math.sin(minute / 25) + minute
    : 300 - 20 * Math.cos(minute / 40) - minute / 10;
  const spread = productId === "BTC-USD" ? 1 : 0.05;
  return {
    v: 1,
    productId,
    price: mid.toFixed(2),
    bestBid: (mid - spread).toFixed(2),
    bestAsk: (mid + spread).toFixed(2),
    time: at(minute),
    stale: false,
  };
}

/** Margin terms of an order. */
type Terms = Pick<TradeRequest, "leverage" | "stopLoss" | "takeProfit">;

/**
 * Orders by minute: [agent, product, action, quantity, margin terms]. Delta trades on margin: a
 * 5x BTC short closed at its target, a 10x ETH long stopped out, a 20x BTC short liquidated.
 */
const ORDERS: Record<number, [string, string, "buy" | "sell", string, Terms?][]> = {
  2: [["beta", "ETH-USD", "buy", "200"]],
  5: [["alpha", "BTC-USD", "buy", "12"]],
  40: [["gamma", "BTC-USD", "buy", "6"]],
  45: [["delta", "BTC-USD", "sell", "5", { leverage: 5, takeProfit: "3900" }]],
  70: [["alpha", "BTC-USD", "sell", "6"]],
  100: [["alpha", "ETH-USD", "buy", "50"]],
  130: [["delta", "ETH-USD", "buy", "100", { leverage: 10, stopLoss: "300" }]],
  150: [["beta", "ETH-USD", "sell", "200"], ["gamma", "BTC-USD", "sell", "2"]],
  160: [["delta", "BTC-USD", "sell", "3", { leverage: 20 }]],
  200: [["alpha", "BTC-USD", "sell", "6"]],
};

/**
 * Four agents over four hours of two products, traded through core/ledger at 25 bps: alpha and
 * beta open with $100,000 at the start, gamma with $50,000 half an hour later, delta with
 * $100,000 at minute 40. Beta also has a refused request, which changes no score. The engine's
 * exits (core/ledger/exits.ts) close delta's positions at the first quote that crosses them.
 * Returns the inputs in arrival order.
 */
function arenaHistory(): { events: LedgerEvent[]; ticks: PriceTick[]; inputs: DashboardInput[] } {
  const ledger = createLedgerState();
  const events: LedgerEvent[] = [];
  const ticks: PriceTick[] = [];
  const inputs: DashboardInput[] = [];
  const record = (event: LedgerEvent) => {
    applyEvent(ledger, event);
    events.push(event);
    inputs.push({ kind: "ledger", event });
  };
  record(accountOpenedEvent("alpha", { cash: "100000", time: at(0) }));
  record(accountOpenedEvent("beta", { cash: "100000", time: at(0) }));
  let call = 0;
  for (let minute = 0; minute <= MINUTES; minute++) {
    const latest = new Map<string, PriceTick>();
    for (const productId of ["BTC-USD", "ETH-USD"]) {
      const tick = quote(productId, minute);
      latest.set(productId, tick);
      ticks.push(tick);
      inputs.push({ kind: "price", tick });
    }
    if (minute === 30) record(accountOpenedEvent("gamma", { cash: "50000", time: at(30) }));
    if (minute === 40) record(accountOpenedEvent("delta", { cash: "100000", time: at(40) }));
    for (const account of ledger.accounts.values()) {
      for (const position of [...account.positions.values()]) {
        const tick = latest.get(position.productId)!;
        const trigger = exitTrigger(position, tick);
        if (trigger) record(exitTrade(account, position, { trigger, tick, config: CONFIG }));
      }
    }
    if (minute === 31) {
      record({
        v: 1,
        type: "trade_refused",
        eventId: "refusal:beta:r1",
        agent: "beta",
        toolCallId: "r1",
        reason: "Quantity must be positive, got -3",
        time: at(31),
      });
    }
    for (const [agent, productId, action, quantity, terms] of ORDERS[minute] ?? []) {
      const decision = executeTrade(ledger.accounts.get(agent)!, {
        agent,
        toolCallId: `c${++call}`,
        productId,
        quantity,
        action,
        ...terms,
      }, { price: latest.get(productId), config: CONFIG });
      assert.ok(decision.ok, decision.ok ? "" : decision.reason);
      record(decision.event);
    }
  }
  return { events, ticks, inputs };
}

/** The figures every consumer shows, as the strings and numbers core/metrics gives. */
interface Figures {
  returnPct: string;
  maxDrawdownPct: string;
  maxDrawdownFromStartPct: string;
  sharpe: number | null;
  excessReturnPct: string;
  winRate: number | null;
  feesPct: string;
}

function figures(metrics: AgentMetrics): Figures {
  return {
    returnPct: metrics.totalReturnPct,
    maxDrawdownPct: metrics.maxDrawdownPct,
    maxDrawdownFromStartPct: metrics.maxDrawdownFromStartPct,
    sharpe: metrics.sharpe,
    excessReturnPct: metrics.excessReturnPct,
    winRate: metrics.winRate,
    feesPct: metrics.feesPct,
  };
}

function dashboard(inputs: DashboardInput[], takerFeeBps?: number): DashboardState {
  const state = createDashboardState(takerFeeBps === undefined ? {} : { takerFeeBps });
  applyDashboardInputs(state, inputs);
  return state;
}

const AGENTS = ["alpha", "beta", "gamma", "delta"];
const history = arenaHistory();
const marks = markPointsFromTicks(history.ticks);
const batch = new Map(
  AGENTS.map((agent) => [
    agent,
    computeMetrics(history.events, marks, { agent, endMs: END_MS, ...FEE }),
  ]),
);

Deno.test("the fixture is sensitive: Sharpe is defined and the fee changes the benchmark", () => {
  for (const metrics of batch.values()) {
    assert.notEqual(metrics.sharpe, null, metrics.agent);
    assert.ok(metrics.roundTrips > 0, metrics.agent);
  }
  const alpha = batch.get("alpha")!;
  const withDeskDefault = computeMetrics(history.events, marks, {
    agent: "alpha",
    endMs: END_MS,
    takerFeeBps: DEFAULT_TRADE_CONFIG.takerFeeBps,
  });
  assert.notEqual(withDeskDefault.benchmarkReturnPct, alpha.benchmarkReturnPct);
  assert.equal(scoringTakerFeeBps(history.events), 25, "the fee the trades record");
  assert.equal(scoringTakerFeeBps(history.events, 10), 10, "a configured fee wins");
  assert.equal(scoringTakerFeeBps([], undefined), DEFAULT_TRADE_CONFIG.takerFeeBps);
  const delta = roundTrips(history.events).trips.filter((trip) => trip.agent === "delta");
  assert.deepEqual(
    delta.map((trip) => [trip.side, trip.cause]),
    [["short", "take_profit"], ["long", "stop_loss"], ["short", "liquidation"]],
    "delta's positions are closed by the engine",
  );
});

Deno.test("running metrics fed in arrival order equal the batch metrics field for field", () => {
  const running = new Map(AGENTS.map((agent) => [agent, new RunningMetrics({ agent })]));
  for (const input of history.inputs) {
    for (const metrics of running.values()) {
      if (input.kind === "ledger") metrics.addEvent(input.event);
      if (input.kind === "price") {
        const [mark] = markPointsFromTicks([input.tick]);
        metrics.addMark(mark!);
      }
    }
  }
  for (const [agent, metrics] of running) {
    if (metrics.stale) metrics.rebuild(history.events, marks);
    assert.deepEqual(metrics.read(END_MS, FEE)!.metrics, batch.get(agent), agent);
  }
});

Deno.test("the ledger export scores every account exactly as the batch metrics do", () => {
  const report = buildLedgerReport(history.events, history.ticks, { includeCurves: true });
  assert.equal(report.takerFeeBps, 25, "the fee the ledger's trades paid, not a default");
  assert.equal(report.marketTime, at(MINUTES));
  assert.deepEqual(report.accounts.map((account) => account.metrics.agent), AGENTS);
  for (const account of report.accounts) {
    assert.deepEqual(account.metrics, batch.get(account.metrics.agent));
  }
});

Deno.test("the dashboard view, the report and the tournament show the batch figures", () => {
  const assets = loadWebAssetsSync();
  // A dashboard that learns the fee from the trades, and one the arena told its fee.
  for (const state of [dashboard(history.inputs), dashboard(history.inputs, 25)]) {
    const view = buildDashboardView(state);
    const report = buildReport(state, assets);
    const outcome = figuresOf({ report, ticks: MINUTES + 1 });
    assert.equal(view.clock.time, at(MINUTES));
    for (const agent of AGENTS) {
      const expected = figures(batch.get(agent)!);
      const row = view.agents.find((candidate) => candidate.name === agent)!;
      assert.deepEqual(
        {
          returnPct: row.returnPct,
          maxDrawdownPct: row.maxDrawdownPct,
          maxDrawdownFromStartPct: row.maxDrawdownFromStartPct,
          sharpe: row.sharpe,
          excessReturnPct: row.excessReturnPct,
          winRate: row.winRate,
          feesPct: row.feesPct,
        },
        expected,
        `view ${agent}`,
      );
      const line = report.json.leaderboard.find((candidate) => candidate.agent === agent)!;
      assert.deepEqual(
        {
          returnPct: line.returnPct,
          maxDrawdownPct: line.maxDrawdownPct,
          maxDrawdownFromStartPct: line.maxDrawdownFromStartPct,
          sharpe: line.sharpe,
          excessReturnPct: expected.excessReturnPct,
          winRate: line.winRate,
          feesPct: line.feesPct,
        },
        expected,
        `report ${agent}`,
      );
      assert.equal(
        line.netReturnPct,
        netReturnPct(Number(expected.returnPct), {
          costUsd: 0,
          startingCash: Number(batch.get(agent)!.startingCash),
        }).toFixed(4),
      );
      const played = outcome.agents.get(agent)!;
      assert.equal(played.returnPct, Number(expected.returnPct), `tournament ${agent}`);
      assert.equal(played.maxDrawdownPct, Number(expected.maxDrawdownPct), `tournament ${agent}`);
      assert.equal(played.feesUsd, Number(batch.get(agent)!.feesPaid), `tournament ${agent}`);
    }
  }
});

Deno.test("one buy-and-hold: the benchmark row, every agent's comparison and the formula agree", () => {
  const startMs = START;
  const formula = roundedString(
    buyAndHoldReturn(marks, { startMs, endMs: END_MS, ...FEE }).times(100),
    4,
  );
  const account = computeMetrics(
    buyAndHoldLedger(marks, { startMs, startingCash: "100000", ...FEE }),
    marks,
    { agent: BENCHMARK_NAME, endMs: END_MS, ...FEE },
  );
  assert.equal(account.totalReturnPct, formula);
  // Agents opened at the start compare with the same buy-and-hold in every consumer.
  for (const agent of ["alpha", "beta"]) {
    assert.equal(batch.get(agent)!.benchmarkReturnPct, formula, agent);
  }
  const exported = buildLedgerReport(history.events, history.ticks);
  for (const agent of ["alpha", "beta"]) {
    const row = exported.accounts.find((candidate) => candidate.metrics.agent === agent)!;
    assert.equal(row.metrics.benchmarkReturnPct, formula, `ledger ${agent}`);
  }
  for (const state of [dashboard(history.inputs), dashboard(history.inputs, 25)]) {
    const view = buildDashboardView(state);
    const report = buildReport(state, loadWebAssetsSync());
    assert.deepEqual(
      {
        returnPct: view.benchmark!.returnPct,
        maxDrawdownPct: view.benchmark!.maxDrawdownPct,
        sharpe: view.benchmark!.sharpe,
      },
      { returnPct: formula, maxDrawdownPct: account.maxDrawdownPct, sharpe: account.sharpe },
    );
    assert.deepEqual(report.json.benchmark, {
      returnPct: formula,
      maxDrawdownPct: account.maxDrawdownPct,
      sharpe: account.sharpe,
    });
    assert.equal(figuresOf({ report, ticks: 0 }).benchmarkPct, Number(formula));
  }
});

Deno.test("an agent opened later with less cash is scored on its own cash and window", () => {
  const gamma = batch.get("gamma")!;
  assert.equal(gamma.startingCash, "50000");
  assert.equal(gamma.start, at(30));
  const view = buildDashboardView(dashboard(history.inputs));
  const row = view.agents.find((candidate) => candidate.name === "gamma")!;
  assert.equal(row.portfolio.startingCash, "50000");
  assert.equal(row.returnPct, gamma.totalReturnPct);
  // Its comparison is buy-and-hold over its own window, not the arena's.
  const own = buyAndHoldReturn(marks, { startMs: START + 30 * MIN, endMs: END_MS, ...FEE });
  assert.equal(gamma.benchmarkReturnPct, roundedString(own.times(100), 4));
});

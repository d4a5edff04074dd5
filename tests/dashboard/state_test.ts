import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import {
  applyDashboardInput,
  createDashboardState,
  type DashboardInput,
  marksOf,
} from "../../core/dashboard/state.ts";
import { buildDashboardView, downsample, tradeLabel } from "../../core/dashboard/view.ts";
import { buildReport } from "../../core/dashboard/report.ts";
import { formatLeaderboard } from "../../core/arena/leaderboard.ts";
import { rebuildState } from "../../core/ledger/account.ts";
import { buyAndHoldLedger, buyAndHoldReturn } from "../../core/metrics/benchmark.ts";
import { markPointsFromTicks } from "../../core/metrics/marks.ts";
import { computeMetrics } from "../../core/metrics/metrics.ts";
import {
  at,
  marginInputs,
  opened,
  price,
  reasoning,
  replayStream,
  sampleInputs,
  sampleLedger,
  samplePrices,
  stateOf,
  trade,
  usage,
} from "./_fixtures.ts";

/** The fee the fixtures' trades record: the view scores against it. */
const FEE_BPS = 0;

Deno.test("a redelivered ledger event is applied once", () => {
  const events = sampleLedger();
  const state = stateOf(
    [...events, ...events].map((event): DashboardInput => ({ kind: "ledger", event })),
  );
  assert.equal(state.counts.ledger, events.length);
  assert.equal(state.counts.duplicates, events.length);
  assert.equal(state.trades.length, 4);
  assert.equal(state.agents.get("brainrot-daytrader")!.trades.length, 2);
});

Deno.test("a trade that contradicts the account is refused and counted, not applied", () => {
  const state = stateOf([
    { kind: "ledger", event: opened("momentum") },
    {
      kind: "ledger",
      event: trade("momentum", {
        id: "x",
        side: "sell",
        productId: "BTC-USD",
        quantity: "1",
        price: "4000",
        minutes: 1,
      }),
    },
  ]);
  assert.equal(state.counts.rejected, 1);
  assert.match(state.rejected[0]!.reason, /closes 1 BTC-USD but the account holds 0/);
  assert.equal(state.trades.length, 0);
  assert.equal(state.ledger.accounts.get("momentum")!.cash.toString(), "100000");
});

Deno.test("accounts equal the ledger rebuilt by core/ledger", () => {
  const state = stateOf(sampleInputs());
  const rebuilt = rebuildState(sampleLedger());
  for (const [agent, account] of rebuilt.accounts) {
    assert.equal(state.ledger.accounts.get(agent)!.cash.toString(), account.cash.toString());
  }
});

Deno.test("price ticks arriving out of order keep the history sorted and the latest by time", () => {
  const state = stateOf([
    { kind: "price", tick: price("BTC-USD", "4200", 10) },
    { kind: "price", tick: price("BTC-USD", "4000", 0) },
    { kind: "price", tick: price("BTC-USD", "4100", 5) },
    { kind: "price", tick: price("BTC-USD", "4150", 5) },
  ]);
  const product = state.products.get("BTC-USD")!;
  assert.deepEqual(product.history.map((point) => point.price), ["4000", "4150", "4200"]);
  assert.equal(product.latest.price, "4200");
  assert.equal(state.clock.time, at(10));
});

Deno.test("usage activity sums tokens and cost and names the model; the feed is bounded", () => {
  const state = stateOf([
    { kind: "activity", event: usage("scalper", "gpt-5-nano", 1) },
    { kind: "activity", event: usage("scalper", "gpt-5-nano", 2) },
    ...[1, 2, 3, 4, 5].map((minute) => ({
      kind: "activity" as const,
      event: reasoning("scalper", `thought ${minute}`, minute),
    })),
  ], { activityLimit: 3 });
  const usageTotals = state.agents.get("scalper")!.usage;
  assert.equal(usageTotals.model, "gpt-5-nano");
  assert.equal(usageTotals.calls, 2);
  assert.equal(usageTotals.promptTokens + usageTotals.completionTokens, 3000);
  assert.equal(usageTotals.costUsd, 0.025);
  assert.deepEqual(
    state.activity.map((event) => event.kind === "reasoning" ? event.text : ""),
    ["thought 3", "thought 4", "thought 5"],
  );
});

Deno.test("snapshots set the market clock and tick", () => {
  const state = stateOf([{
    kind: "snapshot",
    snapshot: { tick: 7, time: at(7), source: "replay" },
  }]);
  assert.deepEqual(state.clock, { time: at(7), tick: 7, source: "replay" });
});

Deno.test("view metrics are core/metrics' figures for each agent", () => {
  const state = stateOf(sampleInputs());
  const view = buildDashboardView(state);
  const marks = markPointsFromTicks(samplePrices());
  for (const agent of view.agents) {
    const expected = computeMetrics(sampleLedger(), marks, {
      agent: agent.name,
      takerFeeBps: FEE_BPS,
    });
    assert.equal(agent.returnPct, expected.totalReturnPct, agent.name);
    assert.equal(agent.maxDrawdownPct, expected.maxDrawdownPct, agent.name);
    assert.equal(agent.sharpe, expected.sharpe, agent.name);
    assert.equal(agent.winRate, expected.winRate, agent.name);
    assert.equal(agent.equityCurve.length, expected.equityCurve.length, agent.name);
  }
  assert.equal(view.agents.find((agent) => agent.name === "brainrot-daytrader")!.winRate, 1);
});

Deno.test("the buy-and-hold row returns what core/metrics' buyAndHoldReturn says", () => {
  const marks = markPointsFromTicks(samplePrices());
  const startMs = Date.parse(at(0));
  const endMs = Date.parse(at(60));
  const events = buyAndHoldLedger(marks, { startMs, startingCash: "100000", takerFeeBps: 60 });
  const metrics = computeMetrics(events, marks, { agent: "buy-and-hold", takerFeeBps: 60 });
  const expected = buyAndHoldReturn(marks, { startMs, endMs, takerFeeBps: 60 });
  assert.equal(metrics.totalReturnPct, expected.times(100).toFixed(4));
  assert.equal(metrics.cash, "0");
  // BTC +10% and SOL -10% in equal weights, minus the 0.6% fee.
  assert.equal(metrics.totalReturnPct, "-0.6000");
});

Deno.test("the view is plain JSON with strictly increasing chart times", () => {
  const state = stateOf(sampleInputs());
  const view = buildDashboardView(state);
  const copy = JSON.parse(JSON.stringify(view));
  assert.deepEqual(copy, view);
  const series = [
    ...view.agents.map((agent) => agent.equityCurve),
    view.benchmark!.equityCurve,
    ...view.products.map((product) => product.history),
  ];
  for (const points of series) {
    assert.ok(points.length > 1);
    for (let i = 1; i < points.length; i++) assert.ok(points[i]!.time > points[i - 1]!.time);
  }
  assert.deepEqual(
    view.products.find((p) => p.productId === "BTC-USD")!.fills.map((f) => f.agent),
    [
      "momentum",
      "brainrot-daytrader",
      "brainrot-daytrader",
    ],
  );
});

Deno.test("downsample keeps at most the limit and the last point", () => {
  const points = Array.from({ length: 10_000 }, (_, i) => ({ time: i * 60, value: i }));
  const out = downsample(points, 500);
  assert.ok(out.length <= 500);
  assert.deepEqual(out.at(-1), points.at(-1));
  assert.equal(downsample(points.slice(0, 10), 500).length, 10);
});

/** Asserts a frame's rows are consistent: return from their own equity, ranks by equity. */
function assertConsistent(view: ReturnType<typeof buildDashboardView>): void {
  for (const agent of view.agents) {
    const equity = new Decimal(agent.portfolio.equity);
    const expected = equity.div(agent.portfolio.startingCash).minus(1).times(100)
      .toFixed(4, Decimal.ROUND_HALF_EVEN).replace(/^-(0\.0+)$/, "$1");
    assert.equal(agent.returnPct, expected, `${agent.name} at ${view.clock.time}`);
    const last = agent.equityCurve.at(-1)!;
    assert.equal(last.time, Math.floor(Date.parse(view.clock.time!) / 1000), "curve reaches clock");
    assert.equal(last.value, Number(agent.portfolio.equity));
  }
  for (let i = 1; i < view.agents.length; i++) {
    const [above, below] = [view.agents[i - 1]!, view.agents[i]!];
    assert.ok(new Decimal(above.portfolio.equity).gte(below.portfolio.equity), "ranked by equity");
    assert.equal(below.rank, i + 1);
  }
}

Deno.test("every live frame's rows are exact at the market clock: return, drawdown, Sharpe", () => {
  for (const lateTrades of [false, true]) {
    const { inputs, frames } = replayStream({ minutes: 150, lateTrades });
    // The arena tells its dashboard its fee: every frame, even before a trade, compares with it.
    const state = createDashboardState({ takerFeeBps: FEE_BPS });
    let applied = 0;
    frames.forEach((frame, index) => {
      while (applied <= frame) applyDashboardInput(state, inputs[applied++]!);
      const view = buildDashboardView(state, { maxPoints: 20, metricsMaxAgeMs: 1000 });
      assert.equal(view.metricsStale, false);
      assertConsistent(view);
      if (index % 37 !== 0 && index !== frames.length - 1) return;
      // Drawdown and Sharpe are core/metrics' figures over everything seen, at the same time.
      const marks = marksOf(state);
      const endMs = Date.parse(view.clock.time!);
      for (const agent of view.agents) {
        const events = state.agents.get(agent.name)!.events;
        const exact = computeMetrics(events, marks, {
          agent: agent.name,
          endMs,
          takerFeeBps: FEE_BPS,
        });
        assert.equal(agent.returnPct, exact.totalReturnPct);
        assert.equal(agent.maxDrawdownPct, exact.maxDrawdownPct);
        assert.equal(agent.maxDrawdownFromStartPct, exact.maxDrawdownFromStartPct);
        assert.equal(agent.sharpe, exact.sharpe);
        assert.equal(agent.exposurePct, exact.exposurePct);
        assert.equal(agent.excessReturnPct, exact.excessReturnPct);
      }
    });
  }
});

Deno.test("live metrics are incremental: 8,640 price ticks and 721 frames do no full recompute", () => {
  const { inputs, frames } = replayStream({ minutes: 2880, lateTrades: true });
  const state = createDashboardState();
  let applied = 0;
  // A terminal frame every fourth market minute (720 frames), then the last one.
  const drawn = frames.filter((_, index) => index % 4 === 0 || index === frames.length - 1);
  for (const frame of drawn) {
    while (applied <= frame) applyDashboardInput(state, inputs[applied++]!);
    buildDashboardView(state, {
      maxPoints: 24,
      tradeLimit: 50,
      activityLimit: 0,
      withProducts: false,
    });
  }
  assert.equal(state.counts.prices, 8640);
  const work = [...state.agents.values()].map((agent) => agent.metrics!.work);
  work.push(state.benchmark.metrics!.work);
  for (const done of work) {
    // The opening replays the marks seen so far once; a trade arriving after later prices only
    // widens the unsettled tail. A recompute per frame would cost ~frames x minutes / 2 = 4.1M.
    assert.equal(done.rebuilds, 1);
    assert.ok(done.reads <= drawn.length);
    assert.ok(done.samples <= 2880 + drawn.length * 8, `samples ${done.samples}`);
  }
  const samples = work.reduce((sum, done) => sum + done.samples, 0);
  console.log(`${drawn.length} frames, ${samples} equity samples over 4 accounts`);
});

Deno.test("decision outcomes give each agent's count of valid decisions, shown in the report", () => {
  const outcomes = ["answered", "invalid", "answered", "timeout"] as const;
  const state = stateOf([
    ...sampleInputs(),
    ...outcomes.map((outcome, index): DashboardInput => ({
      kind: "activity",
      event: {
        v: 1,
        kind: "decision",
        agent: "momentum",
        time: at(index + 1),
        tick: index + 1,
        steps: 1,
        outcome,
        skippedTicks: 0,
      },
    })),
  ]);
  const agent = state.agents.get("momentum")!;
  const before = agent.decisions - outcomes.length;
  assert.equal(agent.validDecisions - before, 2, "only answered decisions are valid");
  const row = buildReport(state).json.leaderboard.find((entry) => entry.agent === "momentum")!;
  assert.equal(row.decisions, agent.decisions);
  assert.equal(row.validPct, Math.round(1000 * agent.validDecisions / agent.decisions) / 10);
  assert.match(formatLeaderboard(buildReport(state).json).split("\n")[0]!, / valid +cost$/);
});

Deno.test("a short is marked at the ask in the portfolio and in every score", () => {
  const state = stateOf(marginInputs());
  const [row] = buildDashboardView(state).agents;
  assert.equal(row!.portfolio.equity, "97900");
  // The score's equity is the portfolio's: both value the short at the ask.
  assert.equal(row!.returnPct, "-2.1000");
  const [position] = row!.portfolio.positions;
  assert.deepEqual(
    [position!.side, position!.leverage, position!.price, position!.takeProfit],
    ["short", 5, "4260", "4100"],
  );
  // Marks carry both quotes, for the rebuilds of the running metrics.
  assert.deepEqual(marksOf(state).at(-2), {
    productId: "BTC-USD",
    timeMs: Date.parse(at(30)),
    price: "4250",
    ask: "4260",
  });
});

Deno.test("trades and fills say what each trade did, which exit closed it and its leverage", () => {
  const state = stateOf(marginInputs());
  const view = buildDashboardView(state);
  assert.deepEqual(
    view.trades.map((trade) => [trade.action, trade.cause ?? "", trade.leverage ?? 1]),
    [["short", "", 5], ["sell", "liquidation", 1], ["buy", "", 10], ["cover", "stop_loss", 1], [
      "short",
      "",
      5,
    ]],
  );
  assert.deepEqual(view.trades.map(tradeLabel), [
    "SHORT 5x",
    "SELL LIQ",
    "BUY 10x",
    "COVER STOP",
    "SHORT 5x",
  ]);
  const fills = view.products.flatMap((product) => product.fills);
  assert.deepEqual(fills.filter((fill) => fill.cause).map((fill) => fill.cause), [
    "stop_loss",
    "liquidation",
  ]);
});

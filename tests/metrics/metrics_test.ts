import assert from "node:assert/strict";
import type { LedgerEvent, TradeExecuted } from "../../core/contracts/ledger.ts";
import { accountOpenedEvent } from "../../core/ledger/mod.ts";
import {
  buyAndHoldReturn,
  computeAllMetrics,
  computeMetrics,
  equityCurve,
  type MarkPoint,
  maxDrawdown,
  Money,
  roundTrips,
  sharpeRatio,
} from "./_imports.ts";

const MIN = 60_000;
const START = Date.parse("2017-09-03T00:00:00.000Z");

function at(minutes: number): string {
  return new Date(START + minutes * MIN).toISOString();
}

function trade(
  overrides: Partial<TradeExecuted> & Pick<TradeExecuted, "side" | "quantity" | "fillPrice">,
): TradeExecuted {
  const notional = new Money(overrides.quantity).times(overrides.fillPrice);
  const fee = overrides.fee ?? "0";
  return {
    v: 1,
    type: "trade_executed",
    eventId: `e${Math.random()}`,
    agent: "a",
    toolCallId: `c${Math.random()}`,
    productId: "BTC-USD",
    quotePrice: overrides.fillPrice,
    notional: notional.toFixed(),
    fee,
    takerFeeBps: 0,
    slippageBps: 0,
    cashAfter: "0",
    time: at(0),
    ...overrides,
  };
}

const marks: MarkPoint[] = [0, 1, 2, 3, 4].map((minute) => ({
  productId: "BTC-USD",
  timeMs: START + minute * MIN,
  price: ["100", "120", "90", "110", "130"][minute]!,
}));

const events: LedgerEvent[] = [
  accountOpenedEvent("a", { cash: "1000", time: at(0) }),
  trade({ side: "buy", quantity: "5", fillPrice: "100", time: at(0), fee: "1" }),
  trade({ side: "sell", quantity: "2", fillPrice: "120", time: at(1), fee: "1" }),
  trade({ side: "sell", quantity: "3", fillPrice: "90", time: at(2), fee: "1" }),
];

Deno.test("the equity curve marks positions at each period's latest price", () => {
  const curve = equityCurve(events, marks, { agent: "a" });
  assert.deepEqual(curve.map((point) => point.equity), ["999", "1098", "1007", "1007", "1007"]);
  assert.equal(curve[0]!.marketValue, "500");
});

Deno.test("max drawdown is the largest fall from a running peak", () => {
  const fall = maxDrawdown(["100", "150", "120", "160", "80"].map((v) => new Money(v)));
  assert.equal(fall.toFixed(), "0.5");
});

Deno.test("round trips are closed by sells with buy fees shared pro rata", () => {
  const { pnl } = roundTrips(events);
  assert.equal(pnl.length, 2);
  assert.equal(pnl[0]!.toFixed(), "38.6");
  assert.equal(pnl[1]!.toFixed(), "-31.6");
});

Deno.test("Sharpe is annualised by the square root of periods per year", () => {
  const returns = [0.01, -0.005, 0.02, 0];
  const mean = 0.00625;
  const sd = Math.sqrt(
    returns.reduce((s, r) => s + (r - mean) ** 2, 0) / 3,
  );
  assert.equal(sharpeRatio(returns, 525_600), (mean / sd) * Math.sqrt(525_600));
  assert.equal(sharpeRatio([0.01], 525_600), null);
  assert.equal(sharpeRatio([0.01, 0.01], 525_600), null);
});

Deno.test("buy and hold splits cash equally and pays the same fee", () => {
  const two: MarkPoint[] = [
    ...marks,
    { productId: "ETH-USD", timeMs: START, price: "10" },
    { productId: "ETH-USD", timeMs: START + 4 * MIN, price: "5" },
  ];
  const result = buyAndHoldReturn(two, { startMs: START, endMs: START + 4 * MIN, takerFeeBps: 0 });
  assert.equal(result.toFixed(), "-0.1");
});

Deno.test("computeMetrics reports every figure of one agent", () => {
  const metrics = computeMetrics(events, marks, { agent: "a", takerFeeBps: 0 });
  assert.equal(metrics.finalEquity, "1007");
  assert.equal(metrics.totalReturnPct, "0.7000");
  assert.equal(metrics.maxDrawdownPct, "8.2878");
  assert.equal(metrics.roundTrips, 2);
  assert.equal(metrics.winRate, 0.5);
  assert.equal(metrics.feesPaid, "3");
  assert.equal(metrics.tradedNotional, "1010");
  assert.equal(metrics.turnover, "1.0100");
  assert.equal(metrics.tradeCount, 3);
  assert.equal(metrics.benchmarkReturnPct, "30.0000");
  assert.equal(metrics.excessReturnPct, "-29.3000");
  assert.equal(metrics.periodSeconds, 60);
  assert.equal(metrics.periodsPerYear, 525_600);
  assert.ok(metrics.sharpe !== null);
  assert.equal(metrics.exposurePct, "16.57");
  assert.equal(computeAllMetrics(events, marks).length, 1);
});

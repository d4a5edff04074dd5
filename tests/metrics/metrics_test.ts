import assert from "node:assert/strict";
import type { LedgerEvent, TradeExecuted } from "../../core/contracts/ledger.ts";
import { accountOpenedEvent } from "../../core/ledger/mod.ts";
import {
  at,
  breakEvenEdgePct,
  buyAndHoldReturn,
  computeAllMetrics,
  computeMetrics,
  equityCurve,
  type EquityPoint,
  markAt,
  type MarkPoint,
  maxDrawdown,
  maxDrawdownFromStart,
  MIN,
  Money,
  netReturnPct,
  periodReturns,
  resampleEquity,
  roundTrips,
  sharpeRatio,
  START,
} from "./_imports.ts";

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

const marks: MarkPoint[] = ["100", "120", "90", "110", "130"].map((bid, minute) =>
  markAt("BTC-USD", minute, { bid })
);

const events: LedgerEvent[] = [
  accountOpenedEvent("a", { cash: "1000", time: at(0) }),
  trade({ side: "buy", quantity: "5", fillPrice: "100", time: at(0), fee: "1" }),
  trade({ side: "sell", quantity: "2", fillPrice: "120", time: at(1), fee: "1" }),
  trade({ side: "sell", quantity: "3", fillPrice: "90", time: at(2), fee: "1" }),
];

Deno.test("the equity curve marks positions at each period's latest price", () => {
  const curve = equityCurve(events, marks, { agent: "a" });
  // The opening point (starting cash, before the buy at the same instant), then every minute.
  assert.deepEqual(curve.map((point) => point.equity), [
    "1000",
    "999",
    "1098",
    "1007",
    "1007",
    "1007",
  ]);
  assert.equal(curve[0]!.timeMs, curve[1]!.timeMs);
  assert.equal(curve[0]!.marketValue, "0");
  assert.equal(curve[1]!.marketValue, "500");
});

Deno.test("the equity curve has no opening point when nothing happens at the start", () => {
  const late: LedgerEvent[] = [
    accountOpenedEvent("a", { cash: "1000", time: at(0) }),
    trade({ side: "buy", quantity: "5", fillPrice: "100", time: at(1), fee: "1" }),
  ];
  const curve = equityCurve(late, marks, { agent: "a" });
  assert.deepEqual(curve.map((point) => point.equity), ["1000", "1099", "949", "1049", "1149"]);
});

Deno.test("max drawdown counts the fall from the starting cash on the first tick", () => {
  // All in with a fee at the start, then the price falls 18.5 %: the equity ends 18.5163 % under
  // the starting cash, and the drawdown is that (the old curve started after the fee: 18.4999 %).
  const falling: LedgerEvent[] = [
    accountOpenedEvent("a", { cash: "100000", time: at(0) }),
    trade({ side: "buy", quantity: "999.8", fillPrice: "100", time: at(0), fee: "20" }),
  ];
  const prices = ["100", "81.5"].map((bid, minute) => markAt("BTC-USD", minute, { bid }));
  const metrics = computeMetrics(falling, prices, { agent: "a", takerFeeBps: 0 });
  assert.equal(metrics.finalEquity, "81483.7");
  assert.equal(metrics.totalReturnPct, "-18.5163");
  assert.equal(metrics.maxDrawdownPct, "18.5163");
  assert.equal(metrics.maxDrawdownFromStartPct, "18.5163");
  assert.equal(metrics.feesPct, "0.0200");
});

Deno.test("max drawdown from start is the largest fall below the starting equity", () => {
  const equities = ["100", "90", "150", "95", "120"].map((v) => new Money(v));
  assert.equal(maxDrawdownFromStart(equities).toFixed(), "0.1");
  assert.equal(maxDrawdown(equities).toFixed(4), "0.3667");
  assert.equal(maxDrawdownFromStart(["100", "120"].map((v) => new Money(v))).toFixed(), "0");
});

Deno.test("Sharpe uses hourly returns of the curve, annualised by sqrt(8760)", () => {
  // Equity 1000 -> 1010 -> 1000 -> 1030 at whole hours, minute noise in between is ignored.
  const hourly: EquityPoint[] = [];
  const values = ["1000", "1010", "1000", "1030"];
  for (let minute = 0; minute <= 180; minute++) {
    const hour = Math.floor(minute / 60);
    const equity = minute % 60 === 0 ? values[hour]! : String(900 + (minute % 7) * 50);
    hourly.push({ timeMs: START + minute * MIN, equity, cash: equity, marketValue: "0" });
  }
  const equities = resampleEquity(hourly, 3_600_000);
  assert.deepEqual(equities.map((value) => value.toFixed()), values);
  const returns = [0.01, 1000 / 1010 - 1, 0.03];
  const sharpe = sharpeRatio(periodReturns(equities), 8760)!;
  assert.ok(Math.abs(sharpe - sharpeRatio(returns, 8760)!) < 1e-9, String(sharpe));
});

Deno.test("net return and break-even edge per decision follow their definitions", () => {
  assert.equal(netReturnPct(1.5, { costUsd: 500, startingCash: 100_000 }), 1);
  assert.equal(breakEvenEdgePct(600, { decisions: 60, startingCash: 100_000 }), 0.01);
  assert.equal(breakEvenEdgePct(600, { decisions: 0, startingCash: 100_000 }), null);
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
    markAt("ETH-USD", 0, { bid: "10" }),
    markAt("ETH-USD", 4, { bid: "5" }),
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
  assert.equal(metrics.maxDrawdownFromStartPct, "0.1000");
  assert.equal(metrics.feesPct, "0.3000");
  assert.equal(metrics.periodSeconds, 60);
  // Sharpe on hourly returns: 8760 hours a year; a 4-minute window has no whole hour.
  assert.equal(metrics.sharpePeriodSeconds, 3600);
  assert.equal(metrics.periodsPerYear, 8760);
  assert.equal(metrics.sharpe, null);
  // Exposure over 6 samples: the opening point holds nothing, then as before (16.57 % x 5 / 6).
  assert.equal(metrics.exposurePct, "13.81");
  assert.equal(computeAllMetrics(events, marks, { takerFeeBps: 0 }).length, 1);
});

Deno.test("a short is marked at the ask and a leveraged position at its margin plus P&L", () => {
  // Short 10 BTC at 100 with 5x leverage: 200 of margin locked, no fee.
  const short: LedgerEvent[] = [
    accountOpenedEvent("a", { cash: "1000", time: at(0) }),
    trade({
      side: "sell",
      quantity: "10",
      fillPrice: "100",
      time: at(0),
      position: "short",
      leverage: 5,
      margin: "200",
    }),
  ];
  const quotes = [
    markAt("BTC-USD", 0, { bid: "99", ask: "101" }),
    markAt("BTC-USD", 1, { bid: "89", ask: "90" }),
  ];
  const metrics = computeMetrics(short, quotes, { agent: "a", takerFeeBps: 0 });
  // 800 cash + 200 margin - 10 x (101 - 100), then + 10 x (100 - 90): the ask, not the bid.
  assert.deepEqual(metrics.equityCurve.map((point) => point.equity), ["1000", "990", "1100"]);
  assert.deepEqual(metrics.equityCurve.map((point) => point.marketValue), ["0", "190", "300"]);
  // Exposure is the gross notional at the mark over equity: 0, 1010 / 990, 900 / 1100.
  const mean = (0 + 1010 / 990 + 900 / 1100) / 3 * 100;
  assert.equal(metrics.exposurePct, mean.toFixed(2));
});

Deno.test("a leveraged long is worth nothing below its margin, never less", () => {
  const long: LedgerEvent[] = [
    accountOpenedEvent("a", { cash: "1000", time: at(0) }),
    trade({ side: "buy", quantity: "10", fillPrice: "100", time: at(0), leverage: 10 }),
  ];
  const quotes = ["100", "95", "85"].map((bid, minute) => markAt("BTC-USD", minute, { bid }));
  const metrics = computeMetrics(long, quotes, { agent: "a", takerFeeBps: 0 });
  // 900 cash + 100 margin, + 10 x (95 - 100), then -150 on a 100 margin: floored at 0.
  assert.deepEqual(metrics.equityCurve.map((point) => point.equity), [
    "1000",
    "1000",
    "950",
    "900",
  ]);
  // Gross notional over equity: nothing held at the opening point, then 1000 / 1000, 950 / 950
  // and 850 / 900.
  assert.equal(metrics.exposurePct, ((0 + 1 + 1 + 850 / 900) / 4 * 100).toFixed(2));
});

Deno.test("round trips close shorts and engine exits, record the cause and cap the loss at the margin", () => {
  const margin: LedgerEvent[] = [
    accountOpenedEvent("a", { cash: "10000", time: at(0) }),
    trade({
      side: "sell",
      quantity: "10",
      fillPrice: "100",
      fee: "1",
      time: at(0),
      toolCallId: "s1",
      position: "short",
      leverage: 5,
    }),
    trade({
      side: "buy",
      quantity: "10",
      fillPrice: "105",
      fee: "1",
      time: at(1),
      toolCallId: "exit:s1",
      position: "short",
      cause: "stop_loss",
    }),
    trade({
      side: "buy",
      quantity: "10",
      fillPrice: "100",
      fee: "1",
      time: at(2),
      toolCallId: "l1",
      leverage: 10,
    }),
    trade({
      side: "sell",
      quantity: "10",
      fillPrice: "85",
      fee: "1",
      time: at(3),
      toolCallId: "exit:l1",
      cause: "liquidation",
    }),
    // A second replica's exit of the position already liquidated: void, as on the ledger.
    trade({
      side: "sell",
      quantity: "10",
      fillPrice: "86",
      fee: "1",
      time: at(3),
      toolCallId: "exit:l1",
      cause: "take_profit",
    }),
    // An exit naming another position: void too.
    trade({
      side: "buy",
      quantity: "10",
      fillPrice: "100",
      fee: "1",
      time: at(4),
      toolCallId: "l2",
    }),
    trade({
      side: "sell",
      quantity: "10",
      fillPrice: "110",
      fee: "1",
      time: at(5),
      toolCallId: "exit:l1",
      cause: "take_profit",
    }),
  ];
  const { trips } = roundTrips(margin);
  assert.deepEqual(
    trips.map((trip) => [trip.side, trip.cause, trip.pnl.toFixed()]),
    [
      // Sold at 1000, bought back at 1050, two fees.
      ["short", "stop_loss", "-52"],
      // -150 on a 100 margin: the account loses its margin and the entry fee, the rest is bad debt.
      ["long", "liquidation", "-101"],
    ],
  );
  assert.equal(trips[0]!.cost.toFixed(), "1000");
  assert.equal(trips[0]!.proceeds.toFixed(), "1050");
  // The ledger agrees: its realized P&L of the two trips, fees and bad debt apart.
  const metrics = computeMetrics(margin, [], { agent: "a", takerFeeBps: 0 });
  assert.equal(metrics.realizedPnl, "-200");
  assert.equal(metrics.roundTrips, 2);
  assert.equal(metrics.winRate, 0);
});

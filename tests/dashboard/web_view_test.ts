import assert from "node:assert/strict";
import { DashboardStore } from "../../core/dashboard/store.ts";
import { buildWebView, summarizeToolCall } from "../../core/dashboard/web_view.ts";
import { buildDashboardView } from "../../core/dashboard/view.ts";
import { at, marginInputs, opened, sampleInputs, sampleStore, trade } from "./_fixtures.ts";

Deno.test("buildWebView lists a completed round trip with realized P&L and holding time", () => {
  const view = buildWebView(sampleStore().state);
  // brainrot bought 1 BTC at 4000 (minute 3) and sold it at 4100 (minute 30), no fees.
  assert.deepEqual(view.roundTrips, [{
    eventId: "trade-b2",
    agent: "brainrot-daytrader",
    productId: "BTC-USD",
    side: "long",
    cause: "agent",
    quantity: "1",
    entryPrice: "4000.00000000",
    exitPrice: "4100.00000000",
    fees: "0",
    pnl: "100",
    pnlPct: "2.50",
    openedAt: at(3),
    closedAt: at(30),
    holdMinutes: 27,
  }]);
  // The same round trips the win rate counts: one scoring path.
  const agent = view.agents.find((a) => a.name === "brainrot-daytrader")!;
  assert.equal(agent.roundTrips, 1);
  assert.equal(agent.winRate, 1);
});

Deno.test("buildWebView keeps the dashboard view's fields", () => {
  const store = sampleStore();
  const { roundTrips: _trips, feed: _feed, ...rest } = buildWebView(store.state);
  assert.deepEqual(rest, buildDashboardView(store.state));
});

Deno.test("round trips split a partial sale at the average cost and weighted open time", () => {
  const store = new DashboardStore();
  const inputs = sampleInputs().filter((input) => input.kind !== "ledger");
  for (const input of inputs) store.apply(input);
  const btc = (id: string, side: "buy" | "sell", price: string, minutes: number) =>
    trade("scalper", { id, side, productId: "BTC-USD", quantity: "1", price, minutes, fee: "6" });
  store.apply({ kind: "ledger", event: opened("scalper") });
  store.apply({ kind: "ledger", event: btc("1", "buy", "4000", 0) });
  store.apply({ kind: "ledger", event: btc("2", "buy", "4200", 20) });
  store.apply({ kind: "ledger", event: btc("3", "sell", "4300", 40) });
  const [trip] = buildWebView(store.state).roundTrips;
  // Average cost 4100, opened on average at minute 10; 6 sell fee + half of 12 buy fees.
  assert.equal(trip!.entryPrice, "4100.00000000");
  assert.equal(trip!.fees, "12");
  assert.equal(trip!.pnl, "188");
  assert.equal(trip!.holdMinutes, 30);
});

Deno.test("the feed shows reasoning as text and a tool call with its result on one line", () => {
  const store = sampleStore();
  const base = { v: 1 as const, agent: "momentum", time: at(1), tick: 1 };
  store.apply({
    kind: "activity",
    event: {
      ...base,
      kind: "tool_call",
      tool: "execute_trade",
      toolCallId: "c1",
      arguments: '{"product_id":"BTC-USD","quantity":0.5,"action":"buy"}',
      source: "text",
    },
  });
  store.apply({
    kind: "activity",
    event: {
      ...base,
      kind: "tool_result",
      tool: "execute_trade",
      toolCallId: "c1",
      ok: true,
      content: '{"status":"executed","fill_price":"4612.35","fee":"13.84"}',
    },
  });
  store.apply({
    kind: "activity",
    event: { ...base, kind: "decision", steps: 2, outcome: "answered", skippedTicks: 0 },
  });
  const feed = buildWebView(store.state).feed;
  assert.deepEqual(feed.map((item) => item.kind), ["decision", "tool_call", "reasoning"]);
  const call = feed[1]!;
  assert.equal(call.text, "buy 0.5 BTC-USD -> filled at 4,612.35, fee $13.84");
  assert.equal(call.source, "text");
  assert.equal(call.status, "ok");
  assert.deepEqual(JSON.parse(call.raw!).arguments, {
    product_id: "BTC-USD",
    quantity: 0.5,
    action: "buy",
  });
  assert.equal(feed[2]!.text, "BTC broke above its 20-minute high; buying 10 BTC.");
  assert.equal(feed[0]!.text, "answered after 2 steps");
});

Deno.test("summarizeToolCall says what was refused, pending or calculated", () => {
  assert.equal(
    summarizeToolCall(
      "execute_trade",
      '{"product_id":"SOL-USD","quantity":"1200","action":"SELL"}',
      {
        ok: false,
        content: "Quantity must be at most 0 SOL-USD held",
      },
    ),
    "sell 1,200 SOL-USD -> refused: Quantity must be at most 0 SOL-USD held",
  );
  assert.equal(summarizeToolCall("calculator", '{"expression":"2*3"}'), "calculate 2*3 -> …");
  assert.equal(
    summarizeToolCall("get_portfolio", "{}", {
      ok: true,
      content: '{"equity":"100250.5","cash":"50000"}',
    }),
    "view portfolio -> equity $100,250.50, cash $50,000.00",
  );
  assert.equal(
    summarizeToolCall("execute_trade", "{not json", undefined),
    "execute_trade({not json) -> …",
  );
});

Deno.test("round trips and the feed name the engine's exits; a short closes when bought back", () => {
  const store = new DashboardStore();
  for (const input of marginInputs()) store.apply(input);
  const view = buildWebView(store.state);
  assert.deepEqual(
    view.roundTrips.map((trip) => [trip.side, trip.cause, trip.pnl]),
    [
      // Liquidated: the $200 margin is lost, not the $210 the price fell (the rest is bad debt).
      ["long", "liquidation", "-200"],
      // Sold at 4,000 and bought back at 4,210.
      ["short", "stop_loss", "-2100"],
    ],
  );
  const exits = view.feed.filter((item) => item.kind === "exit");
  assert.deepEqual(exits.map((item) => item.cause), ["liquidation", "stop_loss"]);
  assert.equal(
    exits[0]!.text,
    "LIQ: sold 100 SOL-USD at 17.90, long closed, fee $0.00, bad debt $10.00",
  );
  assert.equal(exits[1]!.text, "STOP: bought back 10 BTC-USD at 4,210.00, short closed, fee $0.00");
});

Deno.test("a tool call line shows the margin terms of the order", () => {
  assert.equal(
    summarizeToolCall(
      "execute_trade",
      '{"product_id":"BTC-USD","quantity":2,"action":"sell","leverage":5,"stop_loss":4400,"take_profit":"3900"}',
    ),
    "sell 2 BTC-USD 5x stop 4,400.00 target 3,900.00 -> …",
  );
});

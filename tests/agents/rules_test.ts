import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import fc from "fast-check";
import {
  decideBrainrot,
  decideMomentum,
  decideScalper,
  exitLevels,
  POLICY_LEVERAGE,
  productTrend,
  roundDownQuantity,
  roundTripFee,
  signalConfidence,
} from "../../core/agents/rules.ts";
import { falling, portfolio, position, product, rising, snapshot } from "./_snapshots.ts";

Deno.test("rounding keeps quantities on the product increment, rounding down", () => {
  assert.equal(roundDownQuantity("BTC-USD", "0.123456789"), "0.12345678");
  assert.equal(roundDownQuantity("FARTCOIN-USD", "12.39"), "12.3");
  assert.equal(roundDownQuantity("BTC-USD", "0.000000009"), "0");
});

Deno.test("trend is the change from the first open to the last close per window", () => {
  const trend = productTrend(product("BTC-USD", { m15: [100, 110], m5: [100, 90], m1: [50] }));
  assert.ok(Math.abs(trend.m15 - 0.1) < 1e-12);
  assert.ok(Math.abs(trend.m5 + 0.1) < 1e-12);
  assert.equal(trend.m1, 0);
});

Deno.test("momentum buys a fifth of equity when all three timeframes rise", () => {
  const market = snapshot([product("BTC-USD", rising(4000)), product("ETH-USD", falling(300))]);
  const decision = decideMomentum(market, portfolio("100000"));
  assert.equal(decision.orders.length, 1);
  const order = decision.orders[0]!;
  assert.equal(order.productId, "BTC-USD");
  assert.equal(order.action, "buy");
  const notional = new Decimal(order.quantity).times(4000);
  assert.ok(notional.gt(19_000) && notional.lte(20_000), `notional ${notional}`);
  assert.match(
    decision.summary,
    /^rules \(momentum\): buy .* BTC-USD \(momentum up on 3 timeframes/,
  );
});

Deno.test("momentum sells a position on a reversal of the 5m and 1m windows", () => {
  const market = snapshot([
    product("BTC-USD", { m15: [3000, 3500, 4000], m5: [4100, 4050, 4000], m1: [4020, 4010, 4000] }),
  ]);
  const decision = decideMomentum(market, portfolio("50000", [position("BTC-USD", "2.5", "3900")]));
  assert.deepEqual(decision.orders.map((order) => [order.action, order.quantity]), [[
    "sell",
    "2.5",
  ]]);
  assert.match(decision.orders[0]!.reason, /reversal/);
});

Deno.test("momentum holds a winner while the trend is intact and does nothing in chop", () => {
  const up = snapshot([product("BTC-USD", rising(4000))]);
  assert.equal(
    decideMomentum(up, portfolio("50000", [position("BTC-USD", "1", "3000")])).orders.length,
    0,
  );
  const chop = snapshot([product("BTC-USD", { m15: [100, 90], m5: [100, 101], m1: [100, 99] })]);
  const idle = decideMomentum(chop, portfolio("100000"));
  assert.equal(idle.orders.length, 0);
  assert.match(idle.summary, /holding/);
});

Deno.test("momentum skips stale products", () => {
  const market = snapshot([product("BTC-USD", rising(4000), { stale: true })]);
  assert.equal(decideMomentum(market, portfolio("100000")).orders.length, 0);
});

Deno.test("brainrot puts half its cash into the hardest 1m pump", () => {
  const market = snapshot([
    product("BTC-USD", { m15: [1], m5: [1], m1: [100, 101] }),
    product("ETH-USD", { m15: [1], m5: [1], m1: [100, 110] }),
  ]);
  const decision = decideBrainrot(market, portfolio("80000"));
  assert.equal(decision.orders.length, 1);
  assert.equal(decision.orders[0]!.productId, "ETH-USD");
  const notional = new Decimal(decision.orders[0]!.quantity).times(110);
  assert.ok(notional.gt(39_000) && notional.lte(40_000), `notional ${notional}`);
});

Deno.test("brainrot never sells at a loss, however deep", () => {
  const market = snapshot([product("BTC-USD", falling(2000))]);
  const decision = decideBrainrot(market, portfolio("0", [position("BTC-USD", "10", "4000")]));
  assert.equal(decision.orders.filter((order) => order.action === "sell").length, 0);
});

Deno.test("brainrot takes profit at 5 % above cost on a position without a desk target", () => {
  const market = snapshot([product("BTC-USD", falling(4300))]);
  const decision = decideBrainrot(market, portfolio("0", [position("BTC-USD", "10", "4000")]));
  assert.deepEqual(decision.orders.map((order) => [order.action, order.quantity]), [[
    "sell",
    "10",
  ]]);
});

const FRICTIONLESS = { takerFeeBps: 0 };

Deno.test("scalper without fees exits a position without desk levels at +0.3 % and -0.2 % of bid vs cost", () => {
  const flat = { m15: [100], m5: [100], m1: [100, 100, 100] };
  const win = decideScalper(
    snapshot([product("BTC-USD", flat, { bid: 1003.1, ask: 1003.2 })]),
    portfolio("95000", [position("BTC-USD", "5", "1000")]),
    FRICTIONLESS,
  );
  assert.deepEqual(win.orders.map((order) => [order.action, order.quantity]), [["sell", "5"]]);
  assert.match(win.orders[0]!.reason, /take profit/);
  const loss = decideScalper(
    snapshot([product("BTC-USD", flat, { bid: 997.9, ask: 998 })]),
    portfolio("95000", [position("BTC-USD", "5", "1000")]),
    FRICTIONLESS,
  );
  assert.match(loss.orders[0]!.reason, /stop loss/);
  const hold = decideScalper(
    snapshot([product("BTC-USD", flat, { bid: 1001, ask: 1001.1 })]),
    portfolio("95000", [position("BTC-USD", "5", "1000")]),
    FRICTIONLESS,
  );
  assert.equal(hold.orders.length, 0);
});

Deno.test("scalper at 60 bps a side takes +0.3 % only net of the 1.2 % round trip", () => {
  const flat = { m15: [100], m5: [100], m1: [100, 100, 100] };
  const held = portfolio("95000", [position("BTC-USD", "5", "1000")]);
  const at = (bid: number, options = {}) =>
    decideScalper(snapshot([product("BTC-USD", flat, { bid, ask: bid + 0.1 })]), held, options);
  // +0.31 % used to be a "win" that lost 0.89 % after fees: now it holds (default fee 60 bps).
  assert.equal(at(1003.1).orders.length, 0);
  assert.equal(at(1003.1, { takerFeeBps: 60 }).orders.length, 0);
  assert.equal(at(1014.9).orders.length, 0);
  assert.match(at(1015).orders[0]!.reason, /take profit at \+1\.50%/);
  // The stop scales with the target: -1.0 % at 60 bps (a -0.5 % dip is held).
  assert.equal(at(995).orders.length, 0);
  assert.match(at(990).orders[0]!.reason, /stop loss at -1\.00%/);
  // A 10 bps desk: target 0.3 % + 0.2 % = 0.5 %.
  assert.equal(at(1004.9, { takerFeeBps: 10 }).orders.length, 0);
  assert.match(at(1005, { takerFeeBps: 10 }).orders[0]!.reason, /take profit/);
});

Deno.test("scalper at 60 bps holds up to 75 minutes instead of 15", () => {
  const flat = { m15: [100], m5: [100], m1: [100, 100, 100] };
  const market = snapshot([product("BTC-USD", flat, { bid: 1000, ask: 1000 })]);
  const after = (minutes: number) =>
    decideScalper(
      market,
      portfolio("95000", [position("BTC-USD", "5", "1000", { holdMinutes: minutes })]),
    );
  assert.equal(after(16).orders.length, 0);
  assert.equal(after(74).orders.length, 0);
  assert.match(after(75).orders[0]!.reason, /held 75 min/);
});

Deno.test("momentum at 60 bps buys only a 15m trend larger than the round trip", () => {
  const weak = { m15: [4000, 4010, 4040], m5: [4040, 4045, 4050], m1: [4050, 4055, 4060] };
  const market = snapshot([product("BTC-USD", weak)]);
  // 15m change +1.0 % < 1.2 %: no trade at 60 bps, a buy without fees.
  assert.equal(decideMomentum(market, portfolio("100000")).orders.length, 0);
  assert.equal(decideMomentum(market, portfolio("100000"), FRICTIONLESS).orders.length, 1);
  assert.equal(decideMomentum(market, portfolio("100000"), { takerFeeBps: 40 }).orders.length, 1);
});

Deno.test("brainrot at 60 bps takes the W only at +5 % after the round trip", () => {
  const held = portfolio("0", [position("BTC-USD", "10", "4000")]);
  const at = (bid: number, options = {}) =>
    decideBrainrot(snapshot([product("BTC-USD", falling(bid), { bid, ask: bid })]), held, options)
      .orders.filter((order) => order.action === "sell").length;
  assert.equal(at(4220), 0);
  assert.equal(at(4220, FRICTIONLESS), 1);
  assert.equal(at(4250), 1);
});

Deno.test("roundTripFee is twice the taker fee and rejects negative fees", () => {
  assert.equal(roundTripFee(), 0.012);
  assert.equal(roundTripFee({ takerFeeBps: 0 }), 0);
  assert.equal(roundTripFee({ takerFeeBps: 25 }), 0.005);
  assert.throws(() => roundTripFee({ takerFeeBps: -1 }), /Taker fee must be 0 bps or more, got -1/);
});

Deno.test("scalper closes a position held 15 minutes and enters small on three rising closes", () => {
  const flat = { m15: [100], m5: [100], m1: [100, 100, 100] };
  const old = decideScalper(
    snapshot([product("BTC-USD", flat, { bid: 1000, ask: 1000 })]),
    portfolio("95000", [position("BTC-USD", "5", "1000", { holdMinutes: 16 })]),
    FRICTIONLESS,
  );
  assert.match(old.orders[0]!.reason, /held 16 min/);
  const entry = decideScalper(
    snapshot([product("ETH-USD", { m15: [1], m5: [1], m1: [300, 301, 302] })]),
    portfolio("100000"),
  );
  assert.equal(entry.orders[0]!.action, "buy");
  const notional = new Decimal(entry.orders[0]!.quantity).times(302);
  assert.ok(notional.gt(4_900) && notional.lte(5_000), `notional ${notional}`);
});

Deno.test("policies are deterministic: same input, same decision", () => {
  const market = snapshot([product("BTC-USD", rising(4000)), product("ETH-USD", rising(300))]);
  const book = portfolio("100000");
  for (const decide of [decideMomentum, decideBrainrot, decideScalper]) {
    assert.deepEqual(decide(market, book), decide(structuredClone(market), structuredClone(book)));
  }
});

Deno.test("buys never exceed cash including a 60 bps fee", () => {
  const market = snapshot([product("BTC-USD", rising(4000)), product("ETH-USD", rising(300))]);
  const book = portfolio("1000", [], "100000");
  for (const decide of [decideMomentum, decideBrainrot, decideScalper]) {
    let spent = new Decimal(0);
    for (const order of decide(market, book).orders) {
      const ask = order.productId === "BTC-USD" ? 4000 : 300;
      spent = spent.plus(new Decimal(order.quantity).times(ask).times(1.006));
    }
    assert.ok(spent.lte(1000), `${decide.name} spent ${spent}`);
  }
});

/** A position the desk holds exit levels for. */
function planned(
  quantity: string,
  averageCost: string,
  levels: { stopLoss?: string; takeProfit?: string; holdMinutes?: number },
) {
  return {
    ...position("BTC-USD", quantity, averageCost, { holdMinutes: levels.holdMinutes }),
    stopLoss: levels.stopLoss,
    takeProfit: levels.takeProfit,
  };
}

Deno.test("signalConfidence is 0.5 plus 0.4 x the signal's share of full scale, two decimals", () => {
  assert.equal(signalConfidence(0, 0.01), 0.5);
  assert.equal(signalConfidence(-0.3, 0.01), 0.5);
  assert.equal(signalConfidence(0.0025, 0.01), 0.6);
  assert.equal(signalConfidence(0.00333, 0.01), 0.63);
  assert.equal(signalConfidence(0.05, 0.01), 0.9);
  assert.throws(() => signalConfidence(0.1, 0), /Full scale must be positive, got 0/);
});

Deno.test("scalper states a +1.5 % target, a -1 % stop from the ask and its confidence", () => {
  const decision = decideScalper(
    snapshot([product("ETH-USD", { m15: [1], m5: [1], m1: [300, 300.3, 300.6] }, {
      bid: 300.59,
      ask: 300.61,
    })]),
    portfolio("100000"),
  );
  const order = decision.orders[0]!;
  assert.equal(order.action, "buy");
  // 300.61 x 1.015 = 305.11915 and x 0.99 = 297.6039, to the quote's 2 decimals (6 digits: 3).
  assert.equal(order.takeProfit, "305.119");
  assert.equal(order.stopLoss, "297.604");
  // A 0.2 % rise over three closes is 0.4 of the 0.5 % full scale.
  assert.equal(order.confidence, 0.66);
  const steep = decideScalper(
    snapshot([product("ETH-USD", { m15: [1], m5: [1], m1: [300, 302, 304] })]),
    portfolio("100000"),
  );
  assert.equal(steep.orders[0]!.confidence, 0.9);
});

Deno.test("scalper leaves its stop and target to the desk but still exits at the hold limit", () => {
  const flat = { m15: [100], m5: [100], m1: [100, 100, 100] };
  const held = (holdMinutes: number) =>
    portfolio("95000", [
      planned("5", "1000", { stopLoss: "990", takeProfit: "1015", holdMinutes }),
    ]);
  for (const bid of [1020, 985]) {
    const market = snapshot([product("BTC-USD", flat, { bid, ask: bid + 0.1 })]);
    assert.equal(decideScalper(market, held(5)).orders.length, 0, `bid ${bid}`);
  }
  const market = snapshot([product("BTC-USD", flat, { bid: 1000, ask: 1000.1 })]);
  assert.match(decideScalper(market, held(75)).orders[0]!.reason, /held 75 min/);
});

Deno.test("scalper skips an entry whose stop would not be under the bid (spread wider than it)", () => {
  const market = snapshot([
    product("BTC-USD", { m15: [1], m5: [1], m1: [980, 985, 990] }, { bid: 990, ask: 1000 }),
  ]);
  assert.equal(decideScalper(market, portfolio("100000")).orders.length, 0);
});

Deno.test("momentum states a stop 2 % under the ask, no target, and a confidence from the trend", () => {
  const decision = decideMomentum(
    snapshot([product("BTC-USD", rising(4000), { bid: 3999.5, ask: 4000.5 })]),
    portfolio("100000"),
  );
  const order = decision.orders[0]!;
  assert.equal(order.stopLoss, "3920.49");
  assert.equal(order.takeProfit, undefined);
  // 15m +4.44 % is 3.24 % beyond the 1.2 % round trip: 0.81 of the 4 % full scale.
  assert.equal(order.confidence, 0.82);
  const weaker = decideMomentum(
    snapshot([product("BTC-USD", { m15: [4000, 4040, 4080], m5: [1, 2], m1: [1, 2] })]),
    portfolio("100000"),
  );
  assert.equal(weaker.orders[0]!.confidence, 0.58);
});

Deno.test("momentum leaves a stopped position to the desk but sells it on a reversal", () => {
  const held = portfolio("50000", [planned("2.5", "4000", { stopLoss: "3920" })]);
  const sinking = { m15: [3000, 3500, 3800], m5: [3700, 3750, 3800], m1: [3790, 3795, 3800] };
  assert.equal(decideMomentum(snapshot([product("BTC-USD", sinking)]), held).orders.length, 0);
  const reversal = { m15: [3000, 3500, 3800], m5: [3900, 3850, 3800], m1: [3820, 3810, 3800] };
  const sell = decideMomentum(snapshot([product("BTC-USD", reversal)]), held).orders;
  assert.deepEqual(sell.map((order) => [order.action, order.quantity]), [["sell", "2.5"]]);
  assert.equal(sell[0]!.stopLoss, undefined, "sales state no levels");
  // Without a desk stop the policy still cuts the loser itself.
  const bare = portfolio("50000", [position("BTC-USD", "2.5", "4000")]);
  assert.match(
    decideMomentum(snapshot([product("BTC-USD", sinking)]), bare).orders[0]!.reason,
    /cutting a loser at -5\.00%/,
  );
});

Deno.test("brainrot states a target 6.2 % over its average cost after the buy and no stop", () => {
  const market = snapshot([product("BTC-USD", { m15: [1], m5: [1], m1: [3900, 4000] })]);
  const fresh = decideBrainrot(market, portfolio("80000")).orders[0]!;
  assert.equal(fresh.takeProfit, "4248");
  assert.equal(fresh.stopLoss, undefined);
  // 1m +2.56 % is beyond the 2 % full scale.
  assert.equal(fresh.confidence, 0.9);
  // Averaging down: 10 at 5000 plus 9.90099009 at 4000 average 4502.4876 (x 1.062: 4781.6418).
  const added = decideBrainrot(
    market,
    portfolio("80000", [planned("10", "5000", { takeProfit: "5310" })]),
  ).orders[0]!;
  assert.equal(added.quantity, "9.90099009");
  assert.equal(added.takeProfit, "4781.64");
});

Deno.test("brainrot leaves a position with a desk target to the desk, however high", () => {
  const market = snapshot([product("BTC-USD", falling(5000))]);
  const held = portfolio("0", [planned("10", "4000", { takeProfit: "4248" })]);
  assert.equal(decideBrainrot(market, held).orders.length, 0);
});

Deno.test("exit levels keep the quote's decimals or six significant digits", () => {
  const plan = { reason: "", stop: 0.01, target: 0.015, confidence: 0.5 };
  assert.deepEqual(exitLevels(new Decimal("4652.51"), { closingQuote: "4652.50", plan }), {
    stopLoss: "4605.98",
    takeProfit: "4722.3",
  });
  assert.deepEqual(exitLevels(new Decimal("0.5"), { closingQuote: "0.5", plan }), {
    stopLoss: "0.495",
    takeProfit: "0.5075",
  });
});

Deno.test("exit levels are never on the wrong side of the bid", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 10_000_000 }),
    fc.integer({ min: 0, max: 5 }),
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 1, max: 500 }),
    fc.integer({ min: 1, max: 500 }),
    (units, decimals, spreadBps, stopBps, targetBps) => {
      const ask = new Decimal(units).div(new Decimal(10).pow(decimals));
      const bid = ask.times(1 - spreadBps / 10_000).toDecimalPlaces(decimals, Decimal.ROUND_DOWN);
      if (bid.lte(0)) return;
      const plan = {
        reason: "",
        stop: stopBps / 10_000,
        target: targetBps / 10_000,
        confidence: 1,
      };
      const levels = exitLevels(ask, { closingQuote: bid.toFixed(decimals), plan });
      if (!levels) return;
      assert.ok(new Decimal(levels.stopLoss!).lt(bid), `stop ${levels.stopLoss} bid ${bid}`);
      assert.ok(new Decimal(levels.takeProfit!).gt(bid), `target ${levels.takeProfit}`);
    },
  ));
});

const MARGIN = { allowShort: true, maxLeverage: 10 };

Deno.test("momentum sells short three falling windows only when the desk allows shorts", () => {
  const market = snapshot([product("BTC-USD", falling(4000), { bid: 3999.5, ask: 4000.5 })]);
  assert.equal(decideMomentum(market, portfolio("100000")).orders.length, 0, "spot: no short");
  const [order] = decideMomentum(market, portfolio("100000"), { allowShort: true }).orders;
  assert.equal(order!.action, "sell");
  assert.equal(order!.leverage, undefined, "no leverage field at the desk's maximum of 1");
  // A fifth of equity at the bid with 1 % fee headroom: 20,000 / (3999.5 x 1.01), rounded down.
  assert.equal(order!.quantity, "4.95111393");
  // 2 % over the bid it sells at, above the ask; no target.
  assert.equal(order!.stopLoss, "4079.49");
  assert.equal(order!.takeProfit, undefined);
  // 15m -3.64 % is 2.44 % beyond the 1.2 % round trip: 0.61 of the 4 % full scale.
  assert.equal(order!.confidence, 0.74);
  assert.match(order!.reason, /momentum down on 3 timeframes/);
});

Deno.test("momentum covers a short when the 5m and 1m windows turn up, and cuts it at -2 % without a desk stop", () => {
  const short = { ...position("BTC-USD", "2.5", "4000"), side: "short" as const };
  const turning = { m15: [4400, 4200, 4000], m5: [3900, 3950, 4000], m1: [3980, 3990, 4000] };
  const cover = decideMomentum(snapshot([product("BTC-USD", turning)]), portfolio("50000", [short]))
    .orders;
  assert.deepEqual(cover.map((order) => [order.action, order.quantity]), [["buy", "2.5"]]);
  assert.match(cover[0]!.reason, /reversal/);
  const squeezed = { m15: [3900, 4000, 4100], m5: [4200, 4150, 4100], m1: [4120, 4110, 4100] };
  const cut = decideMomentum(
    snapshot([product("BTC-USD", squeezed)]),
    portfolio("50000", [short]),
    MARGIN,
  ).orders;
  assert.deepEqual(cut.map((order) => [order.action, order.quantity]), [["buy", "2.5"]]);
  assert.match(cut[0]!.reason, /cutting a loser at -2\.50%/);
  const stopped = { ...short, stopLoss: "4080" };
  assert.equal(
    decideMomentum(snapshot([product("BTC-USD", squeezed)]), portfolio("50000", [stopped]), MARGIN)
      .orders.length,
    0,
    "a short with a desk stop is left to the desk",
  );
});

Deno.test("each policy borrows its own leverage, capped by the desk, with its share of equity as margin", () => {
  const up = snapshot([product("BTC-USD", rising(4000))]);
  const leverageOf = (order: { leverage?: number } | undefined) => order?.leverage ?? 1;
  const momentum = decideMomentum(up, portfolio("100000"), MARGIN).orders[0]!;
  assert.equal(momentum.leverage, POLICY_LEVERAGE.momentum);
  // 20,000 of margin and fee at 2x: 20,000 / (4000 x (1/2 + 0.01)).
  assert.equal(momentum.quantity, "9.80392156");
  assert.equal(leverageOf(decideMomentum(up, portfolio("100000")).orders[0]), 1);
  const pump = snapshot([product("BTC-USD", { m15: [1], m5: [1], m1: [3900, 4000] })]);
  assert.equal(decideBrainrot(pump, portfolio("80000"), MARGIN).orders[0]!.leverage, 10);
  assert.equal(
    decideBrainrot(pump, portfolio("80000"), { maxLeverage: 3 }).orders[0]!.leverage,
    3,
    "the desk's maximum caps the policy's leverage",
  );
  const scalp = snapshot([product("BTC-USD", { m15: [1], m5: [1], m1: [4000, 4004, 4008] })]);
  assert.equal(decideScalper(scalp, portfolio("100000"), MARGIN).orders[0]!.leverage, 3);
});

Deno.test("a short's exit levels: stop over the entry and target under it, both beyond the ask", () => {
  const plan = { reason: "", stop: 0.02, target: 0.03, confidence: 0.5 };
  assert.deepEqual(
    exitLevels(new Decimal("4000"), { closingQuote: "4000.5", side: "short", plan }),
    { stopLoss: "4080", takeProfit: "3880" },
  );
  // A spread wider than the stop: the stop would not be over the ask, so no entry.
  assert.equal(
    exitLevels(new Decimal("4000"), { closingQuote: "4090", side: "short", plan }),
    undefined,
  );
});

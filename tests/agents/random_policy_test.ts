import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import {
  decideRandom,
  randomSchedule,
  type RandomTarget,
} from "../../core/agents/random_policy.ts";
import { portfolio, position, product, rising, snapshot } from "./_snapshots.ts";

const target: RandomTarget = { trades: 7, notional: "70000", ticks: 12, seed: 42 };

Deno.test("randomSchedule places exactly the target's trades, the same way for a seed", () => {
  const schedule = randomSchedule(target);
  assert.equal(schedule.length, 12);
  assert.equal(schedule.reduce((sum, count) => sum + count, 0), 7);
  assert.deepEqual(randomSchedule(target), schedule);
  assert.notDeepEqual(randomSchedule({ ...target, seed: 43 }), schedule);
  assert.deepEqual(randomSchedule({ ...target, trades: 0 }), new Array(12).fill(0));
  assert.throws(() => randomSchedule({ ...target, ticks: 0 }), /Ticks must be a positive integer/);
});

Deno.test("decideRandom trades only on scheduled ticks, notional / trades each", () => {
  const schedule = randomSchedule(target);
  const market = [product("BTC-USD", rising(4000)), product("ETH-USD", rising(300))];
  let orders = 0;
  for (let tick = 1; tick <= 12; tick++) {
    const decision = decideRandom({
      snapshot: snapshot(market, tick),
      portfolio: portfolio("100000"),
    }, {
      target,
    });
    assert.equal(decision.orders.length, schedule[tick - 1]);
    for (const order of decision.orders) {
      // Flat: every order is a buy of about 10,000 USD (70,000 / 7), on the increment.
      assert.equal(order.action, "buy");
      const ask = order.productId === "BTC-USD" ? 4000 : 300;
      const notional = new Decimal(order.quantity).times(ask);
      assert.ok(notional.gt(9_990) && notional.lte(10_000), `notional ${notional}`);
    }
    orders += decision.orders.length;
  }
  assert.equal(orders, 7);
});

Deno.test("decideRandom sells from holdings when it cannot buy, never more than it holds", () => {
  const busy = { ...target, trades: 24, ticks: 1 };
  const market = snapshot([product("BTC-USD", rising(4000))], 1);
  const decision = decideRandom({
    snapshot: market,
    portfolio: portfolio("5", [position("BTC-USD", "1.5", "3900")]),
  }, { target: busy });
  assert.ok(decision.orders.length > 0);
  // The first order must be a sale (5 USD buys nothing); holdings never go below zero.
  assert.equal(decision.orders[0]!.action, "sell");
  let held = new Decimal(1.5);
  for (const order of decision.orders) {
    held = order.action === "sell" ? held.minus(order.quantity) : held.plus(order.quantity);
    assert.ok(held.gte(0), `held ${held}`);
  }
  assert.deepEqual(
    decideRandom({
      snapshot: market,
      portfolio: portfolio("5", [position("BTC-USD", "1.5", "3900")]),
    }, {
      target: busy,
    }),
    decision,
    "deterministic for the same input",
  );
});

Deno.test("decideRandom states a seeded confidence from 0.5 to 0.9 on buys only, no exit levels", () => {
  const market = [product("BTC-USD", rising(4000)), product("ETH-USD", rising(300))];
  const busy = { ...target, trades: 40, notional: "40000" };
  const confidences: number[] = [];
  for (let tick = 1; tick <= 12; tick++) {
    const input = { snapshot: snapshot(market, tick), portfolio: portfolio("100000") };
    const decision = decideRandom(input, { target: busy });
    assert.deepEqual(decideRandom(input, { target: busy }), decision, "deterministic");
    for (const order of decision.orders) {
      assert.equal(order.stopLoss, undefined);
      assert.equal(order.takeProfit, undefined);
      if (order.action === "sell") {
        assert.equal(order.confidence, undefined, "a sale states no confidence");
        continue;
      }
      assert.ok(order.confidence! >= 0.5 && order.confidence! <= 0.9, `${order.confidence}`);
      confidences.push(order.confidence!);
    }
  }
  assert.ok(confidences.length >= 12, `${confidences.length} buys`);
  assert.ok(new Set(confidences).size >= 8, `confidences vary: ${confidences}`);
});

Deno.test("on a spot desk the margin options change nothing; with shorts on new positions go either way", () => {
  const market = [product("BTC-USD", rising(4000)), product("ETH-USD", rising(300))];
  const busy = { ...target, trades: 40, notional: "40000" };
  const sides = new Set<string>();
  for (let tick = 1; tick <= 12; tick++) {
    const input = { snapshot: snapshot(market, tick), portfolio: portfolio("100000") };
    const spot = decideRandom(input, { target: busy });
    assert.deepEqual(
      decideRandom(input, { target: busy, allowShort: false, maxLeverage: 1 }),
      spot,
      "the spot trader is unchanged",
    );
    const margin = decideRandom(input, { target: busy, allowShort: true, maxLeverage: 1 });
    // The side is a draw of its own: the same products and sizes, possibly sold short.
    assert.deepEqual(
      margin.orders.map((order) => [order.productId, order.quantity, order.confidence]),
      spot.orders.map((order) => [order.productId, order.quantity, order.confidence]),
    );
    for (const order of margin.orders) sides.add(order.action);
  }
  assert.deepEqual([...sides].sort(), ["buy", "sell"], "both longs and shorts opened");
});

Deno.test("the random trader borrows the least leverage that matches its turnover, and covers a short with a buy", () => {
  const market = snapshot([product("BTC-USD", rising(4000))], 1);
  // 300,000 USD per trade with 100,000 of cash: 3x needs 102,100 with the fee, 4x 77,100.
  const large = { trades: 1, notional: "300000", ticks: 1, seed: 7 };
  const [entry] = decideRandom(
    { snapshot: market, portfolio: portfolio("100000") },
    { target: large, maxLeverage: 10 },
  ).orders;
  assert.equal(entry!.leverage, 4);
  assert.equal(new Decimal(entry!.quantity).times(4000).toNumber(), 300_000);
  const capped = decideRandom(
    { snapshot: market, portfolio: portfolio("100000") },
    { target: large, maxLeverage: 2 },
  ).orders[0]!;
  assert.equal(capped.leverage, 2, "the desk's maximum caps it; the size shrinks to fit");
  assert.ok(new Decimal(capped.quantity).times(4000).lt(200_000));
  const short = {
    ...position("BTC-USD", "2", "4100"),
    side: "short" as const,
    margin: "8200",
  };
  const cover = decideRandom(
    { snapshot: market, portfolio: portfolio("5", [short]) },
    { target: { trades: 1, notional: "4000", ticks: 1, seed: 7 }, allowShort: true },
  ).orders;
  assert.deepEqual(cover.map((order) => [order.action, order.quantity]), [["buy", "1"]]);
});

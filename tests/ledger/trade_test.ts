import assert from "node:assert/strict";
import {
  accountOpenedEvent,
  applyEvent,
  createLedgerState,
  DEFAULT_TRADE_CONFIG,
  executeTrade,
  maxAffordableQuantity,
  Money,
  parseQuantity,
  quoteAgeRefusal,
  reconcile,
  type TradeConfig,
  type TradeRequest,
} from "../../core/ledger/mod.ts";
import { tick } from "./_fixtures.ts";

const T0 = "2017-09-03T12:00:00.000Z";

function freshState(cash = "100000") {
  const state = createLedgerState();
  applyEvent(state, accountOpenedEvent("alice", { cash, time: T0 }));
  return state;
}

function request(overrides: Partial<TradeRequest>): TradeRequest {
  return {
    agent: "alice",
    toolCallId: "call_1",
    productId: "BTC-USD",
    quantity: "1",
    action: "buy",
    ...overrides,
  };
}

const btc = tick("BTC-USD", { bid: "4650", ask: "4652.69" });

Deno.test("a buy fills at the best ask and charges the taker fee exactly", () => {
  const state = freshState();
  const decision = executeTrade(state.accounts.get("alice")!, request({ quantity: "0.5" }), {
    price: btc,
    config: DEFAULT_TRADE_CONFIG,
  });
  assert.ok(decision.ok);
  assert.equal(decision.event.fillPrice, "4652.69");
  assert.equal(decision.event.notional, "2326.345");
  assert.equal(decision.event.fee, "13.95807");
  assert.equal(decision.event.cashAfter, "97659.69693");
  assert.equal(decision.event.eventId, "trade:alice:call_1");
  applyEvent(state, decision.event);
  const account = state.accounts.get("alice")!;
  assert.equal(account.cash.toFixed(), "97659.69693");
  assert.ok(reconcile(account).ok);
});

Deno.test("a sell fills at the best bid with slippage against the seller", () => {
  const state = freshState();
  const config: TradeConfig = { takerFeeBps: 0, slippageBps: 10 };
  const buy = executeTrade(state.accounts.get("alice")!, request({ quantity: 2 }), {
    price: btc,
    config,
  });
  assert.ok(buy.ok);
  assert.equal(buy.event.fillPrice, "4657.34269");
  applyEvent(state, buy.event);
  const sell = executeTrade(
    state.accounts.get("alice")!,
    request({ toolCallId: "call_2", quantity: "1", action: "sell" }),
    { price: btc, config },
  );
  assert.ok(sell.ok);
  assert.equal(sell.event.quotePrice, "4650");
  assert.equal(sell.event.fillPrice, "4645.35");
  assert.equal(sell.event.slippageBps, 10);
  applyEvent(state, sell.event);
  const account = state.accounts.get("alice")!;
  assert.equal(account.realizedPnl.toFixed(), "-11.99269");
  assert.ok(reconcile(account).ok);
});

Deno.test("a zero fee reproduces the original's frictionless fills", () => {
  const state = freshState();
  const decision = executeTrade(state.accounts.get("alice")!, request({ quantity: "1" }), {
    price: btc,
    config: { takerFeeBps: 0, slippageBps: 0 },
  });
  assert.ok(decision.ok);
  assert.equal(decision.event.fee, "0");
  assert.equal(decision.event.cashAfter, "95347.31");
});

Deno.test("a buy that cash cannot cover is refused with the most that can be bought", () => {
  const state = freshState("1000");
  const decision = executeTrade(state.accounts.get("alice")!, request({ quantity: "1" }), {
    price: btc,
    config: DEFAULT_TRADE_CONFIG,
  });
  assert.equal(decision.ok, false);
  assert.ok(!decision.ok);
  assert.match(decision.reason, /Insufficient cash/);
  assert.match(decision.reason, /cash is 1000\.00 USD/);
  assert.match(decision.reason, /buy at most 0\.21364754 BTC-USD/);
  const max = new Money("0.21364754");
  assert.ok(max.times("4652.69").times("1.006").lte(1000));
  assert.ok(max.plus("0.00000001").times("4652.69").times("1.006").gt(1000));
});

Deno.test("buying exactly the max affordable quantity leaves non-negative cash", () => {
  const state = freshState("1000");
  const max = maxAffordableQuantity(new Money(1000), {
    bestAsk: new Money("4652.69"),
    productId: "BTC-USD",
    config: DEFAULT_TRADE_CONFIG,
  });
  const decision = executeTrade(
    state.accounts.get("alice")!,
    request({ quantity: max.toFixed() }),
    { price: btc, config: DEFAULT_TRADE_CONFIG },
  );
  assert.ok(decision.ok);
  assert.ok(!new Money(decision.event.cashAfter).isNegative());
});

Deno.test("selling more than is held is refused with the holdings", () => {
  const state = freshState();
  const decision = executeTrade(
    state.accounts.get("alice")!,
    request({ action: "sell", quantity: "0.1" }),
    { price: btc, config: DEFAULT_TRADE_CONFIG },
  );
  assert.ok(!decision.ok);
  assert.match(decision.reason, /you hold 0 BTC-USD and shorting is off/);
});

Deno.test("a missing price refuses the trade and names the cash", () => {
  const state = freshState();
  const decision = executeTrade(
    state.accounts.get("alice")!,
    request({ productId: "DOGE-USD" }),
    { price: undefined, config: DEFAULT_TRADE_CONFIG },
  );
  assert.ok(!decision.ok);
  assert.match(decision.reason, /No price for DOGE-USD/);
  assert.match(decision.reason, /cash is 100000\.00 USD/);
});

Deno.test("a stale price refuses the trade", () => {
  const state = freshState();
  const decision = executeTrade(state.accounts.get("alice")!, request({}), {
    price: tick("BTC-USD", { bid: "1", ask: "1", stale: true }),
    config: DEFAULT_TRADE_CONFIG,
  });
  assert.ok(!decision.ok);
  assert.match(decision.reason, /stale/);
});

Deno.test("bad quantities are refused with what would be valid", () => {
  const bad: (number | string)[] = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1,
    0,
    "0",
    "-3",
    "abc",
    "",
    "1e400",
    "0.000000001",
    1e-9,
    "99999999999999999",
  ];
  const state = freshState();
  for (const quantity of bad) {
    const decision = executeTrade(state.accounts.get("alice")!, request({ quantity }), {
      price: btc,
      config: DEFAULT_TRADE_CONFIG,
    });
    assert.ok(!decision.ok, `quantity ${String(quantity)} must be refused`);
    assert.match(decision.reason, /Quantity/);
    assert.match(decision.reason, /cash is 100000\.00 USD, enough for at most/);
  }
});

Deno.test("quantities follow the product's increment", () => {
  assert.ok(parseQuantity("0.00000001", { productId: "BTC-USD" }).ok);
  assert.ok(parseQuantity(0.5, { productId: "SOL-USD" }).ok);
  assert.ok(parseQuantity("12.3", { productId: "FARTCOIN-USD" }).ok);
  const refused = parseQuantity("12.34", { productId: "FARTCOIN-USD" });
  assert.ok(!refused.ok);
  assert.match(refused.reason, /multiple of 0\.1 FARTCOIN-USD.*e\.g\. 12\.3/);
  assert.ok(parseQuantity("1e-8", { productId: "NEW-USD" }).ok);
  assert.ok(!parseQuantity("1e-9", { productId: "NEW-USD" }).ok);
});

Deno.test("a quote older than the age limit on the market clock refuses the trade", () => {
  const state = freshState();
  const price = tick("BTC-USD", { bid: "4650", ask: "4652.69", time: T0 });
  const at = (seconds: number) => ({ nowMs: Date.parse(T0) + seconds * 1000, maxAgeMs: 120_000 });
  const fresh = executeTrade(state.accounts.get("alice")!, request({ quantity: "0.1" }), {
    price,
    config: DEFAULT_TRADE_CONFIG,
    quoteAge: at(120),
  });
  assert.ok(fresh.ok, "exactly at the limit still fills");
  const old = executeTrade(state.accounts.get("alice")!, request({ quantity: "0.1" }), {
    price,
    config: DEFAULT_TRADE_CONFIG,
    quoteAge: at(120.5),
  });
  assert.equal(old.ok, false);
  assert.equal(
    !old.ok && old.reason,
    `The price of BTC-USD is stale: its last quote (${T0}) is 120.5 s old on the market clock ` +
      "and fills need a quote at most 120 s old; no trades until a fresh quote arrives",
  );
  assert.equal(quoteAgeRefusal(price, at(-5)), undefined, "a quote from the future is not old");
});

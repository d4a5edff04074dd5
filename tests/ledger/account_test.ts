import assert from "node:assert/strict";
import {
  accountOpenedEvent,
  applyEvent,
  createLedgerState,
  DEFAULT_TRADE_CONFIG,
  executeTrade,
  portfolioView,
  rebuildState,
  reconcile,
  snapshotAccount,
  tradeKey,
  tradeRefusedEvent,
} from "../../core/ledger/mod.ts";
import { LedgerEvent, MAX_REFUSAL_LENGTH } from "../../core/contracts/ledger.ts";
import { tick } from "./_fixtures.ts";

const T0 = "2017-09-03T12:00:00.000Z";

Deno.test("a repeated tool call id and a second opening are ignored on replay", () => {
  const state = createLedgerState();
  const opened = accountOpenedEvent("bob", { cash: "100000", time: T0 });
  assert.equal(applyEvent(state, opened), "applied");
  const decision = executeTrade(state.accounts.get("bob")!, {
    agent: "bob",
    toolCallId: "x",
    productId: "ETH-USD",
    quantity: "3",
    action: "buy",
  }, { price: tick("ETH-USD", { bid: "300", ask: "301" }), config: DEFAULT_TRADE_CONFIG });
  assert.ok(decision.ok);
  assert.equal(applyEvent(state, decision.event), "applied");
  assert.equal(applyEvent(state, decision.event), "duplicate");
  assert.equal(applyEvent(state, opened), "duplicate");
  assert.equal(state.accounts.get("bob")!.tradeCount, 1);
  assert.equal(state.duplicates, 2);
});

Deno.test("a trade for an unknown account is reported as a corrupt ledger", () => {
  const event: LedgerEvent = {
    v: 1,
    type: "trade_executed",
    eventId: "e",
    agent: "ghost",
    toolCallId: "c",
    productId: "BTC-USD",
    side: "buy",
    quantity: "1",
    fillPrice: "1",
    quotePrice: "1",
    notional: "1",
    fee: "0",
    takerFeeBps: 0,
    slippageBps: 0,
    cashAfter: "0",
    time: T0,
  };
  assert.throws(() => rebuildState([event]), /no opened account/);
});

Deno.test("partial sells keep the reconciliation identity exact", () => {
  const events: LedgerEvent[] = [accountOpenedEvent("c", { cash: "100000", time: T0 })];
  let state = rebuildState(events);
  const price = tick("SOL-USD", { bid: "3.33", ask: "3.37" });
  const steps: [string, "buy" | "sell"][] = [["7", "buy"], ["3", "buy"], ["1", "sell"], [
    "2.5",
    "sell",
  ], ["6.5", "sell"]];
  steps.forEach(([quantity, action], index) => {
    const decision = executeTrade(state.accounts.get("c")!, {
      agent: "c",
      toolCallId: `t${index}`,
      productId: "SOL-USD",
      quantity,
      action,
    }, { price, config: DEFAULT_TRADE_CONFIG });
    assert.ok(decision.ok);
    events.push(decision.event);
    applyEvent(state, decision.event);
    assert.deepEqual(reconcile(state.accounts.get("c")!).problems, []);
  });
  state = rebuildState(events);
  const account = state.accounts.get("c")!;
  assert.equal(account.positions.size, 0);
  assert.equal(account.tradeCount, 5);
  assert.deepEqual(reconcile(account).problems, []);
});

Deno.test("the portfolio view marks at the best bid and measures hold time on the market clock", () => {
  const state = rebuildState([accountOpenedEvent("d", { cash: "100000", time: T0 })]);
  const decision = executeTrade(state.accounts.get("d")!, {
    agent: "d",
    toolCallId: "a",
    productId: "BTC-USD",
    quantity: "2",
    action: "buy",
  }, { price: tick("BTC-USD", { bid: "99", ask: "100", time: T0 }), config: DEFAULT_TRADE_CONFIG });
  assert.ok(decision.ok);
  applyEvent(state, decision.event);
  const later = "2017-09-03T12:30:00.000Z";
  const view = portfolioView(state.accounts.get("d")!, {
    prices: new Map([["BTC-USD", tick("BTC-USD", { bid: "110", ask: "111", time: later })]]),
    time: later,
  });
  assert.equal(view.cash, "99798.8");
  assert.equal(view.feesPaid, "1.2");
  assert.equal(view.equity, "100018.8");
  assert.equal(view.totalReturnPct, "0.02");
  assert.equal(view.tradeCount, 1);
  const position = view.positions[0]!;
  assert.equal(position.price, "110");
  assert.equal(position.averageCost, "100.00000000");
  assert.equal(position.costBasis, "200");
  assert.equal(position.marketValue, "220");
  assert.equal(position.unrealizedPnl, "20");
  assert.equal(position.unrealizedPnlPct, "10.00");
  assert.equal(position.averageHoldMinutes, 30);
  assert.equal(snapshotAccount(state.accounts.get("d")!).positions[0]!.quantity, "2");
});

Deno.test("a refused trade request changes no account and is the first answer to its tool call", () => {
  const state = createLedgerState();
  applyEvent(state, accountOpenedEvent("bob", { cash: "100000", time: T0 }));
  const before = snapshotAccount(state.accounts.get("bob")!);
  const refusal = tradeRefusedEvent(
    { agent: "bob", toolCallId: "r1", tick: 4 },
    { reason: "Insufficient cash: buy at most 1 BTC-USD", time: T0 },
  );
  assert.deepEqual(LedgerEvent.parse(refusal), refusal);
  assert.equal(applyEvent(state, refusal), "applied");
  assert.deepEqual(snapshotAccount(state.accounts.get("bob")!), before);
  assert.equal(state.refusals.get(tradeKey("bob", "r1"))!.reason, refusal.reason);
  assert.equal(applyEvent(state, refusal), "duplicate");
  // A trade written later under the refused tool call id (a zombie replica) does not count.
  const late = executeTrade(state.accounts.get("bob")!, {
    agent: "bob",
    toolCallId: "r1",
    productId: "ETH-USD",
    quantity: "1",
    action: "buy",
  }, { price: tick("ETH-USD", { bid: "300", ask: "301" }), config: DEFAULT_TRADE_CONFIG });
  assert.ok(late.ok);
  assert.equal(applyEvent(state, late.event), "duplicate");
  assert.equal(state.accounts.get("bob")!.tradeCount, 0);
  assert.deepEqual(reconcile(state.accounts.get("bob")!).problems, []);
});

Deno.test("a refusal needs no account and a long reason is clipped to the ledger's limit", () => {
  const refusal = tradeRefusedEvent(
    { agent: "nobody", toolCallId: "r" },
    { reason: "x".repeat(MAX_REFUSAL_LENGTH + 50), time: T0 },
  );
  assert.equal(refusal.reason.length, MAX_REFUSAL_LENGTH);
  assert.ok(LedgerEvent.safeParse(refusal).success);
  const state = rebuildState([refusal]);
  assert.equal(state.accounts.size, 0);
  assert.equal(state.refusals.size, 1);
});

import assert from "node:assert/strict";
import type { TradeExecuted } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import {
  type Account,
  applyEvent,
  createLedgerState,
  executeTrade,
  exitTrade,
  exitTrigger,
  liquidationPrice,
  Money,
  moneyString,
  portfolioView,
  type Position,
  reconcile,
  type TradeConfig,
  type TradeRequest,
} from "../../core/ledger/mod.ts";
import { openAccounts, tick } from "./_fixtures.ts";

const MARGIN_DESK: TradeConfig = {
  takerFeeBps: 60,
  slippageBps: 0,
  allowShort: true,
  maxLeverage: 10,
};
const OPEN = "2017-09-03T12:00:00.000Z";

function minute(n: number): string {
  return new Date(Date.parse(OPEN) + n * 60_000).toISOString();
}

function ledgerWith(agent: string) {
  const state = createLedgerState();
  openAccounts(state, { agents: [agent], cash: "100000" });
  return state;
}

function trade(
  state: ReturnType<typeof ledgerWith>,
  request: Partial<TradeRequest> & Pick<TradeRequest, "action" | "quantity">,
  options: { bid: string; ask: string; time?: string; config?: TradeConfig },
): TradeExecuted {
  const agent = request.agent ?? "margin";
  const decision = executeTrade(state.accounts.get(agent)!, {
    agent,
    toolCallId: request.toolCallId ?? `call-${state.applied}`,
    productId: "BTC-USD",
    ...request,
  }, {
    price: tick("BTC-USD", { bid: options.bid, ask: options.ask, time: options.time ?? OPEN }),
    config: options.config ?? MARGIN_DESK,
  });
  assert.ok(decision.ok, decision.ok ? "" : decision.reason);
  assert.equal(applyEvent(state, decision.event), "applied");
  return decision.event;
}

Deno.test("a leveraged short locks notional / leverage and covers with its P&L, to the cent", () => {
  const state = ledgerWith("margin");
  const opened = trade(state, { action: "sell", quantity: "1", leverage: 5 }, {
    bid: "5000",
    ask: "5001",
  });
  assert.equal(opened.position, "short");
  assert.equal(opened.leverage, 5);
  assert.equal(opened.margin, "1000");
  assert.equal(opened.fee, "30");
  assert.equal(opened.cashAfter, "98970");
  const account = state.accounts.get("margin")!;
  assert.equal(moneyString(account.positions.get("BTC-USD")!.margin), "1000");
  const covered = trade(state, { action: "buy", quantity: "1" }, {
    bid: "4499",
    ask: "4500",
    time: minute(5),
  });
  assert.equal(covered.position, "short");
  // 1000 margin back + 500 profit - 27 fee.
  assert.equal(covered.cashAfter, "100443");
  assert.equal(moneyString(account.cash), "100443");
  assert.equal(moneyString(account.realizedPnl), "500");
  assert.equal(moneyString(account.feesPaid), "57");
  assert.equal(account.positions.size, 0);
  assert.deepEqual(reconcile(account).problems, []);
});

/** 1 BTC bought at 5000 with leverage 10 on a desk without fees: 500 of margin. */
function tenTimesLong() {
  const desk = { ...MARGIN_DESK, takerFeeBps: 0 };
  const state = ledgerWith("margin");
  trade(state, { action: "buy", quantity: "1", leverage: 10 }, {
    bid: "4999",
    ask: "5000",
    config: desk,
  });
  const account = state.accounts.get("margin")!;
  return { desk, state, account, position: account.positions.get("BTC-USD")! };
}

/** The engine's exit of `position` at `quote` (which must cross one of its levels). */
function exitAt(
  account: Account,
  position: Position,
  options: { quote: PriceTick; config: TradeConfig },
): TradeExecuted {
  const trigger = exitTrigger(position, options.quote);
  assert.ok(trigger, `${options.quote.bestBid}/${options.quote.bestAsk} crosses no level`);
  return exitTrade(account, position, { trigger, tick: options.quote, config: options.config });
}

Deno.test("a leveraged long is liquidated at the first bid past its maintenance price", () => {
  const { desk, state, account, position } = tenTimesLong();
  // (cost - margin) / (q x (1 - 0.005)) = 4500 / 0.995
  assert.equal(moneyString(liquidationPrice(position)!), "4522.61306533");
  const above = tick("BTC-USD", { bid: "4523", ask: "4524", time: minute(1) });
  assert.equal(exitTrigger(position, above), undefined);
  const crossing = tick("BTC-USD", { bid: "4522", ask: "4523", time: minute(2) });
  const trigger = exitTrigger(position, crossing);
  assert.deepEqual(trigger && { cause: trigger.cause, quote: moneyString(trigger.quote) }, {
    cause: "liquidation",
    quote: "4522",
  });
  const exit = exitTrade(account, position, { trigger: trigger!, tick: crossing, config: desk });
  assert.equal(exit.cause, "liquidation");
  assert.equal(exit.side, "sell");
  assert.equal(exit.time, crossing.time);
  assert.equal(applyEvent(state, exit), "applied");
  // 500 margin - 478 loss comes back; nothing is lost or created.
  assert.equal(moneyString(account.cash), "99522");
  assert.equal(moneyString(account.realizedPnl), "-478");
  assert.equal(moneyString(account.badDebt), "0");
  assert.deepEqual(reconcile(account).problems, []);
  // The same exit again (a restart, another replica) changes nothing.
  assert.equal(applyEvent(state, exit), "duplicate");
});

Deno.test("a gap past liquidation loses the margin only; the rest is recorded bad debt", () => {
  const { desk, state, account, position } = tenTimesLong();
  const gap = tick("BTC-USD", { bid: "4000", ask: "4001", time: minute(1) });
  const exit = exitAt(account, position, { quote: gap, config: desk });
  assert.equal(exit.badDebt, "500");
  applyEvent(state, exit);
  assert.equal(moneyString(account.cash), "99500");
  assert.equal(moneyString(account.badDebt), "500");
  assert.equal(moneyString(account.realizedPnl), "-1000");
  assert.deepEqual(reconcile(account).problems, []);
});

Deno.test("stops and targets fire only on later quotes, at the closing side's quote", () => {
  const state = ledgerWith("margin");
  trade(state, { action: "buy", quantity: "2", stopLoss: "4900", takeProfit: 5200 }, {
    bid: "4999",
    ask: "5000",
  });
  const account = state.accounts.get("margin")!;
  const position = account.positions.get("BTC-USD")!;
  assert.equal(moneyString(position.stopLoss!), "4900");
  assert.equal(moneyString(position.takeProfit!), "5200");
  // A quote at the fill's own time never triggers, nor does a stale one.
  assert.equal(exitTrigger(position, tick("BTC-USD", { bid: "4800", ask: "4801" })), undefined);
  assert.equal(
    exitTrigger(
      position,
      tick("BTC-USD", { bid: "4800", ask: "4801", time: minute(1), stale: true }),
    ),
    undefined,
  );
  assert.equal(
    exitTrigger(position, tick("BTC-USD", { bid: "4901", ask: "4899", time: minute(1) })),
    undefined,
  );
  const stop = exitTrigger(
    position,
    tick("BTC-USD", { bid: "4900", ask: "4902", time: minute(2) }),
  );
  assert.equal(stop?.cause, "stop_loss");
  assert.equal(moneyString(stop!.quote), "4900");
  const target = exitTrigger(
    position,
    tick("BTC-USD", { bid: "5200", ask: "5201", time: minute(2) }),
  );
  assert.equal(target?.cause, "take_profit");
  const crossing = tick("BTC-USD", { bid: "4890", ask: "4891", time: minute(3) });
  const exit = exitAt(account, position, { quote: crossing, config: MARGIN_DESK });
  // 2 x 4890 = 9780, fee 58.68; spot long: cash gets the proceeds minus the fee.
  assert.equal(exit.notional, "9780");
  assert.equal(exit.fee, "58.68");
  const cashBefore = account.cash;
  applyEvent(state, exit);
  assert.equal(moneyString(account.cash.minus(cashBefore)), "9721.32");
  assert.equal(account.positions.size, 0);
  assert.deepEqual(reconcile(account).problems, []);
});

Deno.test("a short's stop is above the ask and its target below", () => {
  const state = ledgerWith("margin");
  trade(state, { action: "sell", quantity: "1", stopLoss: "5100", takeProfit: "4800" }, {
    bid: "5000",
    ask: "5001",
  });
  const position = state.accounts.get("margin")!.positions.get("BTC-USD")!;
  const at = (bid: string, ask: string) =>
    exitTrigger(position, tick("BTC-USD", { bid, ask, time: minute(1) }))?.cause;
  assert.equal(at("5050", "5060"), undefined);
  assert.equal(at("5099", "5100"), "stop_loss");
  assert.equal(at("4790", "4800"), "take_profit");
  assert.equal(at("4799", "4801"), undefined);
});

Deno.test("an engine exit for a position already closed is void, not a corrupt ledger", () => {
  const state = ledgerWith("margin");
  trade(state, { action: "buy", quantity: "1", stopLoss: "4900" }, { bid: "4999", ask: "5000" });
  const account = state.accounts.get("margin")!;
  const position = account.positions.get("BTC-USD")!;
  const crossing = tick("BTC-USD", { bid: "4890", ask: "4891", time: minute(3) });
  const exit = exitAt(account, { ...position }, { quote: crossing, config: MARGIN_DESK });
  trade(state, { action: "sell", quantity: "1" }, { bid: "4950", ask: "4951", time: minute(2) });
  const cash = moneyString(account.cash);
  assert.equal(applyEvent(state, exit), "duplicate");
  assert.equal(moneyString(account.cash), cash);
  assert.deepEqual(reconcile(account).problems, []);
});

Deno.test("bad terms are refused with what would be valid and change nothing", () => {
  const state = ledgerWith("margin");
  const account = state.accounts.get("margin")!;
  const refuse = (request: Partial<TradeRequest>, config: TradeConfig = MARGIN_DESK) => {
    const decision = executeTrade(account, {
      agent: "margin",
      toolCallId: "bad",
      productId: "BTC-USD",
      action: "buy",
      quantity: "1",
      ...request,
    }, { price: tick("BTC-USD", { bid: "4999", ask: "5000" }), config });
    assert.equal(decision.ok, false);
    return decision.ok ? "" : decision.reason;
  };
  assert.match(refuse({ leverage: 11 }), /Leverage must be a whole number from 1 to 10, got 11/);
  assert.match(refuse({ leverage: 0 }), /from 1 to 10, got 0/);
  assert.match(refuse({ leverage: 2.5 }), /got 2.5/);
  assert.match(
    refuse({ leverage: 2 }, { takerFeeBps: 60, slippageBps: 0 }),
    /Leverage is off in this arena/,
  );
  assert.match(refuse({ stopLoss: "5000" }), /stop_loss 5000 must be below the best bid 4999/);
  assert.match(refuse({ takeProfit: "4999" }), /take_profit 4999 must be above the best bid/);
  assert.match(refuse({ stopLoss: "abc" }), /stop_loss must be a positive price/);
  assert.match(refuse({ stopLoss: -1 }), /stop_loss must be a positive price/);
  assert.match(refuse({ confidence: 1.5 }), /Confidence must be a number from 0 to 1, got 1.5/);
  assert.match(refuse({ confidence: Number.NaN }), /Confidence must be a number from 0 to 1/);
  assert.match(
    refuse({ action: "sell", takeProfit: "5001" }),
    /take_profit 5001 must be below the best ask 5000/,
  );
  assert.match(
    refuse({ action: "sell" }, { takerFeeBps: 60, slippageBps: 0 }),
    /shorting is off/,
  );
  assert.match(
    refuse({ quantity: "50", leverage: 2 }),
    /Insufficient cash: .*at leverage 2.*so buy at most 39\.52569169 BTC-USD/,
  );
  assert.equal(state.applied, 1);
  assert.equal(account.positions.size, 0);
});

Deno.test("one side per product: selling past a long is refused, not flipped", () => {
  const state = ledgerWith("margin");
  trade(state, { action: "buy", quantity: "1" }, { bid: "4999", ask: "5000" });
  const decision = executeTrade(state.accounts.get("margin")!, {
    agent: "margin",
    toolCallId: "flip",
    productId: "BTC-USD",
    action: "sell",
    quantity: "2",
  }, { price: tick("BTC-USD", { bid: "4999", ask: "5000" }), config: MARGIN_DESK });
  assert.equal(decision.ok, false);
  assert.match(decision.ok ? "" : decision.reason, /you hold 1 BTC-USD, so sell at most 1/);
});

Deno.test("the portfolio marks a short at the ask with its margin, liquidation price and plan", () => {
  const state = ledgerWith("margin");
  trade(state, {
    action: "sell",
    quantity: "2",
    leverage: 4,
    stopLoss: "5300",
    takeProfit: "4500",
    invalidation: "a close above 5300",
    confidence: 0.7,
  }, { bid: "5000", ask: "5001" });
  const view = portfolioView(state.accounts.get("margin")!, {
    prices: new Map([["BTC-USD", tick("BTC-USD", { bid: "4899", ask: "4900", time: minute(1) })]]),
    time: minute(1),
  });
  const [short] = view.positions;
  assert.equal(short!.side, "short");
  assert.equal(short!.price, "4900");
  assert.equal(short!.margin, "2500");
  assert.equal(short!.leverage, 4);
  assert.equal(short!.unrealizedPnl, "200");
  assert.equal(short!.stopLoss, "5300");
  assert.equal(short!.takeProfit, "4500");
  assert.equal(short!.invalidation, "a close above 5300");
  assert.equal(short!.confidence, 0.7);
  // (10000 + 2500) / (2 x (1 + 0.005 + 0.006)): maintenance covers the 60 bps fee to close
  assert.equal(short!.liquidationPrice, "6181.99802176");
  assert.equal(view.marginUsed, "2500");
  // cash 100000 - 2500 - 60 fee, plus margin 2500 and profit 200.
  assert.equal(view.equity, "100140");
  assert.equal(new Money(view.cash).toString(), "97440");
});

Deno.test("a stop past the liquidation price is refused with the line; a stop just inside it is set", () => {
  const state = ledgerWith("margin");
  const account = state.accounts.get("margin")!;
  const decide = (request: Partial<TradeRequest>) =>
    executeTrade(account, {
      agent: "margin",
      toolCallId: "stop",
      productId: "BTC-USD",
      action: "buy",
      quantity: "1",
      leverage: 10,
      ...request,
    }, { price: tick("BTC-USD", { bid: "4999", ask: "5000" }), config: MARGIN_DESK });
  // A 10x long of 1 at 5000 locks 500: liquidated at (5000 - 500) / (1 - 0.011) = 4550.0505...
  const long = decide({ stopLoss: "4550" });
  assert.equal(long.ok, false);
  assert.match(
    long.ok ? "" : long.reason,
    /^stop_loss 4550 is past the liquidation price 4550\.05055612 of this long BTC-USD position: .*set the stop above 4550\.05055612 or use less leverage$/,
  );
  assert.ok(decide({ stopLoss: "4551" }).ok);
  // A 10x short of 1 at 4999 locks 499.9: liquidated at (4999 + 499.9) / 1.011 = 5439.0702...
  const short = decide({ action: "sell", stopLoss: "5440" });
  assert.equal(short.ok, false);
  assert.match(
    short.ok ? "" : short.reason,
    /past the liquidation price 5439\.0702275 .*below 5439\.0702275 /,
  );
  assert.ok(decide({ action: "sell", stopLoss: "5439" }).ok);
  // A spot long cannot be liquidated: any stop under the bid is reachable.
  assert.ok(decide({ leverage: 1, stopLoss: "1" }).ok);
  assert.equal(state.applied, 1, "nothing was applied");
});

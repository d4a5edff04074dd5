/**
 * The margin action space on the tool surface: what execute_trade offers for a desk's shorts and
 * leverage, and that bad terms sent to the tools node's execute_trade are clear refusals that put
 * no trade on the ledger.
 */

import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import type { TradeExecuted } from "../../core/contracts/ledger.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../../core/ledger/trade.ts";
import { invokeTool } from "../../core/runtime/tool_node.ts";
import { toolDefinition, type ToolOutcome, type ToolSpec } from "../../core/runtime/tool_spec.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { startToolsNode } from "../../core/tools/tools_node.ts";
import {
  executeTradeInput,
  executeTradeSignature,
  executeTradeTool,
} from "../../core/tools/trading_tools.ts";
import { context, ledgerEvents, priceTick, publishTick, quietLog } from "./_support.ts";

const MARGIN_DESK: TradeConfig = {
  takerFeeBps: 60,
  slippageBps: 0,
  allowShort: true,
  maxLeverage: 10,
};

type Properties = Record<string, { type?: string; minimum?: number; maximum?: number }>;

function offered(config?: TradeConfig): { description: string; properties: Properties } {
  const definition = toolDefinition(executeTradeSignature(config));
  return {
    description: definition.description,
    properties: definition.parameters.properties as Properties,
  };
}

Deno.test("a margin desk's execute_trade offers leverage up to its maximum and the exit plan", () => {
  const { description, properties } = offered(MARGIN_DESK);
  for (const field of ["leverage", "stop_loss", "take_profit", "invalidation", "confidence"]) {
    assert.ok(field in properties, field);
  }
  assert.equal(properties.leverage!.type, "integer");
  assert.deepEqual([properties.leverage!.minimum, properties.leverage!.maximum], [1, 10]);
  assert.deepEqual([properties.confidence!.minimum, properties.confidence!.maximum], [0, 1]);
  assert.match(description, /Shorts are allowed: a sell with nothing held opens a short/);
  assert.match(description, /one side per product at a time/);
  assert.match(description, /leverage \(1 to 10\)/);
  assert.match(description, /falls to 0\.5% of its notional plus the fee is liquidated/);
  assert.match(description, /first quote \(bid; ask for a short\) reaching its stop_loss/);
});

Deno.test("a spot desk shows the original's execute_trade; --exit-plans on adds the exit plan", () => {
  const spot = offered();
  // A real 1.5B model wrote every optional field as null and looped: a spot desk shows none.
  assert.deepEqual(Object.keys(spot.properties), ["product_id", "quantity", "action"]);
  assert.match(spot.description, /you can only sell what you hold \(no shorting\)/);
  assert.doesNotMatch(spot.description, /leverage|liquidat|short\)|stop_loss/);
  // ...but accepts them (the rules model states its stops on any desk).
  const accepted = executeTradeInput().safeParse({
    product_id: "BTC-USD",
    quantity: 1,
    action: "buy",
    stop_loss: 4000,
    confidence: 0.6,
  });
  assert.ok(accepted.success);
  const planned = offered({ ...DEFAULT_TRADE_CONFIG, exitPlans: true });
  assert.deepEqual(Object.keys(planned.properties), [
    "product_id",
    "quantity",
    "action",
    "stop_loss",
    "take_profit",
    "invalidation",
    "confidence",
  ]);
  assert.match(
    planned.description,
    /at the first quote \(bid\) reaching its stop_loss or take_profit/,
  );
  assert.doesNotMatch(planned.description, /leverage|liquidat/);
  // A margin desk offers them unless told not to.
  assert.ok("stop_loss" in offered(MARGIN_DESK).properties);
  assert.ok(!("stop_loss" in offered({ ...MARGIN_DESK, exitPlans: false }).properties));
});

Deno.test("an unknown execute_trade field is refused naming every field the desk takes", () => {
  const base = { product_id: "BTC-USD", quantity: 1, action: "buy" };
  const spot = executeTradeInput().safeParse({ ...base, leverage: 2 });
  assert.equal(spot.success, false);
  assert.equal(
    spot.error!.issues[0]!.message,
    'Unknown field "leverage": execute_trade takes only product_id, quantity, action, ' +
      "stop_loss, take_profit, invalidation, confidence",
  );
  const margin = executeTradeInput(MARGIN_DESK).safeParse({ ...base, stop: 1 });
  assert.match(margin.error!.issues[0]!.message, /takes only .*confidence, leverage$/);
});

/** A tools node on a fresh in-memory bus with quotes of BTC-USD (4650/4652.69) and ETH-USD. */
async function withToolsNode(
  config: TradeConfig,
  fn: (trade: (id: string, args: Record<string, unknown>) => Promise<ToolOutcome>) => Promise<
    void
  >,
  check: (bus: MemoryBus) => Promise<void>,
): Promise<void> {
  const bus = new MemoryBus();
  const calculator = new Calculator();
  await publishTick(bus, priceTick("BTC-USD", { bid: "4650", ask: "4652.69" }));
  await publishTick(bus, priceTick("ETH-USD", { bid: "300", ask: "301" }));
  const node = await startToolsNode(bus, { log: quietLog(), config, calculator });
  // The tool as the node serves it: the arguments are validated by the desk's schema first.
  const tool = executeTradeTool(node.ledger) as unknown as ToolSpec;
  const trade = (id: string, args: Record<string, unknown>) =>
    invokeTool(tool, { arguments: JSON.stringify(args), context: context("alice", id) });
  try {
    assert.deepEqual(node.tools[0], toolDefinition(tool), "the catalog states this desk");
    await fn(trade);
    await check(bus);
  } finally {
    await node.stop();
    calculator.close();
    await bus.close();
  }
}

async function assertNoTrade(bus: MemoryBus): Promise<void> {
  const types = (await ledgerEvents(bus)).map((event) => event.type);
  assert.ok(!types.includes("trade_executed"), `no trade on the ledger, got ${types}`);
}

Deno.test("bad margin terms sent to execute_trade are clear refusals with no trade", async () => {
  const buy = { product_id: "BTC-USD", action: "buy", quantity: "0.1" };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...buy, leverage: 11 }, /Leverage must be a whole number from 1 to 10, got 11/],
    [{ ...buy, leverage: 0 }, /Leverage must be a whole number from 1 to 10, got 0/],
    [
      { ...buy, stop_loss: "4700" },
      /stop_loss 4700 must be below the best bid 4650 of BTC-USD for a long position/,
    ],
    [
      { ...buy, take_profit: 4600 },
      /take_profit 4600 must be above the best bid 4650 of BTC-USD for a long position/,
    ],
    [{ ...buy, confidence: 1.5 }, /Confidence must be a number from 0 to 1, got 1\.5/],
  ];
  await withToolsNode(MARGIN_DESK, async (trade) => {
    for (const [index, [args, says]] of cases.entries()) {
      const result = await trade(`bad${index}`, args);
      assert.equal(result.ok, false, JSON.stringify(args));
      assert.match(result.content, says);
    }
  }, assertNoTrade);
});

Deno.test("a sell with nothing held is refused when shorts are off", async () => {
  await withToolsNode({ takerFeeBps: 60, slippageBps: 0 }, async (trade) => {
    const result = await trade("short", { product_id: "BTC-USD", action: "sell", quantity: 1 });
    assert.equal(result.ok, false);
    assert.match(result.content, /shorting is off in this arena/);
  }, async (bus) => {
    await assertNoTrade(bus);
    const refusals = (await ledgerEvents(bus)).filter((event) => event.type === "trade_refused");
    assert.equal(refusals.length, 1, "the refusal is recorded");
  });
});

Deno.test("leverage, the exit plan and confidence reach the ledger; a short opens", async () => {
  await withToolsNode(MARGIN_DESK, async (trade) => {
    const long = await trade("long", {
      product_id: "BTC-USD",
      action: "buy",
      quantity: "0.1",
      leverage: 5,
      stop_loss: 4500,
      take_profit: "5000",
      invalidation: "BTC closes below 4500",
      confidence: 0.7,
    });
    assert.ok(long.ok, long.content);
    const short = await trade("short", { product_id: "ETH-USD", action: "sell", quantity: 1 });
    assert.ok(short.ok, short.content);
  }, async (bus) => {
    const trades = (await ledgerEvents(bus)).filter((event) => event.type === "trade_executed");
    assert.equal(trades.length, 2);
    const [event, short] = trades as [TradeExecuted, TradeExecuted];
    assert.equal(short.position, "short");
    assert.equal(short.fillPrice, "300");
    assert.equal(event.leverage, 5);
    assert.equal(event.margin, "93.0538");
    assert.equal(event.stopLoss, "4500");
    assert.equal(event.takeProfit, "5000");
    assert.equal(event.invalidation, "BTC closes below 4500");
    assert.equal(event.confidence, 0.7);
  });
});

Deno.test("null in an optional field means none: a small model that writes them all still trades", async () => {
  await withToolsNode(MARGIN_DESK, async (trade) => {
    const answer = await trade("nulls", {
      product_id: "BTC-USD",
      action: "buy",
      quantity: "0.1",
      leverage: null,
      stop_loss: null,
      take_profit: null,
      invalidation: null,
      confidence: null,
    });
    assert.ok(answer.ok, answer.content);
  }, async (bus) => {
    const trades = (await ledgerEvents(bus)).filter((event) => event.type === "trade_executed");
    assert.equal(trades.length, 1);
    const [event] = trades as [TradeExecuted];
    assert.deepEqual(
      [event.leverage, event.stopLoss, event.takeProfit, event.invalidation, event.confidence],
      [undefined, undefined, undefined, undefined, undefined],
    );
  });
});

Deno.test("a quoted confidence or leverage is read as the number (a real 1.5B model quoted both)", async () => {
  await withToolsNode(MARGIN_DESK, async (trade) => {
    const quoted = await trade("quoted", {
      product_id: "BTC-USD",
      action: "buy",
      quantity: "0.1",
      leverage: "2",
      confidence: " 0.7 ",
    });
    assert.ok(quoted.ok, quoted.content);
    const words = await trade("words", {
      product_id: "BTC-USD",
      action: "buy",
      quantity: "0.1",
      confidence: "high",
    });
    assert.equal(words.ok, false);
    assert.match(words.content, /Confidence must be a number from 0 to 1, got "high"/);
  }, async (bus) => {
    const trades = (await ledgerEvents(bus)).filter((event) => event.type === "trade_executed");
    assert.equal(trades.length, 1);
    const [event] = trades as [TradeExecuted];
    assert.deepEqual([event.leverage, event.confidence], [2, 0.7]);
  });
});

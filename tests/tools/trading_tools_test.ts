import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { encodeMessage } from "../../core/bus/messages.ts";
import { PRICE_TOPIC } from "../../core/bus/topics.ts";
import { invokeTool } from "../../core/runtime/tool_node.ts";
import { toolDefinition } from "../../core/runtime/tool_spec.ts";
import {
  CALCULATOR_SIGNATURE,
  ExecuteTradeInput,
  executeTradeSignature,
  executeTradeTool,
  normalizeAction,
} from "../../core/tools/trading_tools.ts";
import { LedgerService } from "../../core/tools/mod.ts";
import { context, priceTick, quietLog } from "./_support.ts";

async function withLedger(fn: (service: LedgerService) => Promise<void>): Promise<void> {
  const bus = new MemoryBus();
  await bus.publish(PRICE_TOPIC, [
    { key: "BTC-USD", value: encodeMessage(priceTick("BTC-USD", { bid: "4650", ask: "4652.69" })) },
    { key: "ETH-USD", value: encodeMessage(priceTick("ETH-USD", { bid: "300", ask: "301" })) },
  ]);
  const service = await LedgerService.start(bus, { log: quietLog() });
  try {
    await fn(service);
  } finally {
    await service.close();
    await bus.close();
  }
}

Deno.test("execute_trade accepts the action in any case with spaces, as the original", () => {
  for (const [sent, action] of [["BUY", "buy"], [" buy", "buy"], ["Sell ", "sell"]] as const) {
    const parsed = ExecuteTradeInput.parse({ product_id: "BTC-USD", quantity: 1, action: sent });
    assert.equal(parsed.action, action, sent);
  }
  assert.equal(normalizeAction("  SeLL\n"), "sell");
  assert.equal(normalizeAction(3), 3);
});

Deno.test("the execute_trade schema the model sees still says buy or sell", () => {
  const schema = toolDefinition(executeTradeSignature()).parameters as {
    properties: { action: { type: string; enum: string[] } };
  };
  assert.equal(schema.properties.action.type, "string");
  assert.deepEqual(schema.properties.action.enum, ["buy", "sell"]);
});

Deno.test("an invalid action is a clear refusal naming buy and sell", async () => {
  await withLedger(async (service) => {
    const tool = executeTradeTool(service);
    for (const [action, said] of [["hold", '"hold"'], [3, "3"]] as const) {
      const outcome = await invokeTool(tool as never, {
        arguments: JSON.stringify({ product_id: "BTC-USD", quantity: "0.1", action }),
        context: context("alice", `bad-${said}`),
      });
      assert.equal(outcome.ok, false);
      assert.match(outcome.content, new RegExp(`action: Action must be buy or sell, got ${said}`));
    }
    const missing = await invokeTool(tool as never, {
      arguments: JSON.stringify({ product_id: "BTC-USD", quantity: "0.1" }),
      context: context("alice", "missing"),
    });
    assert.equal(missing.ok, false);
    assert.match(missing.content, /action: Action is required: buy or sell/);
  });
});

Deno.test("an upper-case action with spaces executes through the tool layer", async () => {
  await withLedger(async (service) => {
    const tool = executeTradeTool(service);
    const bought = await invokeTool(tool as never, {
      arguments: JSON.stringify({ product_id: "btc-usd", quantity: "0.5", action: " BUY" }),
      context: context("alice", "b1"),
    });
    assert.ok(bought.ok, bought.content);
    assert.equal(JSON.parse(bought.content).fill_price, "4652.69");
    const sold = await invokeTool(tool as never, {
      arguments: JSON.stringify({ product_id: "BTC-USD", quantity: "0.5", action: "Sell " }),
      context: context("alice", "s1"),
    });
    assert.ok(sold.ok, sold.content);
    assert.equal(JSON.parse(sold.content).fill_price, "4650");
  });
});

Deno.test("the no-price refusal lists the products that have a fresh price", async () => {
  await withLedger(async (service) => {
    const outcome = await executeTradeTool(service).run(
      { product_id: "DOGE-USD", quantity: "1", action: "buy" },
      context("alice", "d1"),
    );
    assert.equal(outcome.ok, false);
    assert.match(outcome.content, /No price for DOGE-USD/);
    assert.match(outcome.content, /products with a fresh price: BTC-USD, ETH-USD/);
  });
});

Deno.test("the calculator's description offers ** as power", () => {
  assert.match(CALCULATOR_SIGNATURE.description, /\^ \(or \*\*\)/);
});

import assert from "node:assert/strict";
import { PortfolioView } from "../../core/contracts/portfolio.ts";
import { snapshotAccount } from "../../core/ledger/account.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../../core/ledger/trade.ts";
import { executeTradeTool, getPortfolioTool, LedgerService } from "../../core/tools/mod.ts";
import { toolDefinition } from "../../core/runtime/tool_spec.ts";
import {
  context,
  ledgerEvents,
  priceTick,
  publishTick,
  publishToolRequests,
  quietLog,
  serveToolsWithInbox,
  withLedgerService,
} from "./_support.ts";

Deno.test("a trade is on the ledger topic before the tool replies", async () => {
  await withLedgerService(async (bus, service) => {
    const tool = executeTradeTool(service);
    const outcome = await tool.run(
      { product_id: "btc-usd", quantity: "0.5", action: "buy" },
      context("alice", "c1"),
    );
    assert.ok(outcome.ok, outcome.content);
    const events = await ledgerEvents(bus);
    assert.deepEqual(events.map((event) => event.type), ["account_opened", "trade_executed"]);
    assert.equal(JSON.parse(outcome.content).fill_price, "4652.69");
  });
});

Deno.test("the same tool call id executes once and answers the same", async () => {
  await withLedgerService(async (bus, service) => {
    const tool = executeTradeTool(service);
    const input = { product_id: "BTC-USD", quantity: 1, action: "buy" as const };
    const first = await tool.run(input, context("alice", "same"));
    const second = await tool.run(input, context("alice", "same"));
    assert.deepEqual(second, first);
    const trades = (await ledgerEvents(bus)).filter((event) => event.type === "trade_executed");
    assert.equal(trades.length, 1);
  });
});

Deno.test("a restarted service rebuilds every account from the ledger", async () => {
  await withLedgerService(async (bus, service) => {
    const tool = executeTradeTool(service);
    for (let i = 0; i < 5; i++) {
      const outcome = await tool.run(
        { product_id: "BTC-USD", quantity: "0.1", action: i % 2 ? "sell" : "buy" },
        context(i % 2 ? "alice" : "bob", `t${i}`),
      );
      assert.equal(typeof outcome.ok, "boolean");
    }
    const rebuilt = await LedgerService.start(bus, { log: quietLog() });
    try {
      for (const [agent, account] of service.state.accounts) {
        assert.deepEqual(
          snapshotAccount(rebuilt.state.accounts.get(agent)!),
          snapshotAccount(account),
        );
      }
      assert.equal(rebuilt.state.accounts.size, 2);
      const repeat = await executeTradeTool(rebuilt).run(
        { product_id: "BTC-USD", quantity: "0.1", action: "buy" },
        context("bob", "t0"),
      );
      assert.ok(repeat.ok);
      assert.equal(rebuilt.state.trades.size, service.state.trades.size);
    } finally {
      await rebuilt.close();
    }
  });
});

Deno.test("stale and unknown prices refuse the trade", async () => {
  await withLedgerService(async (bus, service) => {
    await publishTick(bus, priceTick("ETH-USD", { bid: "300", ask: "301", stale: true }));
    assert.ok(await service.syncLedger());
    for (let i = 0; i < 50 && !service.prices.has("ETH-USD"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const tool = executeTradeTool(service);
    const stale = await tool.run(
      { product_id: "ETH-USD", quantity: "1", action: "buy" },
      context("a", "1"),
    );
    assert.equal(stale.ok, false);
    assert.match(stale.content, /stale/);
    const unknown = await tool.run(
      { product_id: "DOGE-USD", quantity: "1", action: "buy" },
      context("a", "2"),
    );
    assert.equal(unknown.ok, false);
    assert.match(unknown.content, /No price for DOGE-USD/);
  });
});

Deno.test("get_portfolio returns a PortfolioView as JSON and opens the account", async () => {
  await withLedgerService(async (bus, service) => {
    const outcome = await getPortfolioTool(service).run({}, context("newbie", "p1"));
    const view = PortfolioView.parse(JSON.parse(outcome.content));
    assert.equal(view.cash, "100000");
    assert.equal(view.agent, "newbie");
    assert.equal(view.time, "2017-09-03T12:00:00.000Z");
    assert.equal((await ledgerEvents(bus)).length, 1);
  });
});

Deno.test("tools are served on the bus and reply to the request's reply topic", async () => {
  await withLedgerService(async (bus, service) => {
    const served = await serveToolsWithInbox(bus, [executeTradeTool(service)]);
    const { replies } = served;
    const request = (toolCallId: string, args: string) => ({
      agent: "alice",
      tool: "execute_trade",
      toolCallId,
      arguments: args,
    });
    await publishToolRequests(bus, [
      request("ok", '{"product_id":"BTC-USD","quantity":"0.01","action":"buy"}'),
      request("bad-json", "{nope"),
      request("bad-action", '{"product_id":"BTC-USD","quantity":1,"action":"hold"}'),
    ]);
    for (let i = 0; i < 200 && replies.length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await served.close();
    assert.equal(replies.length, 3);
    assert.equal(replies[0]!.ok, true);
    assert.match(replies[1]!.content, /must be a JSON object/);
    assert.match(replies[2]!.content, /action/);
  });
});

Deno.test("the execute_trade JSON Schema tells the model the fields and their meaning", () => {
  const described = (config?: TradeConfig) => {
    const definition = toolDefinition(executeTradeTool({} as LedgerService, { config }) as never);
    return {
      description: definition.description,
      properties: definition.parameters.properties as Record<string, { description?: string }>,
    };
  };
  const spot = described();
  for (const field of ["product_id", "quantity", "action"]) {
    assert.ok(spot.properties[field]?.description, `${field} is described`);
  }
  assert.match(spot.properties.quantity!.description!, /base currency/);
  assert.match(spot.description, /60 basis points/);
  const planned = described({ ...DEFAULT_TRADE_CONFIG, exitPlans: true });
  for (const field of ["stop_loss", "take_profit", "invalidation", "confidence"]) {
    assert.ok(planned.properties[field]?.description, `${field} is described`);
  }
});

Deno.test("a trade whose publish fails is not answered as executed", async () => {
  await withLedgerService(async (bus, service) => {
    const tool = executeTradeTool(service);
    const opened = await tool.run(
      { product_id: "BTC-USD", quantity: "0.01", action: "buy" },
      context("alice", "warm"),
    );
    assert.ok(opened.ok);
    const publish = bus.publish.bind(bus);
    bus.publish = () => Promise.reject(new Error("Broker unavailable"));
    try {
      await assert.rejects(
        tool.run({ product_id: "BTC-USD", quantity: "0.01", action: "buy" }, context("alice", "x")),
        /Broker unavailable/,
      );
    } finally {
      bus.publish = publish;
    }
    assert.equal(service.state.accounts.get("alice")!.tradeCount, 1);
    const retried = await tool.run(
      { product_id: "BTC-USD", quantity: "0.01", action: "buy" },
      context("alice", "x"),
    );
    assert.ok(retried.ok);
    assert.equal(
      (await ledgerEvents(bus)).filter((event) => event.type === "trade_executed").length,
      2,
    );
  });
});

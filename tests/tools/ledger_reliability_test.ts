/**
 * The tools' reliability holes, closed: durable refusals, quotes that age on the market clock,
 * unknown execute_trade fields, and no end-offset lookup per tool call.
 */

import assert from "node:assert/strict";
import type { SubscribeOptions } from "../../core/bus/bus.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { ManualClock } from "../../core/market/clock.ts";
import { invokeTool } from "../../core/runtime/tool_node.ts";
import type { ToolSpec } from "../../core/runtime/tool_spec.ts";
import { executeTradeTool, getPortfolioTool, LedgerService } from "../../core/tools/mod.ts";
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
import { eventually } from "../_wait.ts";

const BIG_BUY = { product_id: "BTC-USD", quantity: "30", action: "buy" as const };

Deno.test("a refusal is on the ledger before the reply, and a restarted service refuses the redelivery the same way", async () => {
  const bus = new MemoryBus();
  try {
    await publishTick(bus, priceTick("BTC-USD", { bid: "4650", ask: "4652.69" }));
    const first = await LedgerService.start(bus, { log: quietLog() });
    const refused = await executeTradeTool(first).run(BIG_BUY, context("alice", "big"));
    assert.equal(refused.ok, false);
    assert.match(refused.content, /Insufficient cash/);
    const recorded = (await ledgerEvents(bus)).filter((event) => event.type === "trade_refused");
    assert.equal(recorded.length, 1, "the refusal is durable before the agent is answered");
    await first.close();

    // While the service is down the price falls: 30 BTC would now be affordable.
    await publishTick(bus, priceTick("BTC-USD", { bid: "99", ask: "100" }));
    const restarted = await LedgerService.start(bus, { log: quietLog() });
    try {
      assert.equal(restarted.prices.get("BTC-USD")!.bestAsk, "100");
      const again = await executeTradeTool(restarted).run(BIG_BUY, context("alice", "big"));
      assert.deepEqual(again, refused, "a redelivery gets the first answer again");
      const events = await ledgerEvents(bus);
      assert.equal(events.filter((event) => event.type === "trade_executed").length, 0);
      assert.equal(events.filter((event) => event.type === "trade_refused").length, 1);
      assert.equal(restarted.state.accounts.get("alice")!.tradeCount, 0);
      // The same order under a new tool call id is a new request, and it fills now.
      const fresh = await executeTradeTool(restarted).run(BIG_BUY, context("alice", "big-2"));
      assert.ok(fresh.ok, fresh.content);
    } finally {
      await restarted.close();
    }
  } finally {
    await bus.close();
  }
});

Deno.test("a refused request redelivered to the same service is not recorded twice", async () => {
  await withLedgerService(async (bus, service) => {
    const tool = executeTradeTool(service);
    const first = await tool.run(
      { product_id: "DOGE-USD", quantity: 1, action: "buy" },
      context("bob", "d"),
    );
    const second = await tool.run(
      { product_id: "DOGE-USD", quantity: 1, action: "buy" },
      context("bob", "d"),
    );
    assert.equal(first.ok, false);
    assert.deepEqual(second, first);
    const refusals = (await ledgerEvents(bus)).filter((event) => event.type === "trade_refused");
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]!.type === "trade_refused" && refusals[0]!.reason, first.content);
  });
});

Deno.test("a live quote ages on the wall clock once the feed is gone and is refused past the limit", async () => {
  const wall = new ManualClock(Date.parse("2026-12-01T12:00:00.000Z"));
  const setUp = {
    ticks: [
      priceTick("BTC-USD", { bid: "90000", ask: "90010", time: "2026-12-01T12:00:00.000Z" }),
    ],
    service: { wallClock: wall, maxQuoteAgeMs: 30_000 },
  };
  await withLedgerService(async (bus, service) => {
    const tool = executeTradeTool(service);
    const order = { product_id: "BTC-USD", quantity: "0.01", action: "buy" as const };
    assert.ok((await tool.run(order, context("carol", "1"))).ok);
    wall.set(wall.now() + 29_000); // 29 s after the quote: within the limit
    assert.ok((await tool.run(order, context("carol", "2"))).ok);
    wall.set(wall.now() + 9_800); // 38.8 s old, no new tick: the connector is gone
    const refused = await tool.run(order, context("carol", "3"));
    assert.equal(refused.ok, false);
    assert.match(refused.content, /price of BTC-USD is stale: .* 38\.8 s old .* at most 30 s/);
    const events = await ledgerEvents(bus);
    assert.equal(events.filter((event) => event.type === "trade_executed").length, 2);
    assert.equal(events.filter((event) => event.type === "trade_refused").length, 1);
    // A fresh quote trades again.
    await publishTick(
      bus,
      priceTick("BTC-USD", {
        bid: "90000",
        ask: "90010",
        time: new Date(wall.now()).toISOString(),
      }),
    );
    await eventually(
      "tick",
      () => service.prices.get("BTC-USD")!.time !== "2026-12-01T12:00:00.000Z",
      3_000,
    );
    assert.ok((await tool.run(order, context("carol", "4"))).ok);
  }, setUp);
});

Deno.test("a replay's quotes age on the replay's clock, not the wall clock", async () => {
  const wall = new ManualClock(Date.parse("2026-12-01T12:00:00.000Z"));
  const setUp = {
    ticks: [
      priceTick("BTC-USD", { bid: "4650", ask: "4652.69" }),
      priceTick("ETH-USD", { bid: "300", ask: "301", time: "2017-09-03T11:57:00.000Z" }),
    ],
    service: { wallClock: wall, maxQuoteAgeMs: 120_000 },
  };
  await withLedgerService(async (_bus, service) => {
    const tool = executeTradeTool(service);
    wall.set(wall.now() + 3_600_000); // a lockstep replay waits as long as it likes
    const btc = await tool.run(
      { product_id: "BTC-USD", quantity: "0.01", action: "buy" },
      context("dave", "1"),
    );
    assert.ok(btc.ok, btc.content);
    // ETH's last quote is 180 s older than the replay's newest (BTC at 12:00).
    const eth = await tool.run(
      { product_id: "ETH-USD", quantity: "1", action: "buy" },
      context("dave", "2"),
    );
    assert.equal(eth.ok, false);
    assert.match(eth.content, /ETH-USD is stale: .* 180\.0 s old/);
  }, setUp);
});

Deno.test("unknown execute_trade fields are an error naming them and the valid fields; nothing is written", async () => {
  await withLedgerService(async (bus, service) => {
    const outcome = await invokeTool(executeTradeTool(service) as unknown as ToolSpec, {
      arguments: JSON.stringify({
        product_id: "BTC-USD",
        quantity: "0.01",
        action: "buy",
        leverage: 5,
      }),
      context: context("erin", "x"),
    });
    assert.equal(outcome.ok, false);
    assert.match(outcome.content, /Unknown field "leverage"/);
    assert.match(outcome.content, /execute_trade takes only product_id, quantity, action/);
    assert.deepEqual(await ledgerEvents(bus), []);
  });
});

/** A MemoryBus that signals an assignment to each new subscription, as Kafka does on a join. */
class AssigningBus extends MemoryBus {
  override subscribe(options: SubscribeOptions) {
    const subscription = super.subscribe(options);
    options.onAssigned?.();
    return subscription;
  }
}

Deno.test("tool calls make no end-offset lookup after the first one following an assignment", async () => {
  await withLedgerService(async (bus, service) => {
    const served = await serveToolsWithInbox(
      bus,
      [executeTradeTool(service), getPortfolioTool(service)] as ToolSpec[],
    );
    const { replies } = served;
    try {
      const trade = (toolCallId: string) => ({
        agent: "frank",
        tool: "execute_trade",
        toolCallId,
        arguments: { product_id: "BTC-USD", quantity: "0.01", action: "buy" },
      });
      const lookupsAtStart = service.endOffsetLookups;
      // The first trade after the assignment catches up once and shows frank is traded here.
      await publishToolRequests(bus, [trade("t0")]);
      await eventually("the first reply", () => replies.length === 1, 3_000);
      for (let i = 1; i < 10; i++) {
        await publishToolRequests(bus, [
          trade(`t${i}`),
          { agent: "frank", tool: "get_portfolio", toolCallId: `p${i}` },
        ]);
      }
      await eventually("19 replies", () => replies.length === 19, 3_000);
      assert.ok(replies.every((reply) => reply.ok), JSON.stringify(replies.find((r) => !r.ok)));
      assert.equal(service.endOffsetLookups - lookupsAtStart, 1, "one lookup for 19 calls");
      service.markAssigned(); // a rebalance: the next call looks up the end once more
      assert.ok(
        (await executeTradeTool(service).run(
          { product_id: "BTC-USD", quantity: "0.01", action: "buy" },
          context("frank", "after"),
        )).ok,
      );
      assert.ok((await getPortfolioTool(service).run({}, context("frank", "after-p"))).ok);
      assert.equal(service.endOffsetLookups - lookupsAtStart, 2);
    } finally {
      await served.close();
    }
  }, { bus: new AssigningBus() });
});

Deno.test("get_portfolio looks the ledger end up for an agent whose trades are not served here", async () => {
  await withLedgerService(async (_bus, service) => {
    service.markAssigned();
    const before = service.endOffsetLookups;
    for (let i = 0; i < 3; i++) {
      await getPortfolioTool(service).run({}, context("ivan", `p${i}`));
    }
    assert.equal(service.endOffsetLookups - before, 3, "ivan never traded here: always fresh");
    const traded = await executeTradeTool(service).run(
      { product_id: "BTC-USD", quantity: "0.01", action: "buy" },
      context("ivan", "t"),
    );
    assert.ok(traded.ok, traded.content);
    await getPortfolioTool(service).run({}, context("ivan", "p-after"));
    assert.equal(service.endOffsetLookups - before, 3, "traded here: answered from memory");
  });
});

Deno.test("without assignment signals every call still looks the ledger end up (the safe fallback)", async () => {
  await withLedgerService(async (_bus, service) => {
    const before = service.endOffsetLookups;
    for (let i = 0; i < 3; i++) {
      await getPortfolioTool(service).run({}, context("gina", `p${i}`));
    }
    assert.equal(service.endOffsetLookups - before, 3);
  });
});

/** A MemoryBus whose ledger followers only see records once `release` is called. */
class LaggingFollowerBus extends MemoryBus {
  #gate = Promise.withResolvers<void>();

  release(): void {
    this.#gate.resolve();
  }

  override subscribe(options: SubscribeOptions) {
    if (!options.groupId.startsWith("lagging.")) return super.subscribe(options);
    return super.subscribe({
      ...options,
      handler: async (record) => {
        await this.#gate.promise;
        await options.handler(record);
      },
    });
  }
}

Deno.test("after an assignment a replica waits for another replica's writes before answering", async () => {
  const bus = new LaggingFollowerBus();
  try {
    await publishTick(bus, priceTick("BTC-USD", { bid: "4650", ask: "4652.69" }));
    const owner = await LedgerService.start(bus, { log: quietLog() });
    const successor = await LedgerService.start(bus, {
      log: quietLog(),
      groupPrefix: "lagging",
      syncTimeoutMs: 300,
    });
    try {
      successor.markAssigned();
      const order = { product_id: "BTC-USD", quantity: "0.5", action: "buy" as const };
      const filled = await executeTradeTool(owner).run(order, context("hank", "c1"));
      assert.ok(filled.ok);
      // The agent moved to the successor, whose follower has not read the trade yet.
      const waiting = await executeTradeTool(successor).run(order, context("hank", "c1"));
      assert.equal(waiting.ok, false);
      assert.match(waiting.content, /catching up/);
      bus.release();
      const answered = await executeTradeTool(successor).run(order, context("hank", "c1"));
      assert.deepEqual(answered, filled, "the redelivery gets the owner's fill, not a second one");
      const trades = (await ledgerEvents(bus)).filter((event) => event.type === "trade_executed");
      assert.equal(trades.length, 1);
    } finally {
      await owner.close();
      await successor.close();
    }
  } finally {
    await bus.close();
  }
});

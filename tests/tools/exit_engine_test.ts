/**
 * Engine-held exits on the real Kafka broker: a stop fires once at the crossing quote, a kill -9
 * of the tools service around the crossing tick neither loses nor doubles the exit, a short's
 * target and a leveraged long's liquidation close at their quotes with the books reconciled.
 */

import assert from "node:assert/strict";
import type { Bus } from "../../core/bus/bus.ts";
import { encodeMessage, readAllMessages } from "../../core/bus/messages.ts";
import { type ArenaTopics, arenaTopics } from "../../core/bus/topics.ts";
import { LedgerEvent, type TradeExecuted } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import { tradeKey } from "../../core/ledger/account.ts";
import { Money } from "../../core/ledger/money.ts";
import { reconcile } from "../../core/ledger/portfolio.ts";
import {
  DEFAULT_TRADE_CONFIG,
  type TradeConfig,
  type TradeRequest,
} from "../../core/ledger/trade.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { startToolsNode, type ToolsNodeHandle } from "../../core/tools/tools_node.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";
import { priceTick, quietLog } from "./_support.ts";
import { killToolsProcess, logCount, startToolsProcess } from "./_tools_process.ts";
import { eventually } from "../_wait.ts";

const OPENED = "2017-09-03T12:00:00.000Z";
const MARGIN_DESK: TradeConfig = { ...DEFAULT_TRADE_CONFIG, allowShort: true, maxLeverage: 10 };

/** The market time `seconds` after the opening quote. */
function at(seconds: number): string {
  return new Date(Date.parse(OPENED) + seconds * 1000).toISOString();
}

/** A BTC quote with a 2 USD spread. */
function btc(bid: string, time: string): PriceTick {
  return priceTick("BTC-USD", { bid, ask: new Money(bid).plus(2).toString(), time });
}

async function publishTicks(bus: Bus, topics: ArenaTopics, ticks: PriceTick[]): Promise<void> {
  await bus.publish(
    topics.prices.topic,
    ticks.map((tick) => ({ key: tick.productId, value: encodeMessage(tick) })),
  );
}

async function engineExits(bus: Bus, topics: ArenaTopics): Promise<TradeExecuted[]> {
  const exits: TradeExecuted[] = [];
  await readAllMessages(bus, topics.ledger.topic, {
    schema: LedgerEvent,
    log: quietLog(),
    handler: (event) => {
      if (event.type === "trade_executed" && (event.cause ?? "agent") !== "agent") {
        exits.push(event);
      }
    },
  });
  return exits;
}

/** Waits until the node has read the tick at `time` (`stop` then waits for its queued exits). */
async function readThrough(node: ToolsNodeHandle, time: string): Promise<void> {
  await eventually(
    `the ${time} tick`,
    () => node.ledger.prices.get("BTC-USD")?.time === time,
    20_000,
  );
}

/** A Kafka scenario with a private arena prefix, its first quote already on the price topic. */
async function kafkaScenario(
  name: string,
  run: (arena: { bus: Bus; topics: ArenaTopics; calculator: Calculator }) => Promise<void>,
): Promise<void> {
  const bus = testKafkaBus();
  const topics = arenaTopics(`${uniqueName(name)}.`);
  const calculator = new Calculator();
  try {
    await bus.ensureTopics([topics.prices, topics.ledger]);
    await publishTicks(bus, topics, [btc("4650", OPENED)]);
    await run({ bus, topics, calculator });
  } finally {
    calculator.close();
    await bus.close();
  }
}

/**
 * Starts a tools node on the scenario's arena, opens a position for `open.agent` (asserting it
 * filled), runs `check` on the open position, publishes `ticks`, waits until the node read the
 * last one and stops it (queued exits are written first). Returns the stopped node.
 */
async function openThenTick(
  arena: { bus: Bus; topics: ArenaTopics; calculator: Calculator },
  options: {
    config?: TradeConfig;
    open: Omit<TradeRequest, "productId">;
    check?: (node: ToolsNodeHandle) => Promise<void> | void;
    ticks: PriceTick[];
  },
): Promise<ToolsNodeHandle> {
  const node = await startToolsNode(arena.bus, {
    log: quietLog(),
    topics: arena.topics,
    calculator: arena.calculator,
    config: options.config,
  });
  try {
    const opened = await node.ledger.trade({ productId: "BTC-USD", ...options.open });
    assert.ok(opened.ok, opened.content);
    await options.check?.(node);
    await publishTicks(arena.bus, arena.topics, options.ticks);
    await readThrough(node, options.ticks.at(-1)!.time);
  } finally {
    await node.stop();
  }
  return node;
}

Deno.test({
  name: "a long's stop fires once on Kafka, at the crossing tick's bid with the fee",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    kafkaScenario("h1stop", async (arena) => {
      const { bus, topics } = arena;
      const node = await openThenTick(arena, {
        open: {
          agent: "exit-a",
          toolCallId: "open-a",
          quantity: "2",
          action: "buy",
          stopLoss: "4500",
        },
        ticks: [
          btc("4600", at(60)),
          btc("4500.5", at(120)),
          btc("4499.5", at(180)),
          btc("4450", at(240)),
          btc("4520", at(300)),
          btc("4400", at(360)),
        ],
      });
      const exits = await engineExits(bus, topics);
      assert.equal(exits.length, 1, "three ticks are below the stop, one exit");
      const [exit] = exits;
      assert.equal(exit!.cause, "stop_loss");
      assert.equal(exit!.toolCallId, "exit:open-a");
      assert.equal(exit!.quotePrice, "4499.5");
      assert.equal(exit!.fillPrice, "4499.5");
      assert.equal(exit!.fee, "53.994", "60 bps of 2 x 4499.5");
      assert.equal(exit!.time, at(180));
      const account = node.ledger.state.accounts.get("exit-a")!;
      assert.equal(account.positions.size, 0);
      assert.deepEqual(reconcile(account).problems, []);
    }),
});

Deno.test({
  name:
    "a stop crossed while the tools are down is written once by a new process at the crossing quote; kill -9 right after it and a restart add nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    kafkaScenario("h1kill", async ({ bus, topics, calculator }) => {
      const group = uniqueName("tools");
      const first = await startToolsNode(bus, {
        log: quietLog(),
        topics,
        calculator,
        groupId: group,
      });
      try {
        const opened = await first.ledger.trade({
          agent: "exit-k",
          toolCallId: "open-k",
          productId: "BTC-USD",
          quantity: "2",
          action: "buy",
          stopLoss: "4500",
        });
        assert.ok(opened.ok, opened.content);
        await publishTicks(bus, topics, [btc("4600", at(60))]);
        await readThrough(first, at(60));
      } finally {
        await first.stop();
      }
      // While no tools run, the stop is crossed at 4490, then lower.
      await publishTicks(bus, topics, [
        btc("4490", at(120)),
        btc("4400", at(180)),
        btc("4480", at(240)),
      ]);
      const process = startToolsProcess({
        bootstrap: kafkaBootstrap(),
        prefix: topics.prefix,
        group,
      });
      try {
        await eventually("the exit", () => logCount(process.log(), "Engine exit") >= 1, 90_000);
      } finally {
        const killed = await killToolsProcess(process);
        assert.equal(killed.signal, "SIGKILL");
      }
      assert.match(
        process.log(),
        /"message":"Engine exit".*"cause":"stop_loss".*"fillPrice":"4490"/,
      );
      // Killed right after writing it; the stop is crossed again before the restart.
      await publishTicks(bus, topics, [btc("4300", at(300))]);
      const restarted = await startToolsNode(bus, {
        log: quietLog(),
        topics,
        calculator,
        groupId: group,
      });
      try {
        await readThrough(restarted, at(300));
      } finally {
        await restarted.stop();
      }
      const exits = await engineExits(bus, topics);
      assert.deepEqual(
        exits.map((exit) => [exit.toolCallId, exit.quotePrice, exit.time]),
        [["exit:open-k", "4490", at(120)]],
      );
      const state = restarted.ledger.state;
      assert.ok(state.trades.has(tradeKey("exit-k", "exit:open-k")));
      assert.equal(state.duplicates, 0, "no second copy of the exit was written");
      const account = state.accounts.get("exit-k")!;
      assert.equal(account.positions.size, 0);
      assert.deepEqual(reconcile(account).problems, []);
    }),
});

Deno.test({
  name: "a short's take profit buys it back at the crossing tick's ask",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    kafkaScenario("h1short", async (arena) => {
      const { bus, topics } = arena;
      const node = await openThenTick(arena, {
        config: MARGIN_DESK,
        open: {
          agent: "exit-s",
          toolCallId: "open-s",
          quantity: "2",
          action: "sell",
          leverage: 5,
          takeProfit: "4400",
        },
        check: (node) => {
          const position = node.ledger.state.accounts.get("exit-s")!.positions.get("BTC-USD")!;
          assert.equal(position.side, "short");
          assert.equal(position.margin.toString(), "1860", "2 x 4650 at leverage 5");
        },
        ticks: [
          btc("4450", at(60)), // ask 4452: above the target
          btc("4397", at(120)), // ask 4399: crosses it
          btc("4300", at(180)),
        ],
      });
      const exits = await engineExits(bus, topics);
      assert.equal(exits.length, 1);
      const [exit] = exits;
      assert.equal(exit!.cause, "take_profit");
      assert.equal(exit!.position, "short");
      assert.equal(exit!.side, "buy");
      assert.equal(exit!.quotePrice, "4399");
      assert.equal(exit!.fee, "52.788", "60 bps of 2 x 4399");
      const account = node.ledger.state.accounts.get("exit-s")!;
      assert.equal(account.realizedPnl.toString(), "502", "sold at 4650, bought back at 4399");
      // 100000 - 1860 margin - 55.8 fee, then + 1860 + 502 - 52.788 on the close.
      assert.equal(account.cash.toString(), "100393.412");
      assert.equal(exit!.cashAfter, "100393.412");
      assert.deepEqual(reconcile(account).problems, []);
    }),
});

Deno.test({
  name:
    "a leveraged long is liquidated at the first quote below its liquidation price, its fee covered",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    kafkaScenario("h1liq", async (arena) => {
      const { bus, topics } = arena;
      const node = await openThenTick(arena, {
        config: MARGIN_DESK,
        open: { agent: "exit-l", toolCallId: "open-l", quantity: "2", action: "buy", leverage: 10 },
        check: async (node) => {
          // Cost 2 x 4652 = 9304, margin 930.4; maintenance 0.5 % + the 60 bps fee:
          // (9304 - 930.4) / (2 x (1 - 0.011)).
          const view = await node.ledger.portfolio("exit-l");
          assert.equal(view.positions[0]!.liquidationPrice, "4233.36703741");
        },
        ticks: [
          btc("4300", at(60)),
          btc("4233.4", at(120)), // just above the liquidation price
          btc("4233.3", at(180)), // the first quote below it
          btc("4100", at(240)),
        ],
      });
      const exits = await engineExits(bus, topics);
      assert.equal(exits.length, 1);
      const [exit] = exits;
      assert.equal(exit!.cause, "liquidation");
      assert.equal(exit!.quotePrice, "4233.3");
      assert.equal(exit!.time, at(180));
      // Proceeds 8466.6, fee 50.7996: 930.4 + (8466.6 - 9304) - 50.7996 = 42.2004 comes back.
      assert.equal(exit!.fee, "50.7996");
      assert.equal(exit!.badDebt, undefined);
      const account = node.ledger.state.accounts.get("exit-l")!;
      assert.equal(account.badDebt.toString(), "0");
      // 100000 - 930.4 margin - 55.824 entry fee + 42.2004.
      assert.equal(account.cash.toString(), "99055.9764");
      assert.ok(reconcile(account).ok, reconcile(account).problems.join("; "));
      const margins = [...account.positions.values()]
        .reduce((sum, position) => sum.plus(position.margin), new Money(0));
      const identity = account.cash.plus(margins).plus(account.feesPaid)
        .minus(account.realizedPnl).minus(account.badDebt);
      assert.equal(identity.toString(), account.startingCash.toString());
      assert.equal(account.startingCash.toString(), "100000");
    }),
});

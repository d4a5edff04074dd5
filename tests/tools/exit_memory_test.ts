/**
 * Engine-held exits in the ledger service on the in-memory bus: a stop fires once at the quote
 * of the tick that crossed it, stale and early ticks fire nothing, a crash before the exit is
 * written is repaired by the restart at the same quote, and two replicas count one exit.
 */

import assert from "node:assert/strict";
import type { Bus, OutgoingRecord } from "../../core/bus/bus.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { encodeMessage } from "../../core/bus/messages.ts";
import { LEDGER_TOPIC, PRICE_TOPIC } from "../../core/bus/topics.ts";
import { LedgerEvent, type TradeExecuted } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import { exitCallId, rebuildState, snapshotAccount, tradeKey } from "../../core/ledger/account.ts";
import { reconcile } from "../../core/ledger/portfolio.ts";
import { createLogger, type Logger } from "../../core/log.ts";
import { HolderIndex } from "../../core/tools/holders.ts";
import { LedgerService } from "../../core/tools/ledger_service.ts";
import { ledgerEvents, priceTick, quietLog } from "./_support.ts";
import { eventually } from "../_wait.ts";

const OPENED = "2017-09-03T12:00:00.000Z";

/** The market time `seconds` after the opening quote. */
function at(seconds: number): string {
  return new Date(Date.parse(OPENED) + seconds * 1000).toISOString();
}

function btc(bid: string, options: { time: string; stale?: boolean }): PriceTick {
  return priceTick("BTC-USD", { bid, ask: `${Number(bid) + 2}`, ...options });
}

async function publishTicks(bus: Bus, ticks: PriceTick[]): Promise<void> {
  await bus.publish(
    PRICE_TOPIC,
    ticks.map((tick) => ({ key: tick.productId, value: encodeMessage(tick) })),
  );
}

function engineExits(events: LedgerEvent[]): TradeExecuted[] {
  return events.filter((event): event is TradeExecuted =>
    event.type === "trade_executed" && (event.cause ?? "agent") !== "agent"
  );
}

/** A logger keeping its JSON lines, for assertions on what the service logged. */
function recordingLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("test", { level: "info", sink: (line) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** Opens a 2 BTC long at the 4652 ask with a stop at 4500, through the service. */
async function openLongWithStop(service: LedgerService, agent: string): Promise<void> {
  const opened = await service.trade({
    agent,
    toolCallId: "open",
    productId: "BTC-USD",
    quantity: "2",
    action: "buy",
    stopLoss: "4500",
  });
  assert.ok(opened.ok, opened.content);
}

Deno.test("a stop closes the long once, at the bid of the tick that crossed it, with the fee", async () => {
  const bus = new MemoryBus();
  const { log, lines } = recordingLog();
  try {
    await publishTicks(bus, [btc("4650", { time: OPENED })]);
    const service = await LedgerService.start(bus, { log });
    await openLongWithStop(service, "stop-a");
    await publishTicks(bus, [
      btc("4600", { time: at(60) }),
      btc("4500.01", { time: at(120) }),
      btc("4499.5", { time: at(180) }),
      btc("4400", { time: at(240) }),
      btc("4600", { time: at(300) }),
    ]);
    await eventually("the last tick", () => service.prices.get("BTC-USD")!.time === at(300), 3_000);
    await service.close();

    const exits = engineExits(await ledgerEvents(bus));
    assert.equal(exits.length, 1, "one exit, though two ticks are below the stop");
    const exit = exits[0]!;
    assert.equal(exit.cause, "stop_loss");
    assert.equal(exit.toolCallId, "exit:open");
    assert.equal(exit.side, "sell");
    assert.equal(exit.quantity, "2");
    assert.equal(exit.quotePrice, "4499.5");
    assert.equal(exit.fillPrice, "4499.5");
    assert.equal(exit.notional, "8999");
    assert.equal(exit.fee, "53.994", "60 bps of 8999");
    assert.equal(exit.time, at(180));
    const account = service.state.accounts.get("stop-a")!;
    assert.equal(account.positions.size, 0);
    assert.equal(exit.cashAfter, account.cash.toString());
    assert.deepEqual(reconcile(account).problems, []);
    const logged = lines.filter((line) => line.message === "Engine exit");
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.agent, "stop-a");
    assert.equal(logged[0]!.productId, "BTC-USD");
    assert.equal(logged[0]!.cause, "stop_loss");
    assert.equal(logged[0]!.fillPrice, "4499.5");
  } finally {
    await bus.close();
  }
});

Deno.test("stale ticks and ticks no later than the position's last trade close nothing; the next fresh crossing does", async () => {
  const bus = new MemoryBus();
  try {
    await publishTicks(bus, [btc("4650", { time: OPENED })]);
    const service = await LedgerService.start(bus, { log: quietLog() });
    await openLongWithStop(service, "stop-b");
    await publishTicks(bus, [
      btc("4400", { time: OPENED }), // at the trade's own time
      btc("4400", { time: at(60), stale: true }),
      btc("4600", { time: at(120) }),
    ]);
    await eventually(
      "the third tick",
      () => service.prices.get("BTC-USD")!.time === at(120),
      3_000,
    );
    assert.equal(service.state.accounts.get("stop-b")!.positions.get("BTC-USD")?.side, "long");
    await publishTicks(bus, [btc("4490", { time: at(180) })]);
    await eventually("the last tick", () => service.prices.get("BTC-USD")!.time === at(180), 3_000);
    await service.close();
    const exits = engineExits(await ledgerEvents(bus));
    assert.deepEqual(exits.map((exit) => [exit.quotePrice, exit.time]), [["4490", at(180)]]);
  } finally {
    await bus.close();
  }
});

/** A bus whose ledger topic refuses writes while `down` is set (a crash before the write). */
class LedgerOutageBus extends MemoryBus {
  down = false;

  override publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (this.down && topic === LEDGER_TOPIC) {
      return Promise.reject(new Error("The broker is unreachable"));
    }
    return super.publish(topic, records);
  }
}

Deno.test("an exit lost before it was written is written by the restart at the crossing tick's quote, not the latest", async () => {
  const bus = new LedgerOutageBus();
  const first = recordingLog();
  try {
    await publishTicks(bus, [btc("4650", { time: OPENED })]);
    const service = await LedgerService.start(bus, { log: first.log });
    await openLongWithStop(service, "stop-c");
    bus.down = true;
    await publishTicks(bus, [
      btc("4499", { time: at(60) }),
      btc("4450", { time: at(120) }),
      btc("4300", { time: at(180) }),
    ]);
    await eventually("the last tick", () => service.prices.get("BTC-USD")!.time === at(180), 3_000);
    await service.close();
    assert.ok(first.lines.some((line) => line.message === "Publishing an engine exit failed"));
    assert.deepEqual(engineExits(await ledgerEvents(bus)), []);

    bus.down = false;
    const restarted = await LedgerService.start(bus, { log: quietLog() });
    const key = tradeKey("stop-c", exitCallId({ openedBy: "open" }));
    await eventually("the exit after the restart", () => restarted.state.trades.has(key), 3_000);
    await restarted.close();
    const exits = engineExits(await ledgerEvents(bus));
    assert.equal(exits.length, 1);
    assert.equal(exits[0]!.quotePrice, "4499", "the first crossing quote, read again on start");
    assert.equal(exits[0]!.time, at(60));
    assert.deepEqual(reconcile(restarted.state.accounts.get("stop-c")!).problems, []);
  } finally {
    await bus.close();
  }
});

Deno.test("two replicas watching one account close it once; every rebuild agrees", async () => {
  const bus = new MemoryBus();
  try {
    await publishTicks(bus, [btc("4650", { time: OPENED })]);
    const one = await LedgerService.start(bus, { log: quietLog() });
    const two = await LedgerService.start(bus, { log: quietLog() });
    await openLongWithStop(one, "stop-d");
    await eventually(
      "the position",
      () => two.state.accounts.get("stop-d")?.positions.size === 1,
      3_000,
    );
    await publishTicks(bus, [btc("4480", { time: at(60) })]);
    const key = tradeKey("stop-d", "exit:open");
    await eventually(
      "both to apply it",
      () => one.state.trades.has(key) && two.state.trades.has(key),
      3_000,
    );
    await one.close();
    await two.close();

    const events = await ledgerEvents(bus);
    assert.ok(engineExits(events).length >= 1);
    const rebuilt = rebuildState(events);
    const account = rebuilt.accounts.get("stop-d")!;
    assert.equal(account.tradeCount, 2, "the open and one exit");
    assert.deepEqual(reconcile(account).problems, []);
    assert.deepEqual(snapshotAccount(one.state.accounts.get("stop-d")!), snapshotAccount(account));
    assert.deepEqual(snapshotAccount(two.state.accounts.get("stop-d")!), snapshotAccount(account));
    assert.equal(one.corruptEvents + two.corruptEvents, 0);
  } finally {
    await bus.close();
  }
});

Deno.test("the holder index lists the agents holding a product until they close", () => {
  const holders = new HolderIndex();
  holders.set("a", "BTC-USD", true);
  holders.set("b", "BTC-USD", true);
  holders.set("a", "ETH-USD", true);
  const btcHolders = holders.of("BTC-USD");
  holders.set("a", "BTC-USD", false);
  assert.deepEqual(btcHolders, ["a", "b"], "an earlier answer is a copy");
  assert.deepEqual(holders.of("BTC-USD"), ["b"]);
  assert.deepEqual(holders.of("ETH-USD"), ["a"]);
  holders.set("b", "BTC-USD", false);
  assert.deepEqual(holders.of("BTC-USD"), []);
  assert.deepEqual(holders.of("SOL-USD"), []);
});

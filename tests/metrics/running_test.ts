import assert from "node:assert/strict";
import fc from "fast-check";
import type { LedgerEvent, TradeExecuted } from "../../core/contracts/ledger.ts";
import { RunningMetrics } from "../../core/metrics/running.ts";
import { at, computeMetrics, markAt, type MarkPoint, MIN, START } from "./_imports.ts";

function opened(minutes = 0): LedgerEvent {
  return {
    v: 1,
    type: "account_opened",
    eventId: "open",
    agent: "a",
    cash: "1000",
    time: at(minutes),
  };
}

function trade(
  id: string,
  side: "buy" | "sell",
  quantity: string,
  price: string,
  minutes: number,
): LedgerEvent {
  return {
    v: 1,
    type: "trade_executed",
    eventId: `t${id}`,
    agent: "a",
    toolCallId: `c${id}`,
    productId: "BTC-USD",
    side,
    quantity,
    fillPrice: price,
    quotePrice: price,
    notional: String(Number(quantity) * Number(price)),
    fee: "0.5",
    takerFeeBps: 60,
    slippageBps: 0,
    cashAfter: "0",
    time: at(minutes),
  };
}

/** An ETH trade on margin at a minute, e.g. `ethTrade("5", "sell 20 at 10", 5, terms)`. */
function ethTrade(
  id: string,
  order: string,
  minutes: number,
  terms: Partial<TradeExecuted>,
): TradeExecuted {
  const [side, quantity, , price] = order.split(" ");
  const base = trade(id, side as "buy" | "sell", quantity!, price!, minutes);
  assert.ok(base.type === "trade_executed");
  return { ...base, productId: "ETH-USD", ...terms };
}

const SHORT = { position: "short" } as const;

/** The fee the trades above record: both paths score against it. */
const FEE = { takerFeeBps: 60 };

/** Reads both ways and compares every field. */
function assertSame(
  running: RunningMetrics,
  events: LedgerEvent[],
  marks: MarkPoint[],
  endMs: number,
): void {
  if (running.stale) running.rebuild(events, marks);
  const live = running.read(endMs, FEE)!.metrics;
  const exact = computeMetrics(events, marks, { agent: "a", endMs, ...FEE });
  assert.deepEqual(live, exact);
}

/** Two products over three hours: BTC 100 -> 130 with a dip, ETH flat then up; asks above bids. */
function market(): MarkPoint[] {
  const marks: MarkPoint[] = [];
  for (let minute = 0; minute <= 180; minute += 1) {
    const btc = 100 + 30 * Math.sin(minute / 20) + minute / 10;
    marks.push(markAt("BTC-USD", minute, { bid: btc.toFixed(2), ask: (btc + 0.05).toFixed(2) }));
    if (minute % 3 === 0) {
      const eth = 10 + minute / 60;
      marks.push(markAt("ETH-USD", minute, { bid: eth.toFixed(3), ask: (eth + 0.002).toFixed(3) }));
    }
  }
  return marks;
}

/**
 * Spot BTC trades, and ETH on margin: a short at 5x stopped out, a 10x long closed at its target,
 * a second replica's exit of that closed long (void), and a 20x short liquidated past its margin.
 */
const LEDGER: LedgerEvent[] = [
  opened(0),
  trade("1", "buy", "3", "100", 0),
  ethTrade("5", "sell 20 at 10", 5, { ...SHORT, leverage: 5, stopLoss: "10.5" }),
  trade("2", "sell", "1", "120", 17),
  ethTrade("6", "buy 20 at 10.5", 40, { ...SHORT, cause: "stop_loss", toolCallId: "exit:c5" }),
  trade("3", "buy", "2", "95", 61),
  ethTrade("7", "buy 50 at 11", 70, { leverage: 10, takeProfit: "12" }),
  ethTrade("8", "sell 50 at 12", 120, { cause: "take_profit", toolCallId: "exit:c7" }),
  ethTrade("10", "sell 100 at 12.1", 125, { ...SHORT, leverage: 20 }),
  ethTrade("9", "sell 50 at 12", 130, { cause: "liquidation", toolCallId: "exit:c7" }),
  trade("4", "sell", "4", "110", 150),
  ethTrade("11", "buy 100 at 12.9", 170, {
    ...SHORT,
    cause: "liquidation",
    toolCallId: "exit:c10",
  }),
];

Deno.test("running metrics equal computeMetrics at every market time of an in-order replay", () => {
  const running = new RunningMetrics({ agent: "a" });
  const marks = market();
  const events: LedgerEvent[] = [];
  const seen: MarkPoint[] = [];
  let next = 0;
  for (const point of marks) {
    while (next < LEDGER.length && Date.parse(LEDGER[next]!.time) <= point.timeMs) {
      events.push(LEDGER[next]!);
      running.addEvent(LEDGER[next++]!);
    }
    seen.push(point);
    running.addMark(point);
    if (point.productId === "BTC-USD" && point.timeMs % (7 * MIN) === 0) {
      assertSame(running, events, seen, point.timeMs);
    }
  }
  assertSame(running, events, seen, marks.at(-1)!.timeMs + 30_000);
  assert.equal(running.work.rebuilds, 0);
});

Deno.test("a late trade makes running metrics stale; a rebuild gives the exact figures", () => {
  const running = new RunningMetrics({ agent: "a" });
  const marks = market().filter((point) => point.timeMs <= START + 90 * MIN);
  const events = LEDGER.filter((event) => Date.parse(event.time) <= START + 61 * MIN);
  const early = events.slice(0, -1);
  for (const point of marks) {
    while (early.length > 0 && Date.parse(early[0]!.time) <= point.timeMs) {
      running.addEvent(early.shift()!);
    }
    running.addMark(point);
  }
  running.read(START + 90 * MIN, FEE);
  // The last of them happened at minute 61, long settled: only a rebuild can account for it.
  running.addEvent(events.at(-1)!);
  assert.equal(running.stale, true);
  assert.throws(() => running.read(START + 90 * MIN, FEE), /stale/);
  assertSame(running, events, marks, START + 90 * MIN);
  assert.equal(running.work.rebuilds, 1);
});

Deno.test("running metrics equal computeMetrics for inputs arriving in any order", () => {
  const inputs = [
    ...LEDGER.map((event) => ({ kind: "event" as const, event, timeMs: Date.parse(event.time) })),
    ...market().filter((point) => point.timeMs % (5 * MIN) === 0)
      .map((point) => ({ kind: "mark" as const, point, timeMs: point.timeMs })),
  ].sort((a, b) => a.timeMs - b.timeMs);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 40 }), {
        minLength: inputs.length,
        maxLength: inputs.length,
      }),
      fc.array(fc.integer({ min: 0, max: inputs.length - 1 }), { maxLength: 6 }),
      (delays, reads) => {
        // Each input arrives up to 40 inputs late; the ledger keeps its own order.
        const order = inputs.map((input, index) => ({ input, key: index + delays[index]! }))
          .sort((a, b) => a.key - b.key).map(({ input }) => input);
        const ledger = order.filter((input) => input.kind === "event");
        ledger.sort((a, b) => LEDGER.indexOf(a.event) - LEDGER.indexOf(b.event));
        let ledgerIndex = 0;
        const running = new RunningMetrics({ agent: "a", minLagMs: MIN });
        const events: LedgerEvent[] = [];
        const marks: MarkPoint[] = [];
        const readAt = new Set(reads);
        order.forEach((input, index) => {
          if (input.kind === "event") {
            const event = ledger[ledgerIndex++]!.event;
            events.push(event);
            running.addEvent(event);
          } else {
            marks.push(input.point);
            running.addMark(input.point);
          }
          const latest = Math.max(
            ...events.map((event) => Date.parse(event.time)),
            ...marks.map((point) => point.timeMs),
          );
          if (readAt.has(index) && events.length > 0) assertSame(running, events, marks, latest);
        });
        assertSame(running, events, marks, START + 200 * MIN);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("the margin ledger the running tests replay is scored: shorts, leverage, exits, bad debt", () => {
  const metrics = computeMetrics(LEDGER, market(), {
    agent: "a",
    endMs: START + 180 * MIN,
    ...FEE,
  });
  // Two BTC sells and three ETH closes (the void exit closes nothing): the sells and the target
  // win, the stop and the liquidation lose.
  assert.equal(metrics.roundTrips, 5);
  assert.equal(metrics.winRate, 0.6);
  // The liquidation lost $20 more than its margin: the house's bad debt, not the account's.
  assert.equal(metrics.cash, "1045");
  assert.equal(metrics.finalEquity, "1045");
});

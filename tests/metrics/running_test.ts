import assert from "node:assert/strict";
import fc from "fast-check";
import type { LedgerEvent } from "../../core/contracts/ledger.ts";
import { RunningMetrics } from "../../core/metrics/running.ts";
import { computeMetrics, type MarkPoint } from "./_imports.ts";

const MIN = 60_000;
const START = Date.parse("2017-09-03T00:00:00.000Z");

function at(minutes: number): string {
  return new Date(START + minutes * MIN).toISOString();
}

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

/** The fee the trades above record: both paths score against it. */
const FEE = { takerFeeBps: 60 };

function mark(productId: string, minutes: number, price: string): MarkPoint {
  return { productId, timeMs: START + minutes * MIN, price };
}

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

/** Two products over three hours: BTC 100 -> 130 with a dip, ETH flat then up. */
function market(): MarkPoint[] {
  const marks: MarkPoint[] = [];
  for (let minute = 0; minute <= 180; minute += 1) {
    const btc = 100 + 30 * Math.sin(minute / 20) + minute / 10;
    marks.push(mark("BTC-USD", minute, btc.toFixed(2)));
    if (minute % 3 === 0) marks.push(mark("ETH-USD", minute, (10 + minute / 60).toFixed(3)));
  }
  return marks;
}

const LEDGER: LedgerEvent[] = [
  opened(0),
  trade("1", "buy", "3", "100", 0),
  trade("2", "sell", "1", "120", 17),
  trade("3", "buy", "2", "95", 61),
  trade("4", "sell", "4", "110", 150),
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
  const events = LEDGER.slice(0, 3);
  for (const event of events.slice(0, 2)) running.addEvent(event);
  for (const point of marks) running.addMark(point);
  running.read(START + 90 * MIN, FEE);
  // Trade 3 happened at minute 61, long settled: only a rebuild can account for it.
  running.addEvent(events[2]!);
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

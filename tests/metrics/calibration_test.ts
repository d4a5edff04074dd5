import assert from "node:assert/strict";
import type { LedgerEvent } from "../../core/contracts/ledger.ts";
import {
  accountOpenedEvent,
  applyEvent,
  createLedgerState,
  executeTrade,
  type LedgerState,
  type TradeConfig,
  type TradeRequest,
} from "../../core/ledger/mod.ts";
import { exitTrade, exitTrigger } from "../../core/ledger/exits.ts";
import {
  calibrationCalls,
  calibrationOf,
  formatReliability,
  poolCalibrations,
  scoreCalibration,
} from "../../core/metrics/calibration.ts";
import { tick } from "../ledger/_fixtures.ts";

const AGENT = "caller";
const OPEN = "2017-09-03T12:00:00.000Z";
const DESK: TradeConfig = { takerFeeBps: 60, slippageBps: 0, allowShort: true, maxLeverage: 5 };

function minute(n: number): string {
  return new Date(Date.parse(OPEN) + n * 60_000).toISOString();
}

/** A real ledger: every trade priced by `executeTrade` (or `exitTrade`) and applied. */
class Ledger {
  readonly state: LedgerState = createLedgerState();
  readonly events: LedgerEvent[] = [];
  readonly agent: string;
  #minute = 0;

  constructor(agent = AGENT) {
    this.agent = agent;
    this.#apply(accountOpenedEvent(agent, { cash: "100000", time: OPEN }));
  }

  #apply(event: LedgerEvent): void {
    assert.equal(applyEvent(this.state, event), "applied");
    this.events.push(event);
  }

  /** Trades 1 unit (unless told) of `productId` at a quote with bid = ask = `price`. */
  trade(
    productId: string,
    request: Omit<Partial<TradeRequest>, "productId"> & Pick<TradeRequest, "action">,
    price: string,
  ): void {
    const time = minute(++this.#minute);
    const decision = executeTrade(this.state.accounts.get(this.agent)!, {
      agent: this.agent,
      toolCallId: `call-${this.#minute}`,
      productId,
      quantity: "1",
      ...request,
    }, { price: tick(productId, { bid: price, ask: price, time }), config: DESK });
    assert.ok(decision.ok, decision.ok ? "" : decision.reason);
    this.#apply(decision.event);
  }

  /** Publishes the engine exit a quote at `price` triggers (one must fire). */
  quote(productId: string, price: string): void {
    const quote = tick(productId, { bid: price, ask: price, time: minute(++this.#minute) });
    const account = this.state.accounts.get(this.agent)!;
    const position = account.positions.get(productId)!;
    const trigger = exitTrigger(position, quote);
    assert.ok(trigger, `a quote at ${price} triggers an exit`);
    this.#apply(exitTrade(account, position, { trigger, tick: quote, config: DESK }));
  }
}

Deno.test("calls of 0.9 (won), 0.8 (lost) and 0.6 (won) have a Brier score of exactly 0.27", () => {
  const ledger = new Ledger();
  ledger.trade("BTC-USD", { action: "buy", confidence: 0.9 }, "100");
  ledger.trade("BTC-USD", { action: "sell" }, "110");
  ledger.trade("ETH-USD", { action: "buy", confidence: 0.8 }, "100");
  ledger.trade("ETH-USD", { action: "sell" }, "90");
  ledger.trade("LTC-USD", { action: "buy", confidence: 0.6 }, "100");
  ledger.trade("LTC-USD", { action: "sell" }, "120");
  const calls = calibrationCalls(ledger.events, AGENT);
  assert.deepEqual(calls, {
    scored: [
      { confidence: 0.9, outcome: 1 },
      { confidence: 0.8, outcome: 0 },
      { confidence: 0.6, outcome: 1 },
    ],
    open: 0,
  });
  const calibration = scoreCalibration(calls);
  // (0.1^2 + 0.8^2 + 0.4^2) / 3 = (0.01 + 0.64 + 0.16) / 3 = 0.27, in exact decimals.
  assert.equal(calibration.brier, 0.27);
  assert.equal(calibration.calls, 3);
  assert.equal(calibration.hitRate, 2 / 3);
  assert.equal(calibration.meanConfidence, 0.7666666666666667);
});

Deno.test("a position added to twice and closed by its stop gives its calls one outcome", () => {
  const ledger = new Ledger();
  ledger.trade("BTC-USD", { action: "buy", confidence: 0.7, stopLoss: "95" }, "100");
  ledger.trade("BTC-USD", { action: "buy", confidence: 0.5 }, "101");
  // The second add states no confidence: it is no call, but its fee is part of the round trip.
  ledger.trade("BTC-USD", { action: "buy" }, "102");
  ledger.quote("BTC-USD", "94");
  assert.equal(ledger.events.at(-1)!.type, "trade_executed");
  assert.equal((ledger.events.at(-1) as { cause?: string }).cause, "stop_loss");
  const calibration = calibrationOf(ledger.events, AGENT);
  assert.deepEqual(calibrationCalls(ledger.events, AGENT).scored, [
    { confidence: 0.7, outcome: 0 },
    { confidence: 0.5, outcome: 0 },
  ]);
  // (0.7^2 + 0.5^2) / 2 = (0.49 + 0.25) / 2
  assert.equal(calibration.brier, 0.37);
});

Deno.test("a short closed by its take profit is a won call", () => {
  const ledger = new Ledger();
  ledger.trade(
    "BTC-USD",
    { action: "sell", confidence: 0.75, takeProfit: "90", leverage: 2 },
    "100",
  );
  ledger.quote("BTC-USD", "89");
  assert.deepEqual(calibrationCalls(ledger.events, AGENT).scored, [
    { confidence: 0.75, outcome: 1 },
  ]);
});

Deno.test("a round trip whose P&L is positive but whose fees make it negative is lost", () => {
  const ledger = new Ledger();
  // Bought at 100 (fee 0.60), sold at 101 (fee 0.606): P&L +1, after fees -0.206.
  ledger.trade("BTC-USD", { action: "buy", confidence: 0.9 }, "100");
  ledger.trade("BTC-USD", { action: "sell" }, "101");
  const account = ledger.state.accounts.get(AGENT)!;
  assert.equal(account.realizedPnl.toString(), "1");
  assert.equal(account.feesPaid.toString(), "1.206");
  const calibration = calibrationOf(ledger.events, AGENT);
  assert.deepEqual(calibrationCalls(ledger.events, AGENT).scored, [
    { confidence: 0.9, outcome: 0 },
  ]);
  assert.equal(calibration.brier, 0.81);
});

Deno.test("partial closes count towards the round trip until the position is flat", () => {
  const ledger = new Ledger();
  ledger.trade("BTC-USD", { action: "buy", quantity: "2", confidence: 0.6 }, "100");
  // Half sold at a loss of 20, the rest at a gain of 10: the last sale made money, the round
  // trip did not (P&L -10, fees 1.20 + 0.48 + 0.66).
  ledger.trade("BTC-USD", { action: "sell" }, "80");
  assert.deepEqual(calibrationCalls(ledger.events, AGENT), { scored: [], open: 1 });
  ledger.trade("BTC-USD", { action: "sell" }, "110");
  assert.equal(ledger.state.accounts.get(AGENT)!.realizedPnl.toString(), "-10");
  assert.deepEqual(calibrationCalls(ledger.events, AGENT), {
    scored: [{ confidence: 0.6, outcome: 0 }],
    open: 0,
  });
});

Deno.test("a call on a position still open is counted as open and not scored", () => {
  const ledger = new Ledger();
  ledger.trade("BTC-USD", { action: "buy", confidence: 0.3 }, "100");
  ledger.trade("ETH-USD", { action: "buy", confidence: 0.9 }, "100");
  ledger.trade("ETH-USD", { action: "sell" }, "200");
  const calibration = calibrationOf(ledger.events, AGENT);
  assert.equal(calibration.calls, 1);
  assert.equal(calibration.open, 1);
  assert.equal(calibration.brier, 0.01);
  const only = new Ledger();
  only.trade("BTC-USD", { action: "buy", confidence: 0.3 }, "100");
  const none = calibrationOf(only.events, AGENT);
  assert.equal(none.brier, null, "no scored call: no Brier score");
  assert.equal(none.open, 1);
  assert.match(formatReliability(AGENT, none), /^caller: Brier n\/a over 0 scored calls, 1 open$/m);
});

Deno.test("a reducing trade's confidence and other agents' trades are no calls", () => {
  const ledger = new Ledger();
  ledger.trade("BTC-USD", { action: "buy" }, "100");
  ledger.trade("BTC-USD", { action: "sell", confidence: 0.9 }, "120");
  const other = new Ledger("other");
  other.trade("BTC-USD", { action: "buy", confidence: 0.4 }, "100");
  other.trade("BTC-USD", { action: "sell" }, "120");
  const mixed = [...ledger.events, ...other.events];
  assert.deepEqual(calibrationCalls(mixed, AGENT), { scored: [], open: 0 });
  assert.deepEqual(calibrationCalls(mixed, "other"), {
    scored: [{ confidence: 0.4, outcome: 1 }],
    open: 0,
  });
});

Deno.test("the reliability table puts each call in its bin with its mean confidence and hit rate", () => {
  const calibration = scoreCalibration({
    scored: [
      { confidence: 0, outcome: 0 },
      { confidence: 0.1, outcome: 1 },
      { confidence: 0.2, outcome: 0 },
      { confidence: 0.6, outcome: 1 },
      { confidence: 0.7, outcome: 0 },
      { confidence: 0.8, outcome: 1 },
      { confidence: 1, outcome: 1 },
    ],
    open: 2,
  });
  assert.deepEqual(
    calibration.bins.map((bin) => [bin.from, bin.to, bin.calls, bin.hits, bin.hitRate]),
    [
      [0, 0.2, 2, 1, 0.5],
      [0.2, 0.4, 1, 0, 0],
      [0.4, 0.6, 0, 0, null],
      [0.6, 0.8, 2, 1, 0.5],
      [0.8, 1, 2, 2, 1],
    ],
  );
  assert.deepEqual(
    calibration.bins.map((bin) => bin.meanConfidence),
    [0.05, 0.2, null, 0.65, 0.9],
  );
  assert.equal(calibration.open, 2);
  const text = formatReliability("a", calibration);
  assert.match(text, /^\| 0\.6-0\.8 +\| 2 +\| 0\.65 +\| 50% +\|$/m);
  assert.match(text, /^\| 0\.4-0\.6 +\| 0 +\| - +\| - +\|$/m);
});

Deno.test("pooled calibrations score their calls as one sample", () => {
  const first = scoreCalibration({ scored: [{ confidence: 0.9, outcome: 1 }], open: 1 });
  const second = scoreCalibration({
    scored: [{ confidence: 0.8, outcome: 0 }, { confidence: 0.6, outcome: 1 }],
    open: 2,
  });
  const none = scoreCalibration({ scored: [], open: 0 });
  const pooled = poolCalibrations([first, none, second]);
  assert.deepEqual(
    pooled,
    scoreCalibration({
      scored: [
        { confidence: 0.9, outcome: 1 },
        { confidence: 0.8, outcome: 0 },
        { confidence: 0.6, outcome: 1 },
      ],
      open: 3,
    }),
  );
  assert.equal(pooled.brier, 0.27);
  assert.deepEqual(poolCalibrations([]), none);
});

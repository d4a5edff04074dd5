import assert from "node:assert/strict";
import type { LedgerEvent } from "../../core/contracts/ledger.ts";
import {
  accountOpenedEvent,
  applyEvent,
  createLedgerState,
  DEFAULT_TRADE_CONFIG,
  executeTrade,
} from "../../core/ledger/mod.ts";
import { buildLedgerReport, formatLedgerReport } from "../../core/metrics/ledger_report.ts";
import { tick } from "../ledger/_fixtures.ts";

function sampleLedger(): { events: LedgerEvent[]; ticks: ReturnType<typeof tick>[] } {
  const events: LedgerEvent[] = [
    accountOpenedEvent("a", { cash: "1000", time: "2017-09-03T12:00:00.000Z" }),
  ];
  const state = createLedgerState();
  applyEvent(state, events[0]!);
  const first = tick("BTC-USD", { bid: "99", ask: "100", time: "2017-09-03T12:00:00.000Z" });
  const decision = executeTrade(state.accounts.get("a")!, {
    agent: "a",
    toolCallId: "1",
    productId: "BTC-USD",
    quantity: "2",
    action: "buy",
  }, { price: first, config: DEFAULT_TRADE_CONFIG });
  assert.ok(decision.ok);
  events.push(decision.event, decision.event);
  const last = tick("BTC-USD", { bid: "120", ask: "121", time: "2017-09-03T12:10:00.000Z" });
  return { events, ticks: [first, last] };
}

Deno.test("the ledger report holds every account, position, trade and metric", () => {
  const { events, ticks } = sampleLedger();
  const report = buildLedgerReport(events, ticks);
  assert.equal(report.counts.events, 2);
  assert.equal(report.counts.duplicates, 1);
  assert.equal(report.trades.length, 1);
  assert.equal(report.marketTime, "2017-09-03T12:10:00.000Z");
  const [account] = report.accounts;
  assert.equal(account!.portfolio.equity, "1038.8");
  assert.equal(account!.portfolio.positions[0]!.price, "120");
  assert.equal(account!.metrics.tradeCount, 1);
  assert.equal(account!.metrics.equityCurve.length, 0);
  assert.deepEqual(account!.problems, []);
  assert.equal(
    buildLedgerReport(events, ticks, { includeCurves: true }).accounts[0]!.metrics.equityCurve
      .length,
    12,
    "the opening point at the starting cash, then one sample a minute for 10 minutes",
  );
});

Deno.test("the table view names agents, positions and trades", () => {
  const { events, ticks } = sampleLedger();
  const text = formatLedgerReport(buildLedgerReport(events, ticks));
  assert.match(text, /agent\s+equity/);
  assert.match(text, /a\s+1,038\.80/);
  assert.match(text, /BTC-USD/);
  assert.match(text, /Latest 1 of 1 trades/);
});

Deno.test("the report scores each account's stated confidence: Brier and scored calls", () => {
  const { events, ticks } = sampleLedger();
  const state = createLedgerState();
  for (const event of events) applyEvent(state, event);
  const later = tick("BTC-USD", { bid: "120", ask: "121", time: "2017-09-03T12:10:00.000Z" });
  const account = state.accounts.get("a")!;
  // The position bought without a confidence closes at a profit: no call. Then a call of 0.8
  // opens a new position at 121 that is still open at the end: counted open, not scored.
  const sale = executeTrade(account, {
    agent: "a",
    toolCallId: "2",
    productId: "BTC-USD",
    quantity: "2",
    action: "sell",
  }, { price: later, config: DEFAULT_TRADE_CONFIG });
  assert.ok(sale.ok);
  applyEvent(state, sale.event);
  const rebuy = executeTrade(account, {
    agent: "a",
    toolCallId: "3",
    productId: "BTC-USD",
    quantity: "1",
    action: "buy",
    confidence: 0.8,
  }, { price: later, config: DEFAULT_TRADE_CONFIG });
  assert.ok(rebuy.ok);
  const open = buildLedgerReport([...events, sale.event, rebuy.event], ticks);
  assert.deepEqual(
    [open.accounts[0]!.calibration.brier, open.accounts[0]!.calibration.open],
    [null, 1],
  );
  assert.match(formatLedgerReport(open), /exposure %\s+brier\s+calls\n/);
  assert.match(formatLedgerReport(open), /\s+n\/a\s+0\n/);
  applyEvent(state, rebuy.event);
  const last = tick("BTC-USD", { bid: "150", ask: "151", time: "2017-09-03T12:20:00.000Z" });
  const close = executeTrade(account, {
    agent: "a",
    toolCallId: "4",
    productId: "BTC-USD",
    quantity: "1",
    action: "sell",
  }, { price: last, config: DEFAULT_TRADE_CONFIG });
  assert.ok(close.ok);
  const report = buildLedgerReport([...events, sale.event, rebuy.event, close.event], [
    ...ticks,
    last,
  ]);
  const { calibration } = report.accounts[0]!;
  // Bought at 121, sold at 150: won after fees; (0.8 - 1)^2 = 0.04.
  assert.equal(calibration.brier, 0.04);
  assert.equal(calibration.calls, 1);
  assert.equal(calibration.open, 0);
  assert.match(formatLedgerReport(report), /\s+0\.040\s+1\n/);
});

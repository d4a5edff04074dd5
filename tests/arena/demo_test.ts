/**
 * The demo end to end through the real task command: `deno task demo --no-tty` twice at once
 * (2 cores: about one demo's time), identical leaderboards, and the report is written. Then the
 * demo's arena in process, to read its ledger and prices: the desk's stops and targets fired,
 * and on a margin desk (`--allow-short --max-leverage 10`) shorts, leverage and liquidations too.
 */

import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { defaultAgents } from "../../core/agents/strategies.ts";
import { runArena } from "../../core/arena/arena.ts";
import { DEMO_INTERVAL_SECONDS } from "../../core/arena/describe.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { arenaTopics } from "../../core/bus/topics.ts";
import { loadFixtureCandles } from "../../core/connector/replay.ts";
import { LedgerEvent } from "../../core/contracts/ledger.ts";
import { PriceTick } from "../../core/contracts/market.ts";
import { applyEvent, createLedgerState, tradeEffect } from "../../core/ledger/account.ts";
import { exitTrigger } from "../../core/ledger/exits.ts";
import { reconcile } from "../../core/ledger/portfolio.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../../core/ledger/trade.ts";
import { createLogger } from "../../core/log.ts";
import { RulesModel } from "../../core/models/rules_model.ts";

const ROOT = new URL("../../", import.meta.url);
const TIMEOUT_MS = 150_000;

interface DemoRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

async function runDemo(reportDir: string): Promise<DemoRun> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--no-tty", "--report-dir", reportDir],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The final leaderboard block: from its heading to its end marker. */
function leaderboardBlock(stdout: string): string {
  const start = stdout.indexOf("=== Final leaderboard");
  const end = stdout.indexOf("=== End of leaderboard ===");
  assert.ok(start >= 0 && end > start, `no final leaderboard in the demo output:\n${stdout}`);
  return stdout.slice(start, end);
}

Deno.test("deno task demo runs offline to the end twice with the same leaderboard and writes the report", async () => {
  const id = crypto.randomUUID().slice(0, 8);
  const dirs = [`artifacts/tests/demo-${id}-a`, `artifacts/tests/demo-${id}-b`];
  try {
    const runs = await Promise.all(dirs.map(runDemo));
    for (const run of runs) {
      assert.equal(run.code, 0, `demo failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
      assert.ok(!run.stdout.includes("\x1b["), "no ANSI codes without a terminal");
    }
    const [first, second] = runs.map((run) => leaderboardBlock(run.stdout));
    assert.equal(first, second, "two demo runs print the same leaderboard");

    const block = first!;
    assert.match(block, /529 ticks/);
    for (const agent of ["momentum", "brainrot-daytrader", "scalper"]) {
      assert.match(block, new RegExp(`^\\d +${agent} +rules +\\$[\\d,]+\\.\\d\\d`, "m"));
    }
    assert.match(block, /^- +buy-and-hold /m);
    for (const line of block.split("\n")) assert.ok(line.length <= 80, `wider than 80: ${line}`);
    assert.match(runs[0]!.stdout, /a decision every 5 min of market time/);

    for (const [index, dir] of dirs.entries()) {
      assert.match(runs[index]!.stdout, new RegExp(`Report: ${dir}/report\\.html`));
      const json = JSON.parse(await Deno.readTextFile(new URL(`${dir}/report.json`, ROOT)));
      assert.equal(json.tick, 529);
      assert.equal(json.leaderboard.length, 3);
      assert.ok(json.trades.length > 0, "the agents traded");
      const html = await Deno.readTextFile(new URL(`${dir}/report.html`, ROOT));
      assert.match(html, /<script id="report-data"/);
    }
    console.log(`demo wall time: ${runs.map((run) => run.seconds.toFixed(1)).join(" s, ")} s`);
  } finally {
    for (const dir of dirs) {
      await Deno.remove(new URL(dir, ROOT), { recursive: true }).catch(() => {});
    }
  }
});

interface DemoDesk {
  /** Engine exits by cause. */
  fired: Record<"stop_loss" | "take_profit" | "liquidation", number>;
  /** Fills by what they did to a position, and of those the leveraged ones. */
  shorts: number;
  leveraged: number;
  /** Distinct confidences stated by entries. */
  confidences: Set<number>;
}

/**
 * Runs the demo's arena (bundled candles, a decision every 5 min, lockstep, the rules model) on a
 * desk, then replays its ledger against its price ticks: every entry states a confidence and a
 * level, every engine exit closes the whole position at the first later quote that triggers an
 * exit (the bid for a long, the ask for a short), and every account reconciles.
 */
async function demoDesk(tradeConfig?: TradeConfig): Promise<DemoDesk> {
  const bus = new MemoryBus();
  try {
    await runArena(bus, {
      agents: defaultAgents(),
      models: [{ provider: new RulesModel({ runId: "demo" }) }],
      market: {
        kind: "replay",
        source: await loadFixtureCandles("main"),
        intervalSeconds: DEMO_INTERVAL_SECONDS,
        lockstep: true,
      },
      tradeConfig,
      log: createLogger("test", { level: "error", sink: () => {} }),
    });
    const topics = arenaTopics("");
    const ticks: PriceTick[] = [];
    await bus.readAll(topics.prices.topic, (record) => {
      ticks.push(PriceTick.parse(JSON.parse(record.value)));
      return Promise.resolve();
    });
    const events: LedgerEvent[] = [];
    await bus.readAll(topics.ledger.topic, (record) => {
      events.push(LedgerEvent.parse(JSON.parse(record.value)));
      return Promise.resolve();
    });

    const state = createLedgerState();
    const desk: DemoDesk = {
      fired: { stop_loss: 0, take_profit: 0, liquidation: 0 },
      shorts: 0,
      leveraged: 0,
      confidences: new Set(),
    };
    // The ledger is keyed by agent: each agent's events are in order.
    for (const agent of new Set(events.map((event) => event.agent))) {
      for (const event of events.filter((candidate) => candidate.agent === agent)) {
        if (event.type === "trade_executed" && tradeEffect(event).opens) {
          assert.ok(event.confidence !== undefined, `${event.eventId} states a confidence`);
          desk.confidences.add(event.confidence);
          assert.ok(event.stopLoss ?? event.takeProfit, `${event.eventId} states a level`);
          if (event.position === "short") desk.shorts++;
          if ((event.leverage ?? 1) > 1) desk.leveraged++;
        }
        if (event.type === "trade_executed" && event.cause && event.cause !== "agent") {
          desk.fired[event.cause]++;
          const position = state.accounts.get(agent)!.positions.get(event.productId)!;
          assert.equal(event.quantity, position.quantity.toFixed(), "the whole position closes");
          const crossed = ticks.find((tick) => exitTrigger(position, tick) !== undefined);
          assert.ok(crossed, `a tick crossed the level of ${event.eventId}`);
          const trigger = exitTrigger(position, crossed)!;
          assert.equal(event.cause, trigger.cause, `${event.eventId} fired for its cause`);
          assert.equal(event.time, crossed.time, `${event.eventId} fired at the first crossing`);
          const quote = new Decimal(position.side === "long" ? crossed.bestBid : crossed.bestAsk);
          assert.ok(quote.eq(event.quotePrice), `${event.quotePrice} is the quote ${quote}`);
          assert.ok(
            quote.eq(event.fillPrice),
            `filled at the quote (no slippage): ${event.fillPrice}`,
          );
        }
        applyEvent(state, event);
      }
    }
    for (const account of state.accounts.values()) {
      assert.deepEqual(reconcile(account).problems, [], `${account.agent} reconciles`);
    }
    return desk;
  } finally {
    await bus.close();
  }
}

Deno.test("the demo's stops and targets fire on the desk, each at the bid of the first tick that crossed it", async () => {
  const desk = await demoDesk();
  assert.ok(desk.fired.stop_loss > 0, "a stop fired");
  assert.ok(desk.fired.take_profit > 0, "a target fired");
  assert.equal(desk.fired.liquidation, 0, "spot longs are never liquidated");
  assert.equal(desk.shorts + desk.leveraged, 0, "the spot desk: long only, unlevered");
  assert.ok(desk.confidences.size >= 5, `confidence varies: ${[...desk.confidences]}`);
  console.log(
    `demo engine exits: ${desk.fired.stop_loss} stops, ${desk.fired.take_profit} targets`,
  );
});

Deno.test("the demo on a margin desk shorts, borrows and liquidates, each exit at its crossing quote, the books exact", async () => {
  const desk = await demoDesk({
    ...DEFAULT_TRADE_CONFIG,
    allowShort: true,
    maxLeverage: 10,
  });
  assert.ok(desk.shorts > 0, "momentum sold short");
  assert.ok(desk.leveraged > 0, "entries borrowed");
  assert.ok(desk.fired.liquidation > 0, "brainrot's unstopped 10x positions were liquidated");
  assert.ok(desk.fired.stop_loss > 0 && desk.fired.take_profit > 0, "stops and targets fired");
  console.log(
    `margin demo: ${desk.shorts} shorts, ${desk.leveraged} leveraged entries, exits ${
      JSON.stringify(desk.fired)
    }`,
  );
});

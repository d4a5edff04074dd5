/** The web dashboard in headless Chromium on the in-memory bus: load, match the ledger, live SSE. */

import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { publishMessages } from "../../core/bus/messages.ts";
import {
  ACTIVITY_TOPIC,
  AGENT_INPUT_TOPIC,
  ARENA_TOPICS,
  LEDGER_TOPIC,
  PRICE_TOPIC,
} from "../../core/bus/topics.ts";
import { createLogger } from "../../core/log.ts";
import { connectDashboard, DashboardStore } from "../../core/dashboard/store.ts";
import { startWebDashboard } from "../../core/dashboard/web_server.ts";
import { buildDashboardView } from "../../core/dashboard/view.ts";
import { formatUsd } from "../../core/dashboard/format.ts";
import {
  at,
  opened,
  reasoning,
  sampleLedger,
  samplePrices,
  scalperSell,
  usage,
} from "./_fixtures.ts";
import type { FocusStep, LiveStep, LoadedStep, ReplayStep } from "./_browser.ts";
import { defaultAgents } from "../../core/agents/strategies.ts";
import { runArena } from "../../core/arena/arena.ts";
import { loadFixtureCandles } from "../../core/connector/replay.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import type {
  ModelProvider,
  ModelRequest,
  ModelResponse,
} from "../../core/runtime/model_provider.ts";

/** The rules model, slowed down so a replay lasts long enough for the page to see it move. */
class PacedRulesModel implements ModelProvider {
  readonly model = "rules";
  #rules = new RulesModel();

  async complete(request: ModelRequest): Promise<ModelResponse> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return this.#rules.complete(request);
  }
}

/** Where Debian installs Chromium (CI installs it too). */
const CHROMIUM = "/usr/bin/chromium";
const BROWSER_SCRIPT = new URL("./_browser.ts", import.meta.url).pathname;
const SCREENSHOT = "artifacts/dashboard.png";

async function requireChromium(): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Chromium must be installed at ${CHROMIUM} for the web dashboard test ` +
        "(Debian: apt-get install -y chromium)",
    );
  }
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads JSON lines from the browser driver; fails on its error step. */
async function* steps(stdout: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let buffer = "";
  for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line.startsWith("{")) continue;
      const message = JSON.parse(line) as { step: string; message?: string };
      if (message.step === "error") throw new Error(`Browser driver failed: ${message.message}`);
      yield message;
    }
  }
}

/**
 * The browser driver run with `args`: its steps, a line to its input, and a stop that waits for
 * it, then closes the test's servers and bus in order.
 */
function startDriver(args: string[], timeoutMs: number) {
  const driver = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BROWSER_SCRIPT, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(timeoutMs),
  }).spawn();
  const writer = driver.stdin.getWriter();
  return {
    messages: steps(driver.stdout),
    status: driver.status,
    send: (line: string) => writer.write(new TextEncoder().encode(`${line}\n`)),
    async stop(...resources: { close(): Promise<void> }[]): Promise<void> {
      await writer.close().catch(() => {});
      try {
        driver.kill();
      } catch {
        // Already exited.
      }
      await driver.status;
      await driver.stdout.cancel().catch(() => {});
      for (const resource of resources) await resource.close();
    },
  };
}

Deno.test("web dashboard shows the ledger, a live trade and its round trip, focus and phone width", async () => {
  await requireChromium();
  const log = createLogger("test", { level: "error" });
  const bus = new MemoryBus();
  await bus.ensureTopics(ARENA_TOPICS);
  // An agent that opened with less cash and never traded: a flat 0 % on the % axis.
  const ledger = [...sampleLedger(), { ...opened("patient"), cash: "50000" }];
  await publishMessages(
    bus,
    LEDGER_TOPIC,
    ledger.map((event) => ({ key: event.agent, message: event })),
  );
  await publishMessages(
    bus,
    PRICE_TOPIC,
    samplePrices().map((tick) => ({ key: tick.productId, message: tick })),
  );
  await publishMessages(bus, ACTIVITY_TOPIC, [
    ...["momentum", "brainrot-daytrader", "scalper"].map((agent) => ({
      key: agent,
      message: usage(agent, agent === "scalper" ? "gpt-5-nano" : "rules", 1),
    })),
    {
      key: "momentum",
      message: reasoning("momentum", "BTC broke above its 20-minute high; buying 10 BTC.", 1),
    },
    {
      key: "momentum",
      message: {
        v: 1 as const,
        agent: "momentum",
        kind: "tool_call" as const,
        tool: "execute_trade",
        toolCallId: "call-m1",
        arguments: '{"product_id":"BTC-USD","quantity":10,"action":"buy"}',
        time: at(1),
        tick: 1,
      },
    },
  ]);
  await publishMessages(bus, AGENT_INPUT_TOPIC, [{
    message: {
      v: 1,
      tick: 61,
      time: at(60),
      source: "replay",
      products: [{
        productId: "BTC-USD",
        ticker: {
          price: "4400",
          bestBid: "4400",
          bestAsk: "4400",
          volume24h: "1",
          time: at(60),
        },
        stale: false,
        candles: { m15: [], m5: [], m1: [] },
      }],
    },
  }]);

  const store = new DashboardStore();
  const subscription = await connectDashboard(bus, store, { log });
  await waitFor("the dashboard to catch up", () => store.state.status === "live");
  const web = await startWebDashboard(store, { port: 0, log, throttleMs: 50 });
  await Deno.mkdir("artifacts", { recursive: true });
  const driver = startDriver([web.url, SCREENSHOT, "scalper", "trade-s2"], 30_000);
  try {
    const messages = driver.messages;
    const loaded = (await messages.next()).value as LoadedStep;
    assert.equal(loaded?.step, "loaded", "the browser driver must report the loaded page");

    // Leaderboard rows match the ledger, best equity first.
    const view = buildDashboardView(store.state);
    assert.deepEqual(loaded.rows.map((row) => row.agent), [
      "momentum",
      "brainrot-daytrader",
      "scalper",
      "patient",
    ]);
    assert.deepEqual(
      loaded.rows.map((row) => row.equity),
      view.agents.map((agent) => formatUsd(agent.portfolio.equity)),
    );
    assert.equal(loaded.rows[0]!.equity, "$103,976.00");
    assert.deepEqual(loaded.rows.map((row) => row.trades), ["1", "2", "1", "0"]);
    assert.equal(loaded.rows[2]!.model, "gpt-5-nano");
    // Charts, activity and trades are on the page.
    assert.ok(loaded.equityCanvases > 0);
    assert.equal(loaded.priceCards, 2);
    assert.match(loaded.activity, /broke above its 20-minute high/);
    assert.match(loaded.activity, /buy 10 BTC-USD -> …/, "a tool call is summarised in one line");
    assert.equal(loaded.tradeRows, 4);

    // A new trade published on the bus appears without a reload.
    await publishMessages(bus, LEDGER_TOPIC, [{
      key: "scalper",
      message: scalperSell({ quantity: "2000" }),
    }]);
    await driver.send("published");
    const live = (await messages.next()).value as LiveStep;
    assert.equal(live?.step, "live", "the browser driver must report the live update");
    assert.match(live.newestTrade, /scalper/);
    assert.match(live.newestTrade, /SELL/);
    assert.equal(live.traderTrades, "2");
    assert.equal(live.traderWinRate, "0%", "the losing round trip counts once metrics refresh");
    assert.equal(live.reloads, 0, "the page must not reload");
    assert.deepEqual(live.foreignRequests, [], "no request may leave 127.0.0.1");
    assert.deepEqual(live.pageErrors, []);
    assert.ok((await Deno.stat(SCREENSHOT)).size > 10_000, "the screenshot must be saved");

    const focus = (await messages.next()).value as FocusStep;
    assert.equal(focus?.step, "focus", "the browser driver must report the focus step");
    assert.deepEqual(focus.roundTrips, ["trade-s2", "trade-b2"], "the sell closed a round trip");
    assert.equal(focus.focusAfterClick, "scalper");
    assert.deepEqual(focus.focusedTradeAgents, ["scalper", "scalper"]);
    assert.ok(focus.focusedFeedAgents.every((agent) => agent === "scalper"));
    assert.equal(focus.focusAfterSecondClick, "", "a second click clears the focus");
    assert.equal(focus.tradeRowsAfterClear, 5);
    // The % axis measures each line against its own agent's starting cash.
    assert.equal(focus.pctAxisLast.patient, 0);
    const momentum = buildDashboardView(store.state).agents.find((a) => a.name === "momentum")!;
    assert.ok(
      Math.abs(focus.pctAxisLast.momentum! - Number(momentum.returnPct)) < 1e-6,
      `momentum's line ends at ${focus.pctAxisLast.momentum} %, its return is ${momentum.returnPct}`,
    );
    assert.ok(
      focus.phoneReturnRight <= 375,
      `Return must be visible at 375 px, ends at ${focus.phoneReturnRight}`,
    );
    assert.ok(
      focus.phoneScrollWidth <= 375,
      `the page must not overflow 375 px: ${focus.phoneScrollWidth}`,
    );
    assert.deepEqual(focus.pageErrors, []);
    assert.equal((await driver.status).code, 0);
  } finally {
    await driver.stop(web, subscription, bus);
  }
});

Deno.test("web dashboard stays consistent during a live lockstep replay and deltas equal a fresh load", async () => {
  await requireChromium();
  const log = createLogger("test", { level: "error", sink: () => {} });
  const bus = new MemoryBus();
  await bus.ensureTopics(ARENA_TOPICS);
  const store = new DashboardStore();
  const subscription = await connectDashboard(bus, store, { log });
  const web = await startWebDashboard(store, { port: 0, log, throttleMs: 100 });
  await Deno.mkdir("artifacts", { recursive: true });
  const driver = startDriver(["replay", web.url, "artifacts/dashboard-replay.png"], 60_000);
  try {
    const messages = driver.messages;
    assert.equal(((await messages.next()).value as { step: string })?.step, "ready");
    const result = await runArena(bus, {
      agents: defaultAgents(),
      // The in-memory arena runs 240 ticks in well under a second: pace it (about 10 ms per model
      // call) so the throttled page sees the replay move.
      models: [{ provider: new PacedRulesModel() }],
      market: {
        kind: "replay",
        source: await loadFixtureCandles("main"),
        lockstep: true,
        maxTicks: 240,
      },
      log,
    });
    assert.equal(result.ticks, 240);
    await waitFor("the dashboard to see the last tick", () => store.state.clock.tick === 240);
    await driver.send("done");
    const replay = (await messages.next()).value as ReplayStep;
    assert.equal(replay?.step, "replay", "the browser driver must report the replay");
    assert.ok(
      replay.distinctViews >= 5,
      `the page must update during the replay: ${replay.distinctViews}`,
    );
    assert.deepEqual(
      replay.inconsistencies,
      [],
      "every row's return matches its own equity and rank",
    );
    assert.deepEqual(replay.differingSections, [], "deltas must build what a fresh load shows");
    assert.ok(replay.sameView, "the view built from deltas equals a fresh load's");
    assert.equal(replay.seqs[0], replay.seqs[1]);
    const view = buildDashboardView(store.state);
    const sells = view.trades.filter((t) => t.side === "sell").length;
    assert.equal(replay.roundTripRows, Math.min(sells, 200), "one round trip per sell");
    assert.deepEqual(replay.pageErrors, []);
    assert.equal((await driver.status).code, 0);
  } finally {
    await driver.stop(web, subscription, bus);
  }
});

import assert from "node:assert/strict";
import { defaultAgents } from "../../core/agents/strategies.ts";
import { runArena } from "../../core/arena/arena.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { LEDGER_TOPIC } from "../../core/bus/topics.ts";
import {
  loadFixtureCandles,
  type MarketMask,
  ReplayFeed,
  replayMask,
} from "../../core/connector/replay.ts";
import type { LedgerEvent, TradeExecuted } from "../../core/contracts/ledger.ts";
import type { MarketSnapshot, PriceTick } from "../../core/contracts/market.ts";
import { MarketDecimal } from "../../core/market/decimal.ts";
import { maskedIncrements } from "../../core/market/mask.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import { builtinEntries, cutWindows, runTournament } from "../../core/arena/tournament.ts";
import { formatTournamentMarkdown } from "../../core/arena/tournament_report.ts";
import type {
  ModelProvider,
  ModelRequest,
  ModelResponse,
} from "../../core/runtime/model_provider.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { quietLog, topicValues } from "./_helpers.ts";

const TICKS = 72;

Deno.test("ReplayFeed with a mask publishes masked snapshots and price ticks", async () => {
  const source = await loadFixtureCandles("main");
  const mask = replayMask(source, { seed: 4 });
  const bus = new MemoryBus();
  try {
    const result = await new ReplayFeed({ bus, source, mask, maxTicks: 3, log: quietLog() }).run();
    assert.equal(result.ticks, 3);
    const snapshots = await topicValues<MarketSnapshot>(bus, "agent_router.input");
    const prices = await topicValues<PriceTick>(bus, "arena.prices");
    assert.equal(snapshots.length, 3);
    assert.deepEqual(snapshots.map((snapshot) => snapshot.time), [
      "1970-01-02T00:00:00.000Z",
      "1970-01-02T00:01:00.000Z",
      "1970-01-02T00:02:00.000Z",
    ]);
    const masked = new Set(mask.products.map((product) => product.maskedId));
    for (const snapshot of snapshots) {
      assert.equal(snapshot.masked, true);
      for (const product of snapshot.products) assert.ok(masked.has(product.productId));
    }
    assert.ok(prices.length >= 6);
    for (const tick of prices) {
      assert.equal(tick.masked, true);
      assert.ok(masked.has(tick.productId), tick.productId);
    }
  } finally {
    await bus.close();
  }
});

interface Run {
  leaderboard: { agent: string; returnPct: string; trades: number; equity: string }[];
  trades: TradeExecuted[];
}

async function runRules(
  set: "main" | "alt-2018-04-05",
  options: {
    calculator: Calculator;
    mask?: (source: Awaited<ReturnType<typeof loadFixtureCandles>>) => MarketMask;
  },
): Promise<Run> {
  const source = await loadFixtureCandles(set);
  const mask = options.mask?.(source);
  const bus = new MemoryBus();
  try {
    const result = await runArena(bus, {
      agents: defaultAgents(),
      models: [{
        provider: new RulesModel({
          runId: "fixed",
          increments: mask ? maskedIncrements(mask) : undefined,
        }),
      }],
      market: {
        kind: "replay",
        source,
        intervalSeconds: 300,
        lockstep: true,
        maxTicks: TICKS,
        mask,
      },
      runId: "fixed",
      log: quietLog(),
      calculator: options.calculator,
    });
    const events = await topicValues<LedgerEvent>(bus, LEDGER_TOPIC);
    return {
      leaderboard: result.report.json.leaderboard.map((row) => ({
        agent: row.agent,
        returnPct: String(row.returnPct),
        trades: row.trades,
        equity: String(row.equity),
      })).sort((a, b) => a.agent.localeCompare(b.agent)),
      trades: events.filter((event): event is TradeExecuted => event.type === "trade_executed"),
    };
  } finally {
    await bus.close();
  }
}

Deno.test("the rules model earns identical returns on masked and unmasked replays", async (t) => {
  const calculator = new Calculator();
  await calculator.warmUp();
  try {
    for (const [set, seed] of [["main", 1], ["alt-2018-04-05", 2]] as const) {
      await t.step(`${set}, seed ${seed}`, async () => {
        const plain = await runRules(set, { calculator });
        let mask: MarketMask | undefined;
        const masked = await runRules(set, {
          calculator,
          mask: (source) => (mask = replayMask(source, { seed })),
        });
        assert.ok(plain.trades.length >= 4, `only ${plain.trades.length} trades in ${set}`);
        assert.ok(plain.trades.some((trade) => trade.side === "sell"), "no sell to compare");
        assert.deepEqual(masked.leaderboard, plain.leaderboard);
        assert.equal(masked.trades.length, plain.trades.length);
        for (const [index, real] of plain.trades.entries()) {
          const trade = masked.trades[index]!;
          const product = mask!.products.find((entry) => entry.productId === real.productId)!;
          assert.equal(trade.productId, product.maskedId);
          assert.equal(trade.side, real.side);
          assert.equal(trade.notional, real.notional);
          assert.equal(trade.fee, real.fee);
          assert.equal(trade.cashAfter, real.cashAfter);
          assert.ok(
            new MarketDecimal(trade.fillPrice).eq(
              new MarketDecimal(real.fillPrice).times(product.priceFactor),
            ),
          );
          assert.ok(
            new MarketDecimal(trade.quantity).times(product.priceFactor).eq(real.quantity),
          );
          assert.notEqual(product.priceFactor, "1");
        }
      });
    }
  } finally {
    calculator.close();
  }
});

/** A fake LLM that "remembers" BTC: it buys BTC-USD when it sees that name, else holds. */
class MemorizingModel implements ModelProvider {
  readonly model = "memorizer";

  complete(request: ModelRequest): Promise<ModelResponse> {
    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    const done = request.messages.slice(lastUser + 1).some((message) => message.role === "tool");
    const sees = request.snapshot?.products.some((product) => product.productId === "BTC-USD");
    const buy = !done && sees && request.snapshot?.tick === 1;
    return Promise.resolve({
      message: buy
        ? {
          role: "assistant",
          content: "I know this chart",
          toolCalls: [{
            id: `buy_${request.agent}_${request.snapshot!.time}`,
            name: "execute_trade",
            arguments: JSON.stringify({ product_id: "BTC-USD", quantity: "5", action: "buy" }),
          }],
        }
        : { role: "assistant", content: "holding", toolCalls: [] },
      usage: { promptTokens: 1, completionTokens: 1 },
      model: this.model,
    });
  }
}

Deno.test("an unmasked-and-masked tournament reports each LLM entry's memorisation gap", async () => {
  const windows = cutWindows(
    [{ name: "alt", candles: await loadFixtureCandles("alt-2018-04-05") }],
    { windows: 2, windowHours: 1 },
  );
  const result = await runTournament(
    builtinEntries([{ strategy: "momentum", model: "rules" }, {
      strategy: "scalper",
      model: "memorizer",
    }]),
    {
      windows,
      windowHours: 1,
      provider: (model, context) =>
        model === "rules"
          ? new RulesModel({ increments: context.increments, runId: `w${context.window}` })
          : new MemorizingModel(),
      deterministic: () => true,
      mask: { seed: 5, unmasked: true },
      log: quietLog(),
    },
  );
  const rules = result.entries.find((entry) => entry.model === "rules")!;
  const memorizer = result.entries.find((entry) => entry.model === "memorizer")!;
  assert.deepEqual(rules.memorization!.gapsPct, [0, 0], "rules returns are scale-free");
  // Masked, the memorizer never sees BTC-USD and holds; unmasked it buys 5 BTC at tick 1.
  assert.deepEqual(memorizer.windows.map((row) => row.returnPct), [0, 0]);
  assert.equal(memorizer.windows.every((row) => row.unmaskedReturnPct !== 0), true);
  assert.deepEqual(
    memorizer.memorization!.gapsPct,
    memorizer.windows.map((row) => row.unmaskedReturnPct!),
  );
  assert.ok(memorizer.memorization!.ci95 !== null);
  assert.ok(result.windows.every((window) => window.mask !== undefined));
  const text = formatTournamentMarkdown({
    ...result,
    entries: result.entries.map((entry) => ({ ...entry, deterministic: false })),
  });
  assert.match(text, /Memorisation gap/);
  assert.match(text, /\| scalper:memorizer +\| [+-]?\d+\.\d\d%/);
  assert.match(text, /alt #0: ASSET[ABC]-USD = (BTC|ETH|LTC)-USD/);
});

import assert from "node:assert/strict";
import { defaultAgents, STRATEGIES } from "../../core/agents/strategies.ts";
import { type ArenaResult, runArena, type RunArenaOptions } from "../../core/arena/arena.ts";
import { formatLeaderboard } from "../../core/arena/leaderboard.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import type { FixtureSet } from "../../core/connector/replay.ts";
import { createLogger } from "../../core/log.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { lockstepReplay } from "./_replay.ts";

const quiet = createLogger("test", { level: "error", sink: () => {} });

/** Options for {@linkcode runRulesReplay}: the fixture set, its length and arena overrides. */
interface RulesReplayOptions extends Partial<RunArenaOptions> {
  /** The fixture set replayed. */
  set: FixtureSet;
  /** Stop after this many snapshots (default the whole set). */
  maxTicks?: number;
}

/** Runs the default agents on the rules model over a lockstep replay on a fresh in-memory bus. */
async function runRulesReplay(options: RulesReplayOptions): Promise<ArenaResult> {
  const { set, maxTicks, ...overrides } = options;
  const bus = new MemoryBus();
  try {
    return await runArena(bus, {
      agents: defaultAgents(),
      models: [{ provider: new RulesModel() }],
      market: await lockstepReplay(set, { maxTicks }),
      log: quiet,
      ...overrides,
    });
  } finally {
    await bus.close();
  }
}

// One calculator worker for every step: starting one takes about a second.
Deno.test("runArena", async (t) => {
  const calculator = new Calculator();
  await calculator.warmUp();
  try {
    await t.step(
      "runArena replays in lockstep with the rules model and reports every agent",
      async () => {
        const ticks: number[] = [];
        const result = await runRulesReplay({
          set: "main",
          maxTicks: 12,
          calculator,
          onTick: (tick) => ticks.push(tick),
        });
        assert.equal(result.ticks, 12);
        assert.equal(result.report.json.tick, 12);
        assert.deepEqual(ticks, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        const rows = result.report.json.leaderboard;
        assert.deepEqual(
          rows.map((row) => row.agent).sort(),
          ["brainrot-daytrader", "momentum", "scalper"],
        );
        for (const row of rows) assert.equal(row.model, "rules");
        assert.ok(rows.some((row) => row.trades > 0), "someone traded in an hour of real data");
        // Every decision was seen by the final state: one per agent per tick.
        for (const agent of result.state.agents.values()) assert.equal(agent.decisions, 12);

        const table = formatLeaderboard(result.report.json).split("\n");
        assert.match(
          table[0]!,
          /^# +agent +model +equity +return +max DD +trades +valid +cost$/,
        );
        assert.match(
          table[7]!,
          /^# +agent +net +DD start +sharpe 1h +win +fees +fees % +edge\/dec$/,
        );
        for (const line of table) assert.ok(line.length <= 80, `wider than 80: ${line}`);
        for (const row of rows) {
          // Model cost is 0 for rules: net equals the return; drawdown from the peak (starting
          // cash included) is at least the drawdown from the start.
          assert.equal(Number(row.netReturnPct), Number(row.returnPct));
          assert.ok(Number(row.maxDrawdownPct) >= Number(row.maxDrawdownFromStartPct));
          assert.equal(row.decisions, 12);
        }
        // Two tables of header, rule, three agents and buy-and-hold, then (the rules model states
        // a confidence with its buys) the calibration table of the three agents; blank lines
        // between.
        assert.equal(table.length, 2 * (2 + 3 + 1) + (2 + 3) + 2);
        assert.match(table[5]!, /^- +buy-and-hold/);
        assert.match(table[12]!, /^- +buy-and-hold/);
        assert.match(table[14]!, /^# +agent +brier +calls +open +conf +hit$/);
      },
    );

    await t.step("runArena gives the same report for the same replay (deterministic)", async () => {
      const run = async () => {
        const result = await runRulesReplay({ set: "alt-2018-04-05", maxTicks: 10, calculator });
        return formatLeaderboard(result.report.json);
      };
      assert.equal(await run(), await run());
    });

    await t.step("runArena stops a replay when its signal aborts and still reports", async () => {
      const abort = new AbortController();
      const result = await runRulesReplay({
        set: "main",
        agents: [{ name: "solo", strategy: STRATEGIES.scalper }],
        calculator,
        signal: abort.signal,
        onTick: (tick) => {
          if (tick === 3) abort.abort();
        },
      });
      assert.ok(result.ticks >= 3 && result.ticks < 10, `stopped early, got ${result.ticks}`);
      assert.equal(result.report.json.leaderboard[0]?.agent, "solo");
    });

    await t.step("runArena refuses an agent whose chat node is not in the arena", async () => {
      await assert.rejects(
        runRulesReplay({
          set: "main",
          maxTicks: 1,
          agents: [{ name: "lost", strategy: STRATEGIES.momentum, chatNodeName: "gpt" }],
          calculator,
        }),
        /Agent lost talks to chat node gpt, but the arena has only \(shared\)/,
      );
    });

    await t.step(
      "runArena runs agents on different chat nodes (multi-model in one process)",
      async () => {
        const result = await runRulesReplay({
          set: "main",
          maxTicks: 4,
          agents: [
            { name: "m1", strategy: STRATEGIES.momentum, chatNodeName: "one" },
            { name: "s2", strategy: STRATEGIES.scalper, chatNodeName: "two" },
          ],
          models: [
            { name: "one", provider: new RulesModel() },
            { name: "two", provider: new RulesModel() },
          ],
          calculator,
        });
        assert.deepEqual(result.report.json.leaderboard.map((row) => row.agent).sort(), [
          "m1",
          "s2",
        ]);
        for (const agent of result.state.agents.values()) assert.equal(agent.decisions, 4);
      },
    );
  } finally {
    calculator.close();
  }
});

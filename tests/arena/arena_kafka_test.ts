/** The embedded arena on the real broker: every component in this process, talking over Kafka. */

import assert from "node:assert/strict";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { runArena } from "../../core/arena/arena.ts";
import { createLogger } from "../../core/log.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import { testKafkaBus, uniqueName } from "../_kafka.ts";
import { lockstepReplay } from "./_replay.ts";

Deno.test("runArena replays in lockstep on Kafka with isolated topics and reports", async () => {
  const bus = testKafkaBus();
  const id = uniqueName("arena");
  // Agent names are consumer groups too: unique per run so parallel tests never share one.
  const agents = [
    { name: `${id}-momentum`.replaceAll(".", "-"), strategy: STRATEGIES.momentum },
    { name: `${id}-scalper`.replaceAll(".", "-"), strategy: STRATEGIES.scalper },
  ];
  try {
    const result = await runArena(bus, {
      agents,
      models: [{ provider: new RulesModel() }],
      market: await lockstepReplay("main", { lockstepTimeoutMs: 30_000, maxTicks: 5 }),
      topicPrefix: `${id}.`,
      log: createLogger("test", { level: "error" }),
    });
    assert.equal(result.ticks, 5);
    assert.equal(result.report.json.tick, 5);
    assert.deepEqual(
      result.report.json.leaderboard.map((row) => row.agent).sort(),
      agents.map((agent) => agent.name).sort(),
    );
    for (const agent of result.state.agents.values()) assert.equal(agent.decisions, 5);
    assert.ok(result.report.json.trades.length > 0, "the scalper trades in the first ticks");
  } finally {
    await bus.close();
  }
});

import assert from "node:assert/strict";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { runArena } from "../../core/arena/arena.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { arenaTopics } from "../../core/bus/topics.ts";
import type { ToolDefinition } from "../../core/contracts/chat.ts";
import { createLogger } from "../../core/log.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import type { ModelRequest, ModelResponse } from "../../core/runtime/model_provider.ts";
import { publishToolCatalog, readToolCatalog } from "../../core/runtime/tool_catalog.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { startToolsNode } from "../../core/tools/tools_node.ts";
import { lockstepReplay } from "../arena/_replay.ts";

const quiet = createLogger("test", { level: "error", sink: () => {} });

/** The rules model, keeping the tools of every request it receives (what the LLM would read). */
class ToolsSeen extends RulesModel {
  readonly seen: ToolDefinition[][] = [];
  override complete(request: ModelRequest): Promise<ModelResponse> {
    this.seen.push(request.tools);
    return super.complete(request);
  }
}

function tradeDescription(tools: ToolDefinition[]): string {
  const trade = tools.find((tool) => tool.name === "execute_trade");
  assert.ok(trade, `execute_trade offered, got ${tools.map((tool) => tool.name)}`);
  return trade.description;
}

Deno.test("an arena at --taker-fee-bps 0 tells the model there is no fee, not 60 bps", async () => {
  const bus = new MemoryBus();
  const calculator = new Calculator();
  const model = new ToolsSeen({ takerFeeBps: 0 });
  try {
    await runArena(bus, {
      agents: [{ name: "momentum", strategy: STRATEGIES.momentum }],
      models: [{ provider: model }],
      market: await lockstepReplay("main", { maxTicks: 1 }),
      tradeConfig: { takerFeeBps: 0, slippageBps: 0 },
      log: quiet,
      calculator,
    });
    assert.ok(model.seen.length > 0, "the model was asked");
    for (const tools of model.seen) {
      const description = tradeDescription(tools);
      assert.match(description, /There is no trading fee/);
      assert.doesNotMatch(description, /60 basis points/);
    }
  } finally {
    calculator.close();
    await bus.close();
  }
});

Deno.test("routers offer the catalog of the serving tools node (25 bps, 5 bps slippage)", async () => {
  const bus = new MemoryBus();
  const calculator = new Calculator();
  const topics = arenaTopics("fees.");
  try {
    const node = await startToolsNode(bus, {
      log: quiet,
      topics,
      config: { takerFeeBps: 25, slippageBps: 5 },
      calculator,
    });
    try {
      const { tools: offered, desk } = await readToolCatalog(bus, { topics, log: quiet });
      assert.deepEqual(offered, node.tools);
      // The terms beside the definitions: what offline models and the json protocol read.
      assert.deepEqual(desk, {
        takerFeeBps: 25,
        slippageBps: 5,
        allowShort: false,
        maxLeverage: 1,
        exitPlans: false,
      });
      assert.deepEqual(offered.map((tool) => tool.name), [
        "execute_trade",
        "get_portfolio",
        "calculator",
      ]);
      assert.match(tradeDescription(offered), /taker fee of 25 basis points \(0\.25%\)/);
      assert.match(tradeDescription(offered), /slip 5 bps/);
      // Another prefix is another arena: its catalog is empty, not this one.
      const other = readToolCatalog(bus, {
        topics: arenaTopics("other."),
        log: quiet,
        signal: AbortSignal.timeout(100),
      });
      await assert.rejects(other);
    } finally {
      await node.stop();
    }
  } finally {
    calculator.close();
    await bus.close();
  }
});

Deno.test("routers wait for the tool catalog with one log line, then offer the latest", async () => {
  const bus = new MemoryBus();
  const lines: string[] = [];
  const log = createLogger("test", { level: "warn", sink: (line) => lines.push(line) });
  const topics = arenaTopics("wait.");
  try {
    const reading = readToolCatalog(bus, { topics, log, pollMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /Waiting for a tools node to publish its tool catalog on wait\./);
    const old: ToolDefinition = { name: "quote", description: "old", parameters: {} };
    const latest: ToolDefinition = { name: "quote", description: "new", parameters: {} };
    await publishToolCatalog(bus, [old], { topics, service: "quotes" });
    await publishToolCatalog(bus, [latest], { topics, service: "quotes" });
    assert.deepEqual((await reading).tools, [latest]);
  } finally {
    await bus.close();
  }
});

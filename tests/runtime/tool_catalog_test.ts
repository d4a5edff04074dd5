import assert from "node:assert/strict";
import { startAgents } from "../../core/agents/agents.ts";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { arenaTopics } from "../../core/bus/topics.ts";
import type { ToolDefinition } from "../../core/contracts/chat.ts";
import { startChatNode } from "../../core/runtime/chat_node.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { startToolsNode } from "../../core/tools/tools_node.ts";
import { answer, publishSnapshots, quietLog, ScriptedModel, snapshot } from "./_support.ts";

function tradeDescription(tools: readonly ToolDefinition[]): string {
  return tools.find((tool) => tool.name === "execute_trade")?.description ?? "";
}

Deno.test("routers offer a republished tool catalog and its desk terms from the next decision on", async () => {
  const bus = new MemoryBus();
  const topics = arenaTopics("follow.");
  const log = quietLog();
  const model = new ScriptedModel(() => answer("Holding."));
  const calculator = new Calculator();
  const startTools = (takerFeeBps: number) =>
    startToolsNode(bus, { log, topics, calculator, config: { takerFeeBps, slippageBps: 0 } });
  let tools = await startTools(60);
  const chat = await startChatNode(bus, { provider: model, log, topicPrefix: topics.prefix });
  const routers = await startAgents(bus, [{ name: "momentum", strategy: STRATEGIES.momentum }], {
    log,
    topicPrefix: topics.prefix,
  });
  const decided = async (count: number) => {
    for (let wait = 0; model.requests.length < count && wait < 200; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(model.requests.length, count, `expected ${count} model calls`);
  };
  try {
    await publishSnapshots(bus, [snapshot(1)], topics.prefix);
    await decided(1);
    assert.match(tradeDescription(model.requests[0]!.tools), /taker fee of 60 basis points/);
    // The terms travel with the request too, for offline models on a chat node of their own.
    assert.equal(model.requests[0]!.desk?.takerFeeBps, 60);
    // The tools node restarts with another fee: the agents read it without a restart of theirs.
    await tools.stop();
    tools = await startTools(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await publishSnapshots(bus, [snapshot(2)], topics.prefix);
    await decided(2);
    const description = tradeDescription(model.requests[1]!.tools);
    assert.match(description, /There is no trading fee/);
    assert.doesNotMatch(description, /60 basis points/);
    assert.equal(model.requests[1]!.desk?.takerFeeBps, 0);
  } finally {
    await Promise.all(routers.map((router) => router.stop()));
    await chat.stop();
    await tools.stop();
    calculator.close();
    await bus.close();
  }
});

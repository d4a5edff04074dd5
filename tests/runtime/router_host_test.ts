/** One router process, many agents: a shared market subscription, reply inbox and activity. */

import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import type { SubscribeOptions, Subscription } from "../../core/bus/bus.ts";
import type { MarketSnapshot } from "../../core/contracts/market.ts";
import {
  type AgentRouter,
  type AgentRouterOptions,
  startAgentRouters,
} from "../../core/runtime/agent_router.ts";
import { startChatNode } from "../../core/runtime/chat_node.ts";
import { routerHostName } from "../../core/runtime/router_host.ts";
import { serveTool } from "../../core/runtime/tool_node.ts";
import { toolDefinition, type ToolSpec } from "../../core/runtime/tool_spec.ts";
import { z } from "zod";
import {
  ActivityCollector,
  answer,
  callTools,
  publishSnapshots,
  quietLog,
  ScriptedModel,
  snapshot,
} from "./_support.ts";

/** A MemoryBus that records every subscription's group and topics. */
class CountingBus extends MemoryBus {
  readonly subscriptions: { groupId: string; topics: string[] }[] = [];
  closed = 0;

  override async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.subscriptions.push({ groupId: options.groupId, topics: options.topics });
    const subscription = await super.subscribe(options);
    return {
      close: async () => {
        await subscription.close();
        this.closed++;
      },
    };
  }
}

const portfolioTool: ToolSpec = {
  name: "get_portfolio",
  description: "Test portfolio",
  input: z.object({}),
  run: (_input, context) => Promise.resolve({ ok: true, content: `cash of ${context.agent}` }),
};

function agentOptions(
  names: string[],
  renders: { count: number },
): Omit<AgentRouterOptions, "host" | "groupId" | "fromBeginning" | "topicPrefix">[] {
  return names.map((agent) => ({
    agent,
    systemPrompt: "Test trader.",
    tools: [toolDefinition(portfolioTool)],
    renderPrompt: (market: MarketSnapshot) => {
      renders.count++;
      return `Tick ${market.tick}`;
    },
    replyTimeoutMs: 5_000,
    log: quietLog(),
  }));
}

async function stopAll(routers: AgentRouter[]): Promise<void> {
  await Promise.all(routers.map((router) => router.stop()));
}

Deno.test("routerHostName is the agent for one agent and stable over the order of many", () => {
  assert.equal(routerHostName(["momentum"]), "momentum");
  const name = routerHostName(["scalper", "momentum", "brainrot-daytrader"]);
  assert.match(name, /^brainrot-daytrader\.and-2-more\.[0-9a-f]{8}$/);
  assert.equal(routerHostName(["momentum", "brainrot-daytrader", "scalper"]), name);
  assert.notEqual(routerHostName(["momentum", "scalper"]), name);
  assert.throws(() => routerHostName([]), /at least one agent, got none/);
});

Deno.test("agents of one router share one market subscription and one reply inbox", async () => {
  const bus = new CountingBus();
  const model = new ScriptedModel((request, call) =>
    call % 2 === 0 && !request.messages.some((m) => m.role === "tool")
      ? callTools([["get_portfolio", "{}"]])
      : answer(`done ${request.agent}`)
  );
  const chat = await startChatNode(bus, { provider: model, log: quietLog() });
  const tool = await serveTool(bus, portfolioTool, { log: quietLog() });
  const activity = await ActivityCollector.open(bus);
  const names = Array.from({ length: 20 }, (_, index) => `agent-${index + 1}`);
  const before = bus.subscriptions.length;
  const routers = await startAgentRouters(bus, agentOptions(names, { count: 0 }), {
    log: quietLog(),
  });
  try {
    const opened = bus.subscriptions.slice(before);
    assert.equal(opened.length, 2, "one market subscription and one reply inbox for 20 agents");
    assert.deepEqual(opened.map((sub) => sub.topics.length), [1, 1]);
    assert.ok(opened.some((sub) => sub.groupId === routerHostName(names)));
    await publishSnapshots(bus, [snapshot(1)]);
    for (const name of names) {
      const [decision] = await activity.decisions(name, 1);
      assert.equal(decision!.outcome, "answered");
      assert.equal(decision!.tick, 1);
    }
    // Each agent's tool calls carried its own identity through the shared inbox.
    const results = activity.events.filter((event) => event.kind === "tool_result");
    for (const result of results) {
      assert.equal(result.kind === "tool_result" && result.content, `cash of ${result.agent}`);
    }
  } finally {
    await stopAll(routers);
    await chat.stop();
    await tool.close();
    await activity.close();
    await bus.close();
  }
});

Deno.test("a restarted router resumes its group: the backlog collapses to the newest snapshot", async () => {
  const bus = new MemoryBus();
  const model = new ScriptedModel(() => answer("hold"));
  const chat = await startChatNode(bus, { provider: model, log: quietLog() });
  const activity = await ActivityCollector.open(bus);
  const names = ["alpha", "beta"];
  const options = agentOptions(names, { count: 0 }).map((agent) => ({ ...agent, tools: [] }));
  let routers = await startAgentRouters(bus, options, { log: quietLog() });
  try {
    await publishSnapshots(bus, [snapshot(1)]);
    for (const name of names) await activity.decisions(name, 1);
    await stopAll(routers);
    // Published while the router is down: read by the same group when it comes back.
    await publishSnapshots(bus, [snapshot(2), snapshot(3), snapshot(4)]);
    routers = await startAgentRouters(bus, options, { log: quietLog() });
    for (const name of names) {
      const decisions = await activity.decisions(name, 2);
      assert.deepEqual(decisions.map((decision) => decision.tick), [1, 4]);
      assert.equal(decisions[1]!.skippedTicks, 2, "ticks 2 and 3 were replaced by tick 4");
    }
  } finally {
    await stopAll(routers);
    await chat.stop();
    await activity.close();
    await bus.close();
  }
});

Deno.test("stopping every router closes the shared subscriptions", async () => {
  const bus = new CountingBus();
  const routers = await startAgentRouters(
    bus,
    agentOptions(["one", "two"], { count: 0 }).map((agent) => ({ ...agent, tools: [] })),
    { log: quietLog() },
  );
  assert.equal(bus.subscriptions.length, 2);
  assert.equal(bus.closed, 0);
  await routers[0]!.stop();
  assert.equal(bus.closed, 0, "the other agent still uses them");
  await routers[1]!.stop();
  assert.equal(bus.closed, 2, "the last agent closed the market input and the reply inbox");
  await bus.close();
});

Deno.test("startAgentRouters rejects duplicate names and starts nothing for no agents", async () => {
  const bus = new MemoryBus();
  try {
    await assert.rejects(
      startAgentRouters(bus, agentOptions(["same", "same"], { count: 0 }), { log: quietLog() }),
      /Agent names must be unique in one router, got same twice/,
    );
    assert.deepEqual(await startAgentRouters(bus, [], { log: quietLog() }), []);
  } finally {
    await bus.close();
  }
});

Deno.test("in one process the prompt is not rendered for a model that does not read it", async () => {
  const bus = new MemoryBus();
  // Decides from the structured request (like the rules model): never reads the user message.
  const model = new ScriptedModel(() => answer("hold"));
  const blind = {
    model: "blind",
    complete: (request: Parameters<ScriptedModel["complete"]>[0]) =>
      Promise.resolve({
        message: answer(`tick ${request.snapshot?.tick}`),
        usage: { promptTokens: 0, completionTokens: 0 },
        model: "blind",
      }),
  };
  const blindNode = await startChatNode(bus, { provider: blind, name: "blind", log: quietLog() });
  const readingNode = await startChatNode(bus, { provider: model, name: "reads", log: quietLog() });
  const activity = await ActivityCollector.open(bus);
  const blindRenders = { count: 0 };
  const readingRenders = { count: 0 };
  const routers = [
    ...await startAgentRouters(
      bus,
      agentOptions(["blind-agent"], blindRenders).map((agent) => ({
        ...agent,
        tools: [],
        chatNodeName: "blind",
      })),
      { log: quietLog() },
    ),
    ...await startAgentRouters(
      bus,
      agentOptions(["reading-agent"], readingRenders).map((agent) => ({
        ...agent,
        tools: [],
        chatNodeName: "reads",
      })),
      { log: quietLog() },
    ),
  ];
  try {
    await publishSnapshots(bus, [snapshot(1)]);
    await activity.decisions("blind-agent", 1);
    await activity.decisions("reading-agent", 1);
    assert.equal(blindRenders.count, 0, "a model that never reads the prompt never renders it");
    assert.equal(readingRenders.count, 1);
    assert.equal(model.requests[0]!.messages.at(-1)!.content, "Tick 1");
  } finally {
    await stopAll(routers);
    await blindNode.stop();
    await readingNode.stop();
    await activity.close();
    await bus.close();
  }
});

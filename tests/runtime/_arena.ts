/** A small in-memory arena for router tests: chat node, tool nodes, one agent and its activity. */

import type { Bus, Subscription } from "../../core/bus/bus.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import type { ToolDefinition } from "../../core/contracts/chat.ts";
import type { MarketSnapshot } from "../../core/contracts/market.ts";
import { AgentRouter, type AgentRouterOptions } from "../../core/runtime/agent_router.ts";
import { type ChatNodeHandle, startChatNode } from "../../core/runtime/chat_node.ts";
import { serveTool } from "../../core/runtime/tool_node.ts";
import { toolDefinition, type ToolSpec } from "../../core/runtime/tool_spec.ts";
import {
  ActivityCollector,
  publishSnapshots,
  quietLog,
  type Script,
  ScriptedModel,
  snapshot,
} from "./_support.ts";

/** Options for {@linkcode startArena}. */
export interface ArenaOptions {
  /** The model's script. */
  script: Script;
  /** Tools served by tool nodes. */
  tools?: ToolSpec[];
  /** Tools offered to the model (default the served ones). */
  offered?: ToolDefinition[];
  /** Router options to override. */
  router?: Partial<AgentRouterOptions>;
  /** Bus to use (default a new MemoryBus, closed with the arena). */
  bus?: Bus;
  /** Topic prefix (isolates Kafka test runs). */
  topicPrefix?: string;
  /** Chat node name (default none: the shared topic). */
  chatNodeName?: string;
}

/** A running test arena. */
export interface Arena {
  bus: Bus;
  model: ScriptedModel;
  chat: ChatNodeHandle;
  router: AgentRouter;
  activity: ActivityCollector;
  agent: string;
  /** Publishes the snapshots of the given ticks. */
  publish(...ticks: number[]): Promise<void>;
  /** Stops everything in order. */
  close(): Promise<void>;
}

/** Renders a fixed-size prompt so prompt growth can only come from memory. */
export function renderTestPrompt(market: MarketSnapshot): string {
  return `Tick ${market.tick} at ${market.time}: BTC-USD ${market.products[0]!.ticker.price}`;
}

/** Starts a chat node with the scripted model, tool nodes and one router. */
export async function startArena(options: ArenaOptions): Promise<Arena> {
  const ownBus = options.bus === undefined;
  const bus = options.bus ?? new MemoryBus();
  const log = quietLog();
  const prefix = options.topicPrefix ?? "";
  const agent = options.router?.agent ?? "tester";
  const model = new ScriptedModel(options.script);
  const specs = options.tools ?? [];
  const chat = await startChatNode(bus, {
    provider: model,
    log,
    name: options.chatNodeName,
    topicPrefix: prefix,
    groupId: prefix ? `${prefix}chat` : undefined,
  });
  const tools: Subscription[] = [];
  for (const spec of specs) {
    tools.push(
      await serveTool(bus, spec, {
        log,
        topicPrefix: prefix,
        groupId: prefix ? `${prefix}tool.${spec.name}` : undefined,
      }),
    );
  }
  const activity = await ActivityCollector.open(bus, prefix);
  const router = await AgentRouter.start(bus, {
    systemPrompt: "You are a careful test trader.",
    tools: options.offered ?? specs.map(toolDefinition),
    renderPrompt: renderTestPrompt,
    log,
    replyTimeoutMs: 5_000,
    chatNodeName: options.chatNodeName,
    topicPrefix: prefix,
    ...options.router,
    agent,
  });
  return {
    bus,
    model,
    chat,
    router,
    activity,
    agent,
    publish: (...ticks) => publishSnapshots(bus, ticks.map(snapshot), prefix),
    close: async () => {
      await router.stop();
      await chat.stop();
      for (const subscription of tools) await subscription.close();
      await activity.close();
      if (ownBus) await bus.close();
    },
  };
}

export { eventually } from "../_wait.ts";

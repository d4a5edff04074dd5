/** Choosing which agents a router process runs, and starting them on a bus. */

import type { Bus } from "../bus/bus.ts";
import { AgentName } from "../contracts/common.ts";
import type { Logger } from "../log.ts";
import { type PromptFormat, renderMarket } from "../market/prompt.ts";
import { type AgentRouter, startAgentRouters } from "../runtime/agent_router.ts";
import {
  type AgentSpec,
  builtinStrategy,
  defaultAgents,
  type Strategy,
  STRATEGY_IDS,
} from "./strategies.ts";
import { loadStrategyFile } from "./strategy_file.ts";
import type { DecisionProtocol } from "./decision.ts";
import { systemPromptFor } from "./decision_prompt.ts";
import type { ToolDefinition } from "../contracts/chat.ts";
import { arenaTopics } from "../bus/topics.ts";
import { readToolCatalog } from "../runtime/tool_catalog.ts";

/** The router's agent flags. */
export interface AgentSelection {
  /** `--name`: run one agent with this name. */
  name?: string;
  /** `--strategy`: a built-in strategy id. */
  strategy?: string;
  /** `--strategy-file`: a JSON strategy file. */
  strategyFile?: string;
}

/**
 * Resolves the router flags to agents: a strategy file (named `--name` or the file's name), or a
 * built-in strategy (named `--name` or the strategy id), or with neither the three default agents.
 * `--name` alone works for the default agents' names.
 */
export async function selectAgents(selection: AgentSelection): Promise<AgentSpec[]> {
  if (selection.strategy !== undefined && selection.strategyFile !== undefined) {
    throw new Error("Give either --strategy or --strategy-file, not both");
  }
  let agents: AgentSpec[];
  if (selection.strategyFile !== undefined) {
    const strategy: Strategy = await loadStrategyFile(selection.strategyFile);
    agents = [{ name: selection.name ?? strategy.name, strategy }];
  } else if (selection.strategy !== undefined) {
    const strategy = builtinStrategy(selection.strategy);
    agents = [{ name: selection.name ?? strategy.name, strategy }];
  } else if (selection.name !== undefined) {
    const known = defaultAgents().find((agent) => agent.name === selection.name);
    if (!known) {
      throw new Error(
        `Agent ${selection.name} needs --strategy ${STRATEGY_IDS.join("|")} or --strategy-file; ` +
          `without them only the default agents momentum, brainrot-daytrader and scalper are known`,
      );
    }
    agents = [known];
  } else {
    agents = defaultAgents();
  }
  for (const agent of agents) {
    const parsed = AgentName.safeParse(agent.name);
    if (!parsed.success) {
      throw new Error(
        `Agent name must be letters, digits, '.', '_' or '-' (at most 64), got ${agent.name}`,
      );
    }
  }
  return agents;
}

/** Options for {@linkcode startAgents}. */
export interface StartAgentsOptions {
  /** Chat node every agent talks to (default the shared `ai_prompted`). */
  chatNodeName?: string;
  /** Chat node per agent name, overriding `chatNodeName` (multi-model arenas in one process). */
  chatNodeByAgent?: Record<string, string>;
  /** Where the routers log. */
  log: Logger;
  /** Prefix of every topic name (isolated arenas and tests). */
  topicPrefix?: string;
  /** Past decisions summarised in each prompt (router default when absent). */
  memoryDecisions?: number;
  /** Bound on model calls per decision (router default when absent). */
  maxSteps?: number;
  /** Bound on the wait for a chat reply or tool result in milliseconds. */
  replyTimeoutMs?: number;
  /** Read snapshots published before the agents' groups joined (default false). */
  fromBeginning?: boolean;
  /**
   * Prefix of the router's consumer group on the market topic (default none: the agent's name
   * for one agent, else the host name of `routerHostName`, shared by all the agents).
   */
  groupIdPrefix?: string;
  /** Tool loop (default) or one JSON decision per model call. */
  protocol?: DecisionProtocol;
  /** Layout of the market block (default compact). */
  promptFormat?: PromptFormat;
  /** Part of every decision and order id (deterministic replays); random per router when absent. */
  runId?: string;
  /**
   * Tools offered to the models. Default: what the serving tools nodes published on the tool
   * catalog, read before the first decision (waiting, with a log line, until one has) and
   * followed after it (a republished catalog is offered from the next decision on).
   */
  tools?: ToolDefinition[];
  /** Stops waiting for the tool catalog. */
  signal?: AbortSignal;
}

/**
 * Starts one AgentRouter per agent with the tools the tools nodes describe (their catalog, so
 * the fee a model reads is the one it pays), its strategy's prompt plus the protocol's
 * instructions (the json protocol's state the desk's terms from the catalog: its model never
 * reads the tool descriptions), its strategy's rules policy id, and the market block in the
 * chosen layout.
 */
export async function startAgents(
  bus: Bus,
  agents: AgentSpec[],
  options: StartAgentsOptions,
): Promise<AgentRouter[]> {
  const { tools, desk } = options.tools
    ? { tools: options.tools, desk: undefined }
    : await readToolCatalog(bus, {
      topics: arenaTopics(options.topicPrefix),
      log: options.log,
      signal: options.signal,
    });
  const protocol = options.protocol ?? "tools";
  const promptFormat = options.promptFormat ?? "compact";
  // One market subscription, reply inbox and activity publisher for all the agents.
  return await startAgentRouters(
    bus,
    agents.map((agent) => ({
      agent: agent.name,
      systemPrompt: systemPromptFor(agent.strategy.prompt, protocol, desk),
      chatNodeName: options.chatNodeByAgent?.[agent.name] ?? options.chatNodeName,
      tools,
      renderPrompt: (snapshot) => renderMarket(snapshot, promptFormat),
      protocol,
      rulesPolicy: agent.strategy.rules,
      desk,
      runId: options.runId,
      maxSteps: options.maxSteps,
      memoryDecisions: options.memoryDecisions,
      replyTimeoutMs: options.replyTimeoutMs,
      log: options.log.child(agent.name),
    })),
    {
      fromBeginning: options.fromBeginning,
      groupIdPrefix: options.groupIdPrefix,
      topicPrefix: options.topicPrefix,
      followToolCatalog: options.tools === undefined,
      log: options.log,
    },
  );
}

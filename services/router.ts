/**
 * Router service: trading agents. The process reads market snapshots once, in one consumer group
 * named after the agents it hosts (one agent: its name), hands each snapshot to every agent, and
 * each agent asks its chat node and calls the shared tools. With no `--name`,
 * `--strategy` or `--strategy-file`, one process runs the three default agents (momentum,
 * brainrot-daytrader, scalper) on the shared chat node.
 *
 * `deno task router` allows the network to localhost and 127.0.0.1 and reads nothing; for
 * `--strategy-file FILE` add `--allow-read=FILE`, for a remote broker widen `--allow-net`.
 */

import { Option } from "@commander-js/extra-typings";
import {
  addAgentProtocolFlags,
  brokerCommand,
  nonNegativeIntFlag,
  parseFlags,
  positiveIntFlag,
  usageError,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { brokerServiceOptions, startService } from "../core/service.ts";
import { selectAgents, startAgents } from "../core/agents/agents.ts";
import { STRATEGY_IDS } from "../core/agents/strategies.ts";

const program = addAgentProtocolFlags(
  brokerCommand("router", {
    description: "Trading agents: market snapshots in, decisions through a chat node and tools",
  })
    .option("--name <name>", "agent name (consumer group, account); default the three agents")
    .option("--chat-node-name <name>", "chat node to use: ai_prompted.<name> (default ai_prompted)")
    .addOption(
      new Option("--strategy <id>", "built-in strategy").choices(STRATEGY_IDS),
    )
    .option("--strategy-file <file>", 'custom strategy JSON: {"name", "prompt", "rules"?}')
    .option(
      "--memory-decisions <n>",
      "past decisions summarised in each prompt",
      nonNegativeIntFlag,
    )
    .option("--max-steps <n>", "model calls per decision at most", positiveIntFlag),
);

const options = parseFlags(program);
const log = createLogger("router", { level: options.logLevel });
let agents;
try {
  agents = await selectAgents({
    name: options.name,
    strategy: options.strategy,
    strategyFile: options.strategyFile,
  });
} catch (error) {
  usageError("router", (error as Error).message);
}

await startService(
  brokerServiceOptions("router", {
    flags: options,
    clientId: `router.${agents.map((agent) => agent.name).join("+").slice(0, 60)}`,
    log,
  }),
  async ({ bus }) => {
    const routers = await startAgents(bus, agents, {
      chatNodeName: options.chatNodeName,
      memoryDecisions: options.memoryDecisions,
      maxSteps: options.maxSteps,
      protocol: options.protocol,
      promptFormat: options.promptFormat,
      replyTimeoutMs: options.replyTimeout === undefined ? undefined : options.replyTimeout * 1000,
      topicPrefix: options.topicPrefix,
      // An isolated arena (topic prefix) also gets its own consumer groups.
      groupIdPrefix: options.topicPrefix || undefined,
      log,
    });
    log.notice("Agents ready", {
      agents: agents.map((agent) => `${agent.name} (${agent.strategy.name})`),
      chatNode: options.chatNodeName ?? "shared",
      protocol: options.protocol,
      promptFormat: options.promptFormat,
    });
    return async () => {
      await Promise.allSettled(routers.map((router) => router.stop()));
      for (const router of routers) {
        log.notice("Agent stopped", { agent: router.agent, ...router.stats });
      }
    };
  },
);

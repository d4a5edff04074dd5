/**
 * The trading tools node: the ledger service, the calculator and execute_trade, get_portfolio
 * and calculator served on the bus, plus their definitions (built from the node's real fee and
 * slippage) published on the tool catalog. The tools service, the embedded arena, the benches
 * and the end-to-end tests all start it here, beside `startChatNode` and `startAgents`.
 */

import type { Bus, Subscription } from "../bus/bus.ts";
import { type ArenaTopics, arenaTopics } from "../bus/topics.ts";
import type { ToolDefinition } from "../contracts/chat.ts";
import { DEFAULT_TRADE_CONFIG, deskTermsOf, type TradeConfig } from "../ledger/trade.ts";
import type { Logger } from "../log.ts";
import { publishToolCatalog, TRADING_TOOLS_SERVICE } from "../runtime/tool_catalog.ts";
import { toolDefinition, type ToolSpec } from "../runtime/tool_spec.ts";
import { Calculator } from "./calculator.ts";
import { LedgerService } from "./ledger_service.ts";
import { serveTools } from "./serve.ts";
import { calculatorTool, executeTradeTool, getPortfolioTool } from "./trading_tools.ts";

/** Options for {@linkcode startToolsNode}. */
export interface ToolsNodeOptions {
  /** Where the ledger and the tools log. */
  log: Logger;
  /** The arena's topics (default no prefix). */
  topics?: ArenaTopics;
  /** Starting cash of each new account (ledger default when absent). */
  startingCash?: string;
  /**
   * Fees, slippage, increments, shorts and leverage (the desk's defaults when absent: spot, long
   * only); stated in the catalog.
   */
  config?: TradeConfig;
  /**
   * Consumer group prefix shared by replicas: each tool gets `<groupId>.<tool>` (default
   * `<prefix>tool_node` with a topic prefix, else the ToolNode's `tool_node.<tool>`).
   */
  groupId?: string;
  /** Consumer group prefix of the ledger followers (default `<prefix>tools.follower`). */
  followerGroupPrefix?: string;
  /** Longest age of a quote a fill may use, in market ms (ledger default when absent). */
  maxQuoteAgeMs?: number;
  /** Requests handled at once per tool (serveTool's default when absent). */
  concurrency?: number;
  /** A calculator to share (its worker takes a second to start); not closed by `stop`. */
  calculator?: Calculator;
}

/** A running tools node. */
export interface ToolsNodeHandle {
  /** The ledger service behind execute_trade and get_portfolio. */
  readonly ledger: LedgerService;
  /** The desk the node trades with (fees, slippage, shorts, leverage). */
  readonly config: TradeConfig;
  /** The definitions it published on the catalog: what routers offer to models. */
  readonly tools: ToolDefinition[];
  /** Resolves once the calculator's worker is up (tools are served before that). */
  readonly ready: Promise<void>;
  /** Stops serving, then closes the ledger (and the calculator it created). */
  stop(): Promise<void>;
}

/**
 * Starts the trading tools: creates their topics, rebuilds the ledger, serves the three tools
 * and publishes their definitions on the tool catalog, so routers describe the fee this node
 * charges.
 */
export async function startToolsNode(
  bus: Bus,
  options: ToolsNodeOptions,
): Promise<ToolsNodeHandle> {
  const topics = options.topics ?? arenaTopics();
  const prefix = topics.prefix;
  const config = options.config ?? DEFAULT_TRADE_CONFIG;
  const log = options.log;
  const names = ["execute_trade", "get_portfolio", "calculator"];
  await bus.ensureTopics([
    topics.ledger,
    topics.prices,
    topics.toolCatalog,
    topics.deadLetter,
    ...names.map((name) => topics.toolRequest(name)),
  ]);
  const ledger = await LedgerService.start(bus, {
    log: log.child("ledger"),
    startingCash: options.startingCash,
    config,
    ledgerTopic: topics.ledger.topic,
    priceTopic: topics.prices.topic,
    groupPrefix: options.followerGroupPrefix ?? (prefix ? `${prefix}tools.follower` : undefined),
    maxQuoteAgeMs: options.maxQuoteAgeMs,
  });
  const calculator = options.calculator ?? new Calculator();
  const ready = calculator.warmUp();
  ready.catch(() => {});
  let subscriptions: Subscription[] = [];
  try {
    const specs = [
      executeTradeTool(ledger, { config }),
      getPortfolioTool(ledger),
      calculatorTool(calculator),
    ] as ToolSpec[];
    subscriptions = await serveTools(bus, specs, {
      log: log.child("tools"),
      topicPrefix: prefix,
      groupId: options.groupId ?? (prefix ? `${prefix}tool_node` : undefined),
      concurrency: options.concurrency,
    });
    const tools = specs.map(toolDefinition);
    await publishToolCatalog(bus, tools, {
      topics,
      service: TRADING_TOOLS_SERVICE,
      desk: deskTermsOf(config),
    });
    let stopped: Promise<void> | undefined;
    return {
      ledger,
      config,
      tools,
      ready,
      stop: () =>
        stopped ??= (async () => {
          await Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
          await ledger.close().catch(() => {});
          if (!options.calculator) calculator.close();
        })(),
    };
  } catch (error) {
    await Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
    await ledger.close().catch(() => {});
    if (!options.calculator) calculator.close();
    throw error;
  }
}

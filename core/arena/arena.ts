/**
 * The embedded arena: market feed (replay or Coinbase), chat nodes, agent routers, trading tools
 * with the ledger, and the dashboard, all in one process on one bus (MemoryBus by default, or a
 * broker). It runs to the end of the replay (or until stopped) and returns the final state and
 * report, read back exactly from the bus.
 */

import type { Bus, Subscription } from "../bus/bus.ts";
import { arenaTopics } from "../bus/topics.ts";
import { startAgents } from "../agents/agents.ts";
import type { AgentSpec } from "../agents/strategies.ts";
import type { DecisionProtocol } from "../agents/decision.ts";
import type { PromptFormat } from "../market/prompt.ts";
import { CoinbaseFeed } from "../connector/coinbase_feed.ts";
import type { MarketTopics } from "../connector/publish.ts";
import { ReplayFeed, type ReplaySource } from "../connector/replay.ts";
import { buildReport, type Report } from "../dashboard/report.ts";
import type { DashboardState } from "../dashboard/state.ts";
import {
  connectDashboard,
  DashboardStore,
  type DashboardTopics,
  readDashboardState,
} from "../dashboard/store.ts";
import { TerminalDashboard } from "../dashboard/terminal.ts";
import { startWebDashboard, type WebDashboard } from "../dashboard/web_server.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../ledger/trade.ts";
import { ledgerIncrements, type MarketMask } from "../market/mask.ts";
import type { Logger } from "../log.ts";
import { type ChatNodeHandle, type PriceTable, startChatNode } from "../runtime/chat_node.ts";
import type { ModelProvider } from "../runtime/model_provider.ts";
import type { Calculator } from "../tools/calculator.ts";
import { startToolsNode } from "../tools/tools_node.ts";
import { StopStack } from "../shutdown.ts";

/** One model served by a chat node of the arena. */
export interface ArenaModel {
  /** Chat node name (`ai_prompted.<name>`); omitted means the shared `ai_prompted`. */
  name?: string;
  /** The model. */
  provider: ModelProvider;
  /** Concurrent model calls (chat node default when absent). */
  maxWorkers?: number;
  /** Strings (API keys) never to appear in replies. */
  secrets?: string[];
  /** Prices per model id over the built-in table (`--price-input`, `--price-output`). */
  costPerMillionTokens?: PriceTable;
}

/** An agent of the arena and the chat node it talks to. */
export interface ArenaAgent extends AgentSpec {
  /** Chat node name; omitted means the shared node. */
  chatNodeName?: string;
}

/** A candle or recording replay. */
export interface ReplayMarket {
  /** Replay. */
  kind: "replay";
  /** The data. */
  source: ReplaySource;
  /** Market seconds between snapshots (default 60). */
  intervalSeconds?: number;
  /** N x real time; omitted means as fast as possible. */
  speed?: number;
  /** Wait for every agent's decision before the next tick (deterministic runs). */
  lockstep?: boolean;
  /** Bound on the lockstep wait per tick (default 120 s). */
  lockstepTimeoutMs?: number;
  /** Stop after this many snapshots. */
  maxTicks?: number;
  /** Market seconds skipped before the first tick (default 4 h). */
  warmupSeconds?: number;
  /** Publish masked data (see `replayMask`); the ledger takes the masked increments. */
  mask?: MarketMask;
}

/** Live Coinbase market data. */
export interface LiveMarket {
  /** Live. */
  kind: "live";
  /** Products to follow. */
  productIds: string[];
  /** Seconds between snapshots (60 in the arena). */
  intervalSeconds: number;
  /** WebSocket feed URL (default Coinbase Exchange). */
  wsUrl?: string;
  /** REST API URL (default Coinbase Exchange). */
  restUrl?: string;
}

/** Where the arena's market data comes from. */
export type ArenaMarket = ReplayMarket | LiveMarket;

/** Options for {@linkcode runArena}. */
export interface RunArenaOptions {
  /** The agents. */
  agents: ArenaAgent[];
  /** The chat nodes (at least one; agents name theirs by `chatNodeName`). */
  models: ArenaModel[];
  /** The market data. */
  market: ArenaMarket;
  /** Where every component logs. */
  log: Logger;
  /** Starting cash of each account (default 100000). */
  startingCash?: string;
  /** The desk: fees, slippage, shorts and leverage (ledger default when absent: spot). */
  tradeConfig?: TradeConfig;
  /** Live terminal screen, plain summaries, or nothing (default none). */
  dashboard?: "tty" | "plain" | "none";
  /** Redraw or summary interval in ms (terminal dashboard default when absent). */
  dashboardIntervalMs?: number;
  /** Where the terminal dashboard writes (default standard output). */
  write?: (text: string) => void;
  /** Start the web dashboard on this address (port 0 picks a free one). */
  web?: { port: number; host?: string; authToken?: string };
  /** Called once the web dashboard listens. */
  onWeb?: (url: string) => void;
  /** Bound on one chat reply or tool round in ms (router default when absent). */
  replyTimeoutMs?: number;
  /** The agents' decision protocol (default the tool loop). */
  protocol?: DecisionProtocol;
  /** Layout of the market block in prompts (default compact). */
  promptFormat?: PromptFormat;
  /** Part of every decision and order id, for deterministic replays (random when absent). */
  runId?: string;
  /** Past decisions summarised in each prompt (router default when absent). */
  memoryDecisions?: number;
  /** Called when the user presses `q` on the live terminal screen (e.g. stop like Ctrl-C). */
  onQuit?: () => void;
  /** Aborting stops the market feed; the arena then shuts down and reports. */
  signal?: AbortSignal;
  /** Prefix of every topic and consumer group name (isolated arenas on a shared broker). */
  topicPrefix?: string;
  /** A calculator to share between arenas (its worker takes a second to start); not closed. */
  calculator?: Calculator;
  /** Called when the dashboard sees a new snapshot tick (progress bars). */
  onTick?: (tick: number) => void;
}

/** What a finished arena returns. */
export interface ArenaResult {
  /** Snapshots published. */
  ticks: number;
  /** The final state, read back from the bus to its end. */
  state: DashboardState;
  /** The run report (leaderboard, benchmark, portfolios, trades). */
  report: Report;
}

/**
 * Runs a whole arena on `bus`: tools and ledger, chat nodes, agents, dashboard, then the market
 * feed. A replay ends at the end of its data; a live feed runs until `signal` aborts. Everything
 * is stopped in order before the final state is read, so the result includes every trade.
 */
export async function runArena(bus: Bus, options: RunArenaOptions): Promise<ArenaResult> {
  const { log } = options;
  if (options.agents.length === 0) throw new Error("An arena needs at least one agent");
  if (options.models.length === 0) throw new Error("An arena needs at least one model");
  const nodeNames = new Set(options.models.map((model) => model.name ?? ""));
  for (const agent of options.agents) {
    if (!nodeNames.has(agent.chatNodeName ?? "")) {
      throw new Error(
        `Agent ${agent.name} talks to chat node ${agent.chatNodeName ?? "(shared)"}, ` +
          `but the arena has only ${[...nodeNames].map((name) => name || "(shared)").join(", ")}`,
      );
    }
  }
  const prefix = options.topicPrefix ?? "";
  const arena = arenaTopics(prefix);
  const topics: DashboardTopics = {
    ledger: arena.ledger.topic,
    prices: arena.prices.topic,
    activity: arena.activity.topic,
    snapshots: arena.snapshots.topic,
  };
  await bus.ensureTopics([...arena.fixed]);

  // Everything started is stopped last-started first: market, agents, chat nodes, tools.
  const stops = new StopStack(log);
  const stopAll = () => stops.closeAll();
  let terminal: TerminalDashboard | undefined;
  try {
    const store = new DashboardStore();
    const dashboard: Subscription = await connectDashboard(bus, store, {
      log: log.child("dashboard"),
      topics,
    });
    stops.push(() => dashboard.close());
    if (options.onTick) {
      const onTick = options.onTick;
      let lastTick: number | null = null;
      const stopListening = store.onChange(() => {
        const tick = store.state.clock.tick;
        if (tick !== null && tick !== lastTick) {
          lastTick = tick;
          onTick(tick);
        }
      });
      stops.push(() => Promise.resolve(void stopListening()));
    }
    if (options.web) {
      const web: WebDashboard = await startWebDashboard(store, {
        port: options.web.port,
        host: options.web.host ?? "127.0.0.1",
        authToken: options.web.authToken,
        log: log.child("web"),
      });
      stops.push(() => web.close());
      options.onWeb?.(web.url);
    }

    const tradeConfig = arenaTradeConfig(options);
    // The tools node publishes its definitions (with this fee) on the catalog the agents read.
    // The calculator's worker loads mathjs (about a second): it warms up while the rest starts.
    const toolsNode = await startToolsNode(bus, {
      log,
      topics: arena,
      startingCash: options.startingCash,
      config: tradeConfig,
      calculator: options.calculator,
    });
    stops.push(() => toolsNode.stop());
    const warmUp = toolsNode.ready;

    const nodes: ChatNodeHandle[] = [];
    for (const model of options.models) {
      const node = await startChatNode(bus, {
        provider: model.provider,
        name: model.name,
        maxWorkers: model.maxWorkers,
        secrets: model.secrets,
        costPerMillionTokens: model.costPerMillionTokens,
        topicPrefix: prefix,
        groupId: prefix ? `${prefix}chat_node.${model.name ?? "shared"}` : undefined,
        log: log.child(`chat_node.${model.name ?? "shared"}`),
      });
      nodes.push(node);
      stops.push(() => node.stop());
    }

    const chatNodeByAgent: Record<string, string> = {};
    for (const agent of options.agents) {
      if (agent.chatNodeName !== undefined) chatNodeByAgent[agent.name] = agent.chatNodeName;
    }
    const routers = await startAgents(bus, options.agents, {
      signal: options.signal,
      chatNodeByAgent,
      replyTimeoutMs: options.replyTimeoutMs,
      protocol: options.protocol,
      promptFormat: options.promptFormat,
      runId: options.runId,
      memoryDecisions: options.memoryDecisions,
      topicPrefix: prefix,
      log: log.child("router"),
    });
    stops.push(async () => {
      await Promise.allSettled(routers.map((router) => router.stop()));
    });

    await warmUp;
    if (options.dashboard === "tty" || options.dashboard === "plain") {
      terminal = new TerminalDashboard(store, {
        mode: options.dashboard,
        intervalMs: options.dashboardIntervalMs,
        write: options.write,
        handleSignals: false,
        onQuit: options.onQuit,
      });
      terminal.start();
    }

    const ticks = await runMarket(bus, options, {
      snapshots: topics.snapshots,
      prices: topics.prices,
      activity: topics.activity,
    });
    terminal?.stop();
    terminal = undefined;
    await stopAll();
    const state = await readDashboardState(bus, {
      log: log.child("report"),
      topics,
      takerFeeBps: (tradeConfig ?? DEFAULT_TRADE_CONFIG).takerFeeBps,
    });
    return { ticks, state, report: buildReport(state) };
  } finally {
    terminal?.stop();
    await stopAll();
  }
}

/** The desk's settings, with a masked replay's ledger increments for the masked products. */
function arenaTradeConfig(options: RunArenaOptions): TradeConfig | undefined {
  const market = options.market;
  if (market.kind !== "replay" || !market.mask) return options.tradeConfig;
  const config = options.tradeConfig ?? DEFAULT_TRADE_CONFIG;
  return {
    ...config,
    increments: { ...config.increments, ...ledgerIncrements(market.mask) },
  };
}

async function runMarket(
  bus: Bus,
  options: RunArenaOptions,
  topics: MarketTopics,
): Promise<number> {
  const { market, log } = options;
  if (market.kind === "replay") {
    const replay = new ReplayFeed({
      bus,
      source: market.source,
      intervalSeconds: market.intervalSeconds,
      speed: market.speed,
      lockstep: market.lockstep
        ? {
          agents: options.agents.map((agent) => agent.name),
          timeoutMs: market.lockstepTimeoutMs,
        }
        : undefined,
      maxTicks: market.maxTicks,
      warmupSeconds: market.warmupSeconds,
      mask: market.mask,
      signal: options.signal,
      topics,
      log: log.child("replay"),
    });
    return (await replay.run()).ticks;
  }
  const feed = new CoinbaseFeed({
    bus,
    productIds: market.productIds,
    intervalSeconds: market.intervalSeconds,
    wsUrl: market.wsUrl,
    restUrl: market.restUrl,
    topics,
    log: log.child("connector"),
  });
  await feed.start();
  try {
    await untilAborted(options.signal);
  } finally {
    await feed.close();
  }
  return feed.snapshots;
}

function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

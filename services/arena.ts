/**
 * The whole arena in one process: market feed (Coinbase live, or a replay), chat node, agents,
 * tools with the ledger, and the terminal and web dashboards, on the in-memory bus (or on a
 * broker with `--bootstrap-servers`). At the end (replay finished, or Ctrl-C) it prints the final
 * leaderboard and writes the report.
 *
 * `--demo` is the offline demo (`deno task demo`): the bundled 48 h of real BTC-USD and ETH-USD
 * candles replayed in lockstep with the `rules` model, a decision every 5 minutes of market time.
 *
 * `deno task arena` allows the network to the Coinbase Exchange hosts, api.openai.com, localhost
 * and 127.0.0.1. For another OpenAI-compatible host add it to `--allow-net`, e.g.
 * `deno run --allow-net=ws-feed.exchange.coinbase.com,api.exchange.coinbase.com,api.deepseek.com,
 * 127.0.0.1,localhost --allow-env=OPENAI_API_KEY --allow-read=. --allow-write=artifacts
 * services/arena.ts --model-id deepseek-chat --base-url https://api.deepseek.com`.
 */

import { Command, Option } from "@commander-js/extra-typings";
import type { Bus } from "../core/bus/bus.ts";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import { selectAgents } from "../core/agents/agents.ts";
import { STRATEGY_IDS } from "../core/agents/strategies.ts";
import {
  type ArenaAgent,
  type ArenaMarket,
  type ArenaModel,
  runArena,
} from "../core/arena/arena.ts";
import { builtinEntries, entryAgentName, parseEntries } from "../core/arena/tournament.ts";
import { DEMO_INTERVAL_SECONDS, describeDesk, describeReplay } from "../core/arena/describe.ts";
import { deskTermsOf } from "../core/ledger/trade.ts";
import { formatLeaderboard } from "../core/arena/leaderboard.ts";
import {
  loadFixtureCandles,
  loadReplaySource,
  type MarketMask,
  replayMask,
  type ReplaySource,
  selectReplayProducts,
} from "../core/connector/replay.ts";
import { describeMask, maskedIncrements } from "../core/market/mask.ts";
import { KAFKA_CLIENTS, type KafkaClient, openKafkaBus } from "../core/bus/kafka_client.ts";
import { writeReport } from "../core/dashboard/report.ts";
import { DashboardStore } from "../core/dashboard/store.ts";
import { dashboardAuthToken, startWebDashboard } from "../core/dashboard/web_server.ts";
import {
  addAgentProtocolFlags,
  addExitPlansFlag,
  addKafkaSecurityFlags,
  addTopicPrefixFlag,
  addTradeDeskFlags,
  agentWaits,
  ensureWritableDir,
  fatalError,
  kafkaSecurityOf,
  logLevelOption,
  nonNegativeIntFlag,
  parseFlags,
  portFlag,
  positiveIntFlag,
  positiveNumberFlag,
  tradeConfigOf,
  usageError,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import {
  addModelFlags,
  addModelKindFlags,
  modelSecrets,
  openFlagModels,
} from "../core/models/model_flags.ts";
import { onShutdownSignals } from "../core/shutdown.ts";

const DEFAULT_PRODUCTS = ["BTC-USD", "FARTCOIN-USD", "SOL-USD"];

const program = addAgentProtocolFlags(addModelFlags(addModelKindFlags(addKafkaSecurityFlags(
  addExitPlansFlag(addTradeDeskFlags(addTopicPrefixFlag(new Command())))
    .name("arena")
    .description("The whole arena in one process: market data, agents, model, tools, dashboards")
    .option("--demo", "offline demo: bundled candles, lockstep, rules model, 5-minute decisions")
    .option("--products <ids...>", "Coinbase product ids (space or comma separated)")
    .option(
      "--min-interval <seconds>",
      "market seconds between snapshots",
      positiveNumberFlag,
      undefined,
    )
    .option("--ws-url <url>", "Coinbase WebSocket feed")
    .option("--rest-url <url>", "Coinbase REST API")
    .option("--replay <files...>", "replay a recording, or candle CSV files / folders")
    .option(
      "--speed <n>",
      "replay at N x real time (default as fast as possible)",
      positiveNumberFlag,
    )
    .option("--lockstep", "replay: wait for every agent's decision before the next tick")
    .option(
      "--lockstep-timeout <seconds>",
      "longest wait for late agents per tick (default 120, at least 4 x --reply-timeout)",
      positiveNumberFlag,
    )
    .option("--max-ticks <n>", "replay: stop after N snapshots", positiveIntFlag)
    .option(
      "--mask",
      "replay: contamination-safe data (renamed products, scaled prices, no dates); the real " +
        "names are shown after the run",
    )
    .option("--mask-seed <n>", "replay: seed of the mask (default random)", nonNegativeIntFlag)
    .option(
      "--entries <list>",
      "several models in one arena: strategy:model pairs such as momentum:rules,scalper:gpt-5-nano " +
        "(agents <strategy>.<model>, one chat node per model)",
    )
    .option("--name <name>", "run one agent with this name (default the three agents)")
    .addOption(new Option("--strategy <id>", "built-in strategy of --name").choices(STRATEGY_IDS))
    .option("--strategy-file <file>", 'custom strategy JSON: {"name", "prompt", "rules"?}')
    .option("--web", "start the web dashboard (default on, off with --demo)")
    .option("--no-web", "do not start the web dashboard")
    .option("--port <port>", "web dashboard port (0 picks a free one)", portFlag, 8787)
    .option("--host <host>", "web dashboard address to bind", "127.0.0.1")
    .option(
      "--auth-token <token>",
      "token the web dashboard requires (default $ARENA_DASHBOARD_TOKEN; needed off loopback)",
    )
    .option("--no-tty", "print plain periodic summaries instead of the live screen")
    .option("--interval <seconds>", "seconds between plain summaries", positiveNumberFlag, 10)
    .option("--report-dir <dir>", "where report.html and report.json go")
    .option("--bootstrap-servers <servers>", "Kafka bootstrap servers (default: in-memory bus)")
    .addOption(
      new Option("--kafka-client <client>", "Kafka client behind the bus (see README)")
        .choices(KAFKA_CLIENTS).default("kafkajs" as KafkaClient),
    )
    .addOption(logLevelOption()),
))));

const options = parseFlags(program);
const demo = options.demo === true;
const interactive = options.tty && Deno.stdout.isTerminal();
// The live screen owns the terminal: keep log lines and print them after it is restored.
const heldLines: string[] = [];
const secrets = modelSecrets(options);
const log = createLogger("arena", {
  level: options.logLevel,
  sink: interactive
    ? (line) => heldLines.push(line) > 200 && heldLines.shift()
    : (line) => console.error(line),
  secrets,
});

function fail(message: string): never {
  usageError("arena", message);
}

const replaying = demo || options.replay !== undefined;
if (demo && (options.replay || options.products || options.bootstrapServers)) {
  fail(
    "--demo replays the bundled candles in memory; drop --replay, --products and --bootstrap-servers",
  );
}
if (!replaying && (options.speed !== undefined || options.lockstep || options.maxTicks)) {
  fail("--speed, --lockstep and --max-ticks apply to --replay (or --demo)");
}
if (!replaying && (options.mask || options.maskSeed !== undefined)) {
  fail("--mask and --mask-seed apply to --replay (or --demo); live data is never masked");
}
const flagModels = await openFlagModels(options, { log, onMiss: () => abort.abort() })
  .catch((error: Error) => fail(error.message));
const intervalSeconds = options.minInterval ?? (demo ? DEMO_INTERVAL_SECONDS : 60);
const waits = agentWaits(options);

let market: ArenaMarket;
let description: string;
let mask: MarketMask | undefined;
if (replaying) {
  let source: ReplaySource;
  try {
    source = demo ? await loadFixtureCandles("main") : await loadReplaySource(options.replay!);
  } catch (error) {
    fail(`could not read the replay data: ${(error as Error).message}`);
  }
  if (options.products) {
    const productIds = options.products.flatMap((entry) => entry.split(","))
      .map((id) => id.trim()).filter((id) => id !== "");
    try {
      source = selectReplayProducts(source, productIds);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const lockstep = demo || options.lockstep === true;
  if (options.mask) {
    mask = replayMask(source, { seed: options.maskSeed ?? Math.floor(Math.random() * 2 ** 31) });
  }
  market = {
    kind: "replay",
    source,
    mask,
    intervalSeconds,
    speed: options.speed,
    lockstep,
    lockstepTimeoutMs: waits.lockstepTimeoutMs,
    maxTicks: options.maxTicks,
  };
  description = `Replay of ${
    describeReplay(source, { intervalSeconds, maxTicks: options.maxTicks })
  }${lockstep ? ", lockstep" : options.speed ? `, ${options.speed}x real time` : ", unpaced"}${
    mask ? ", masked (real names shown after the run)" : ""
  }`;
} else {
  const productIds = (options.products ?? DEFAULT_PRODUCTS).flatMap((entry) => entry.split(","))
    .map((id) => id.trim()).filter((id) => id !== "");
  market = {
    kind: "live",
    productIds,
    intervalSeconds,
    wsUrl: options.wsUrl,
    restUrl: options.restUrl,
  };
  description = `Coinbase live: ${productIds.join(", ")}, a snapshot every ${intervalSeconds} s`;
}
let agents: ArenaAgent[];
let models: ArenaModel[];
try {
  if (options.entries !== undefined) {
    if (options.name || options.strategy || options.strategyFile || options.model) {
      fail(
        "--entries replaces --name, --strategy, --strategy-file and --model; give one or the other",
      );
    }
    const entries = builtinEntries(parseEntries(options.entries));
    // One chat node per model, named after it (topic ai_prompted.<model>).
    const nodeOf = (model: string) => model.replace(/[^A-Za-z0-9._-]/g, "_");
    agents = entries.map((entry) => ({
      name: entryAgentName(entry),
      strategy: entry.strategy,
      chatNodeName: nodeOf(entry.model),
    }));
    models = [];
    for (const model of new Set(entries.map((entry) => entry.model))) {
      models.push({ name: nodeOf(model), ...modelOf(model) });
    }
  } else {
    agents = await selectAgents({
      name: options.name,
      strategy: options.strategy,
      strategyFile: options.strategyFile,
    });
    const kind = options.model ?? (demo ? "rules" : "openai");
    models = [modelOf(kind === "rules" ? "rules" : options.modelId)];
  }
} catch (error) {
  fail((error as Error).message);
}

/** The rules model, or the model id on the OpenAI-compatible server (the key is needed then). */
function modelOf(model: string): ArenaModel {
  const provider = flagModels.create(model, {
    takerFeeBps: options.takerFeeBps,
    increments: mask ? maskedIncrements(mask) : undefined,
  });
  return {
    provider,
    maxWorkers: options.maxWorkers,
    secrets,
    costPerMillionTokens: flagModels.prices([provider.model]),
  };
}

const modelLabels = models.map((model) =>
  model.provider.model === "rules"
    ? "rules (offline deterministic policies, not an LLM)"
    : model.provider.model
).join(", ");
description += `; agents ${agents.map((agent) => agent.name).join(", ")}; ` +
  `model${models.length > 1 ? "s" : ""} ${modelLabels}; ${options.protocol} protocol, ` +
  `${options.promptFormat} prompt; ${describeDesk(deskTermsOf(tradeConfigOf(options)))}`;

// The report is written at the end of the run: a folder that cannot be written fails now.
const reportDir = options.reportDir ?? (demo ? "artifacts/demo" : "artifacts/arena");
try {
  await ensureWritableDir("--report-dir", reportDir);
} catch (error) {
  fail((error as Error).message);
}

let bus: Bus;
if (options.bootstrapServers) {
  const kafka = await openKafkaBus(options.kafkaClient, {
    brokers: options.bootstrapServers.split(","),
    clientId: `arena.${crypto.randomUUID().slice(0, 8)}`,
    log: log.child("bus"),
    security: kafkaSecurityOf("arena", options),
  }).catch((error: Error) => fatalError("arena", error.message));
  try {
    await kafka.probe();
  } catch (error) {
    fatalError("arena", (error as Error).message);
  }
  bus = kafka;
  description += `; bus ${options.bootstrapServers}`;
} else {
  bus = new MemoryBus();
  description += "; in-memory bus";
}

const abort = new AbortController();
// Ctrl-C or SIGTERM stops the market; the arena then closes in order and reports.
onShutdownSignals(() => abort.abort());

const startedAt = performance.now();
const web = options.web ?? !demo;
let authToken: string | undefined;
try {
  authToken = web ? dashboardAuthToken(options.host, options.authToken, Deno.env) : undefined;
} catch (error) {
  fatalError("arena", (error as Error).message);
}
let webUrl: string | undefined;
if (!interactive) console.log(`${demo ? "Demo" : "Arena"}: ${description}`);
let result;
let missed: string | undefined;
try {
  result = await runArena(bus, {
    agents,
    models,
    market,
    log,
    onQuit: () => abort.abort(),
    startingCash: options.startingCash,
    tradeConfig: tradeConfigOf(options),
    dashboard: interactive ? "tty" : "plain",
    dashboardIntervalMs: interactive ? 250 : options.interval * 1000,
    web: web ? { port: options.port, host: options.host, authToken } : undefined,
    onWeb: (url) => {
      webUrl = url;
      if (!interactive) console.log(`Web dashboard: ${url}`);
    },
    signal: abort.signal,
    topicPrefix: options.topicPrefix,
    replyTimeoutMs: waits.replyTimeoutMs,
    protocol: options.protocol,
    promptFormat: options.promptFormat,
    // Recorded answers carry the recording run's ids: decision and order ids must match them.
    runId: flagModels.recording.active ? "recorded" : undefined,
  });
  missed = await flagModels.close();
} catch (error) {
  for (const line of heldLines) console.error(line);
  const reason = error instanceof Deno.errors.AddrInUse
    ? `port ${options.port} on ${options.host} is in use: pass --port N (0 picks a free one)`
    : (error as Error).message;
  console.error(`arena: ${reason}`);
  await bus.close().catch(() => {});
  Deno.exit(1);
}
await bus.close().catch(() => {});
for (const line of heldLines) console.error(line);
if (missed) fatalError("arena", missed);

// A replay stopped early is not a result: its report goes beside the last complete one.
const partial = replaying && abort.signal.aborted;
const paths = await writeReport(result.report, {
  outDir: partial ? `${reportDir.replace(/\/+$/, "")}/partial` : reportDir,
});
const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
console.log(
  [
    "",
    `${demo ? "Demo" : "Arena"}: ${description}`,
    `=== Final leaderboard (market time ${
      result.report.json.marketTime ?? "-"
    }, ${result.ticks} ticks) ===`,
    formatLeaderboard(result.report.json),
    "=== End of leaderboard ===",
    ...(partial
      ? [
        `Stopped early after ${result.ticks} ticks: the partial report is in ${
          paths.html.replace(/\/report\.html$/, "")
        }; the last complete report in ${reportDir} is kept.`,
      ]
      : []),
    ...(mask ? ["Mask of this replay:", ...describeMask(mask).map((line) => `  ${line}`)] : []),
    ...(flagModels.recording.summary() ? [flagModels.recording.summary()!] : []),
    `Report: ${paths.html} (data: ${paths.json})`,
    ...(webUrl && abort.signal.aborted ? [`Web dashboard was at ${webUrl}`] : []),
    `Finished in ${seconds} s wall-clock time.`,
  ].join("\n"),
);
if (webUrl && !abort.signal.aborted) {
  // The run is over: keep its final state on the same address until Ctrl-C.
  const final = await startWebDashboard(new DashboardStore({ state: result.state }), {
    port: Number(new URL(webUrl).port),
    host: options.host,
    authToken,
    log: log.child("web"),
  });
  console.log(`Web dashboard still serving at ${final.url} until Ctrl-C`);
  await new Promise((resolve) => abort.signal.addEventListener("abort", resolve, { once: true }));
  await final.close();
}
Deno.exit(0);

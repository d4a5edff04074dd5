/**
 * Tools service: execute_trade, get_portfolio and calculator for every agent, on a durable ledger.
 *
 * `deno task tools` allows the network to localhost and 127.0.0.1 only. For a remote broker,
 * widen `--allow-net` with the broker's host:port and every advertised listener, e.g.
 * `deno run --allow-net=kafka-1.example:9092,kafka-2.example:9092 --allow-env=... \
 * --allow-read=core/tools services/tools.ts --bootstrap-servers kafka-1.example:9092`.
 * `--allow-read=core/tools` lets the calculator start its worker; nothing else is read.
 * Several replicas may run with the same `--group-id`: tool requests are keyed by agent, so one
 * replica serves an agent at a time, and a replica taking over waits for the ledger first.
 */

import { dynamicTopic, LEDGER_TOPIC, PRICE_TOPIC, toolRequestTopic } from "../core/bus/topics.ts";
import {
  basisPointsFlag,
  brokerCommand,
  feeBpsFlag,
  parseFlags,
  positiveIntFlag,
  usdAmountFlag,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { startService } from "../core/service.ts";
import {
  Calculator,
  calculatorTool,
  executeTradeTool,
  getPortfolioTool,
  LedgerService,
  serveTools,
} from "../core/tools/mod.ts";
import type { TradeConfig } from "../core/ledger/trade.ts";
import type { ToolSpec } from "../core/runtime/tool_spec.ts";

const program = brokerCommand("tools", {
  description: "Shared trading tools (execute_trade, get_portfolio, calculator) on the ledger",
})
  .option("--starting-cash <usd>", "starting cash of each new account", usdAmountFlag, "100000")
  .option("--taker-fee-bps <bps>", "taker fee in basis points (0 = frictionless)", feeBpsFlag, 60)
  .option(
    "--slippage-bps <bps>",
    "fill slippage in basis points against the trader",
    basisPointsFlag,
    0,
  )
  .option(
    "--group-id <id>",
    "consumer group prefix shared by tools replicas (default tool_node.<tool>)",
  )
  .option("--topic-prefix <prefix>", "prefix of every topic name (isolated arenas, tests)", "")
  .option(
    "--session-timeout-ms <ms>",
    "consumer session timeout: how fast a dead replica's partitions move to another",
    positiveIntFlag,
    30_000,
  );

const options = parseFlags(program);
const log = createLogger("tools", { level: options.logLevel });
const config: TradeConfig = {
  takerFeeBps: options.takerFeeBps,
  slippageBps: options.slippageBps,
};
const prefix = options.topicPrefix;
await startService({
  name: "tools",
  bootstrapServers: options.bootstrapServers,
  clientId: `tools.${crypto.randomUUID().slice(0, 8)}`,
  log,
  bus: {
    sessionTimeoutMs: options.sessionTimeoutMs,
    heartbeatIntervalMs: Math.max(100, Math.min(1_000, Math.floor(options.sessionTimeoutMs / 10))),
  },
}, async ({ bus }) => {
  await bus.ensureTopics([
    { topic: prefix + LEDGER_TOPIC, partitions: 6, retentionMs: -1 },
    { topic: prefix + PRICE_TOPIC, partitions: 3, retentionMs: 7 * 24 * 60 * 60 * 1000 },
    ...["execute_trade", "get_portfolio", "calculator"].map((tool) =>
      dynamicTopic(prefix + toolRequestTopic(tool), 6)
    ),
  ]);
  const ledger = await LedgerService.start(bus, {
    log: log.child("ledger"),
    startingCash: options.startingCash,
    config,
    ledgerTopic: prefix + LEDGER_TOPIC,
    priceTopic: prefix + PRICE_TOPIC,
  });
  const calculator = new Calculator();
  await calculator.warmUp();
  const specs = [
    executeTradeTool(ledger, { config }),
    getPortfolioTool(ledger),
    calculatorTool(calculator),
  ] as ToolSpec[];
  const subscriptions = await serveTools(bus, specs, {
    groupId: options.groupId,
    topicPrefix: prefix,
    log,
  });
  log.notice("Tools ready", { tools: specs.map((spec) => spec.name), ...config });
  return async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.close())).catch(() => {});
    await ledger.close().catch(() => {});
    calculator.close();
  };
});

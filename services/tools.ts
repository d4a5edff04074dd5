/**
 * Tools service: execute_trade, get_portfolio and calculator for every agent, on a durable ledger.
 * Spot and long only by default; `--allow-short` and `--max-leverage N` open the margin desk (the
 * tool definitions published on the catalog say so, and offer `leverage` when N > 1).
 *
 * `deno task tools` allows the network to localhost and 127.0.0.1 only. For a remote broker,
 * widen `--allow-net` with the broker's host:port and every advertised listener, e.g.
 * `deno run --allow-net=kafka-1.example:9092,kafka-2.example:9092 --allow-env=... \
 * --allow-read=core/tools services/tools.ts --bootstrap-servers kafka-1.example:9092`.
 * `--allow-read=core/tools` lets the calculator start its worker; nothing else is read.
 * Several replicas may run with the same `--group-id`: tool requests are keyed by agent, so one
 * replica serves an agent at a time, and a replica taking over waits for the ledger first.
 */

import { arenaTopics } from "../core/bus/topics.ts";
import {
  addExitPlansFlag,
  addTradeDeskFlags,
  basisPointsFlag,
  brokerCommand,
  parseFlags,
  positiveIntFlag,
  positiveNumberFlag,
  tradeConfigOf,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { brokerServiceOptions, startService } from "../core/service.ts";
import { startToolsNode } from "../core/tools/tools_node.ts";

const program = addExitPlansFlag(addTradeDeskFlags(brokerCommand("tools", {
  description: "Shared trading tools (execute_trade, get_portfolio, calculator) on the ledger",
})))
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
  .option(
    "--max-quote-age <seconds>",
    "refuse fills on a quote older than this on the market clock (wall clock when live)",
    positiveNumberFlag,
    120,
  )
  .option(
    "--session-timeout-ms <ms>",
    "consumer session timeout: how fast a dead replica's partitions move to another",
    positiveIntFlag,
    30_000,
  );

const options = parseFlags(program);
const log = createLogger("tools", { level: options.logLevel });
const config = tradeConfigOf(options);
await startService({
  ...brokerServiceOptions("tools", {
    flags: options,
    clientId: `tools.${crypto.randomUUID().slice(0, 8)}`,
    log,
  }),
  bus: {
    sessionTimeoutMs: options.sessionTimeoutMs,
    heartbeatIntervalMs: Math.max(100, Math.min(1_000, Math.floor(options.sessionTimeoutMs / 10))),
  },
}, async ({ bus }) => {
  // The tool definitions (with this fee, shorts and leverage) go on the tool catalog: routers offer exactly those.
  const node = await startToolsNode(bus, {
    log,
    topics: arenaTopics(options.topicPrefix),
    startingCash: options.startingCash,
    config,
    groupId: options.groupId,
    maxQuoteAgeMs: options.maxQuoteAge * 1000,
  });
  await node.ready;
  log.notice("Tools ready", { tools: node.tools.map((tool) => tool.name), ...config });
  return () => node.stop();
});

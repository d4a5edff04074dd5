/** Ledger export: every account, position, trade and metric rebuilt from the broker. */

import { readAllMessages } from "../core/bus/messages.ts";
import { arenaTopics } from "../core/bus/topics.ts";
import { LedgerEvent } from "../core/contracts/ledger.ts";
import { PriceTick } from "../core/contracts/market.ts";
import {
  brokerCommand,
  feeBpsFlag,
  nonNegativeIntFlag,
  parseFlags,
  positiveNumberFlag,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { brokerServiceOptions, startService } from "../core/service.ts";
import { buildLedgerReport, formatLedgerReport } from "../core/metrics/ledger_report.ts";

const program = brokerCommand("ledger", {
  description: "Print every account, position, trade and metric, rebuilt from the ledger topic",
})
  .option("--json", "print JSON instead of tables")
  .option("--curves", "include each agent's equity curve in the JSON")
  .option(
    "--period-seconds <s>",
    "equity curve sampling period for Sharpe",
    positiveNumberFlag,
    60,
  )
  .option(
    "--taker-fee-bps <bps>",
    "fee charged to the buy-and-hold benchmark (default: the fee the ledger's trades paid)",
    feeBpsFlag,
  )
  .option("--trades <n>", "trades shown in the table view", nonNegativeIntFlag, 20);

const options = parseFlags(program);
const log = createLogger("ledger", { level: options.logLevel });
const service = await startService(
  brokerServiceOptions("ledger", {
    flags: options,
    clientId: `ledger-export.${crypto.randomUUID().slice(0, 8)}`,
    log,
  }),
  async ({ bus }) => {
    const events: LedgerEvent[] = [];
    const ticks: PriceTick[] = [];
    await readAllMessages(bus, arenaTopics(options.topicPrefix).ledger.topic, {
      schema: LedgerEvent,
      log,
      handler: (event) => void events.push(event),
    });
    await readAllMessages(bus, arenaTopics(options.topicPrefix).prices.topic, {
      schema: PriceTick,
      log,
      handler: (tick) => void ticks.push(tick),
    });
    const report = buildLedgerReport(events, ticks, {
      periodMs: options.periodSeconds * 1000,
      takerFeeBps: options.takerFeeBps,
      includeCurves: options.curves === true,
    });
    console.log(
      options.json
        ? JSON.stringify(report, null, 2)
        : formatLedgerReport(report, { trades: options.trades }),
    );
  },
);
await service.shutdown(0);

/** Writes report.html (self-contained) and report.json of a run, read from the broker. */

import { brokerCommand, kafkaSecurityOf, parseFlags } from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { startService } from "../core/service.ts";
import { loadWebAssets } from "../core/dashboard/assets.ts";
import { buildReport, writeReport } from "../core/dashboard/report.ts";
import { readDashboardState } from "../core/dashboard/store.ts";

const options = parseFlags(
  brokerCommand("report", {
    description: "Write a self-contained HTML report and JSON of the run on the broker",
  })
    .option("--out <dir>", "output directory", "artifacts/report"),
);

const log = createLogger("report", { level: options.logLevel });
const service = await startService({
  name: "report",
  bootstrapServers: options.bootstrapServers,
  security: kafkaSecurityOf("report", options),
  kafkaClient: options.kafkaClient,
  clientId: "report",
  log,
}, async ({ bus }) => {
  const state = await readDashboardState(bus, { log });
  const report = buildReport(state, await loadWebAssets());
  const paths = await writeReport(report, { outDir: options.out });
  if (report.json.leaderboard.length === 0) {
    console.log("No accounts on the ledger topic yet: the report is empty");
  }
  for (const row of report.json.leaderboard) {
    console.log(
      `#${row.rank} ${row.agent} (${row.model}) equity ${row.equity} return ${row.returnPct}% ` +
        `trades ${row.trades}`,
    );
  }
  console.log(`Report: ${paths.html}`);
  console.log(`JSON:   ${paths.json}`);
});
await service.shutdown(0);

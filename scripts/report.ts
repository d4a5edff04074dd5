/** Writes report.html (self-contained) and report.json of a run, read from the broker. */

import { brokerCommand, parseFlags } from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { brokerServiceOptions, startService } from "../core/service.ts";
import { formatLeaderboard } from "../core/arena/leaderboard.ts";
import { loadWebAssets } from "../core/dashboard/assets.ts";
import { buildReport, writeReport } from "../core/dashboard/report.ts";
import { readDashboardState } from "../core/dashboard/store.ts";
import { formatReliability } from "../core/metrics/calibration.ts";

const options = parseFlags(
  brokerCommand("report", {
    description: "Write a self-contained HTML report and JSON of the run on the broker",
  })
    .option("--out <dir>", "output directory", "artifacts/report"),
);

const log = createLogger("report", { level: options.logLevel });
const service = await startService(
  brokerServiceOptions("report", { flags: options, clientId: "report", log }),
  async ({ bus }) => {
    const state = await readDashboardState(bus, { log });
    const report = buildReport(state, await loadWebAssets());
    const paths = await writeReport(report, { outDir: options.out });
    const rows = report.json.leaderboard;
    if (rows.length === 0) {
      console.log("No accounts on the ledger topic yet: the report is empty");
    } else {
      console.log(formatLeaderboard(report.json));
    }
    for (const row of rows) {
      if (row.calibration.calls + row.calibration.open === 0) continue;
      console.log(`\n${formatReliability(row.agent, row.calibration)}`);
    }
    console.log(`Report: ${paths.html}`);
    console.log(`JSON:   ${paths.json}`);
  },
);
await service.shutdown(0);

import assert from "node:assert/strict";
import { formatLeaderboard, LEADERBOARD_WIDTH } from "../../core/arena/leaderboard.ts";
import { buildReport, type ReportJson } from "../../core/dashboard/report.ts";
import { applyDashboardInputs, createDashboardState } from "../../core/dashboard/state.ts";
import { scoreCalibration } from "../../core/metrics/calibration.ts";
import { sampleInputs } from "../dashboard/_fixtures.ts";

function sampleJson(): ReportJson {
  const state = createDashboardState();
  applyDashboardInputs(state, sampleInputs());
  return buildReport(state).json;
}

Deno.test("the leaderboard has no calibration table when no agent stated a confidence", () => {
  const text = formatLeaderboard(sampleJson());
  assert.ok(!/^# +agent +brier/m.test(text));
  // Two tables: header, rule, three agents and buy-and-hold each, a blank line between.
  assert.equal(text.split("\n").length, 2 * (2 + 3 + 1) + 1);
});

Deno.test("the leaderboard scores stated confidence in a third table within 80 columns", () => {
  const json = sampleJson();
  const stated = scoreCalibration({
    scored: [
      { confidence: 0.9, outcome: 1 },
      { confidence: 0.8, outcome: 0 },
      { confidence: 0.6, outcome: 1 },
    ],
    open: 2,
  });
  const silent = scoreCalibration({ scored: [], open: 0 });
  const text = formatLeaderboard({
    ...json,
    leaderboard: json.leaderboard.map((row, index) => ({
      ...row,
      calibration: index === 0 ? stated : silent,
    })),
  });
  const lines = text.split("\n");
  for (const line of lines) assert.ok(line.length <= LEADERBOARD_WIDTH, `too wide: ${line}`);
  const header = lines.findIndex((line) => /^# +agent +brier +calls +open +conf +hit$/.test(line));
  assert.ok(header > 0, text);
  const [first, second] = json.leaderboard;
  // Brier (0.1^2 + 0.8^2 + 0.4^2) / 3 = 0.27 over 3 scored calls, 2 open; mean confidence
  // 0.77, 2 of 3 won.
  assert.match(
    lines[header + 2]!,
    new RegExp(`^1 +${first!.agent} +0\\.270 +3 +2 +0\\.77 +67%$`),
  );
  assert.match(lines[header + 3]!, new RegExp(`^2 +${second!.agent} +n/a +0 +0 +- +-$`));
  assert.equal(lines.length, 2 * (2 + 3 + 1) + (2 + 3) + 2, "three tables, no B&H row in the last");
});

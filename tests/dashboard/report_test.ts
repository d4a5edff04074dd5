import assert from "node:assert/strict";
import { loadWebAssets } from "../../core/dashboard/assets.ts";
import { buildReport, writeReport } from "../../core/dashboard/report.ts";
import type { DashboardInput } from "../../core/dashboard/state.ts";
import { rebuildState } from "../../core/ledger/account.ts";
import { portfolioView } from "../../core/ledger/portfolio.ts";
import { formatUsd } from "../../core/dashboard/format.ts";
import { at, sampleInputs, sampleLedger, samplePrices, stateOf } from "./_fixtures.ts";
import type { ReportStep } from "./_browser.ts";

const CHROMIUM = "/usr/bin/chromium";
const BROWSER_SCRIPT = new URL("./_browser.ts", import.meta.url).pathname;

/**
 * The sample run with stated confidences: momentum's buy at 0.9 (still open at the end) and
 * brainrot's buy at 0.6 (sold 100 higher without fees: won).
 */
function confidentInputs(): DashboardInput[] {
  const stated: Record<string, number> = { "trade-m1": 0.9, "trade-b1": 0.6 };
  return sampleInputs().map((input) =>
    input.kind === "ledger" && input.event.type === "trade_executed" &&
      stated[input.event.eventId] !== undefined
      ? { kind: "ledger", event: { ...input.event, confidence: stated[input.event.eventId] } }
      : input
  );
}

async function sampleReport() {
  return buildReport(stateOf(sampleInputs()), await loadWebAssets());
}

Deno.test("report HTML is self-contained: no external scripts, styles or URLs to fetch", async () => {
  const { html } = await sampleReport();
  assert.ok(!/<script[^>]+src=/i.test(html), "no script src");
  assert.ok(!/<link[^>]+href=/i.test(html), "no linked stylesheet");
  assert.ok(!/src=["']?https?:/i.test(html), "no remote src");
  assert.ok(!/url\(\s*["']?https?:/i.test(html), "no remote CSS url()");
  assert.ok(html.includes("Content-Security-Policy"), "a CSP forbids fetching anything");
  assert.ok(html.includes("default-src 'none'"));
  // The chart library and the data are inlined.
  assert.ok(html.includes("createChart"), "lightweight-charts inlined");
  assert.ok(html.includes('<script id="report-data" type="application/json">'));
  assert.ok(
    !html.slice(html.indexOf('id="report-data"')).includes("</script>\n    <script>\n</script>"),
  );
});

Deno.test("report JSON matches the ledger", async () => {
  const { json } = await sampleReport();
  const ledger = rebuildState(sampleLedger());
  const prices = new Map(
    samplePrices().filter((tick) => tick.time === at(60)).map((tick) => [
      tick.productId,
      tick,
    ]),
  );
  assert.deepEqual(json.leaderboard.map((row) => row.agent), [
    "momentum",
    "brainrot-daytrader",
    "scalper",
  ]);
  for (const row of json.leaderboard) {
    const account = ledger.accounts.get(row.agent)!;
    const expected = portfolioView(account, { prices, time: at(60) });
    assert.equal(row.equity, expected.equity, row.agent);
    assert.equal(row.trades, account.tradeCount, row.agent);
    assert.equal(row.feesPaid, expected.feesPaid, row.agent);
  }
  assert.equal(json.trades.length, 4);
  assert.equal(json.trades[0]!.eventId, "trade-b2", "newest first");
  assert.equal(json.benchmark?.returnPct, "0.0000");
  assert.equal(json.marketTime, at(60));
});

Deno.test("report page renders offline in Chromium with the ledger's leaderboard", async () => {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Chromium must be installed at ${CHROMIUM} for the report test (apt-get install -y chromium)`,
    );
  }
  const report = await sampleReport();
  const paths = await writeReport(report, { outDir: "artifacts/report-test" });
  const saved = JSON.parse(await Deno.readTextFile(paths.json));
  assert.deepEqual(saved, report.json);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BROWSER_SCRIPT, "report", paths.html, "artifacts/report.png"],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  const step = JSON.parse(lines.at(-1)!) as ReportStep | { step: "error"; message: string };
  if (step.step === "error") throw new Error(`Browser driver failed: ${step.message}`);
  assert.equal(output.code, 0);
  assert.deepEqual(step.agents, ["momentum", "brainrot-daytrader", "scalper"]);
  assert.deepEqual(step.equities, report.json.leaderboard.map((row) => formatUsd(row.equity)));
  assert.ok(step.canvases >= 3, "equity and price charts drawn");
  assert.deepEqual(step.requests, [], "a report requests nothing");
  assert.deepEqual(step.pageErrors, []);
});

Deno.test("buildReport without assets reads them itself and gives the same page", async () => {
  const state = stateOf(sampleInputs());
  assert.equal(buildReport(state).html, buildReport(state, await loadWebAssets()).html);
});

Deno.test("report JSON and page score each agent's stated confidence", async () => {
  const state = stateOf(confidentInputs());
  const report = buildReport(state, await loadWebAssets());
  const byAgent = new Map(report.json.leaderboard.map((row) => [row.agent, row.calibration]));
  // brainrot: one call of 0.6 that won, (0.6 - 1)^2 = 0.16; momentum: its call is still open.
  assert.equal(byAgent.get("brainrot-daytrader")!.brier, 0.16);
  assert.equal(byAgent.get("brainrot-daytrader")!.bins[3]!.calls, 1);
  assert.deepEqual(
    [byAgent.get("momentum")!.brier, byAgent.get("momentum")!.calls, byAgent.get("momentum")!.open],
    [null, 0, 1],
  );
  assert.equal(byAgent.get("scalper")!.calls + byAgent.get("scalper")!.open, 0);
  const section = report.html.slice(
    report.html.indexOf('<section class="panel wide" id="calibration">'),
    report.html.indexOf("</main>"),
  );
  assert.match(section, /<h3>brainrot-daytrader: Brier 0\.160 /);
  assert.match(section, /<td class="left">0\.6-0\.8<\/td><td>1<\/td><td>0\.60<\/td><td>100%<\/td>/);
  assert.match(section, /<h3>momentum: Brier n\/a <span[^>]*>0 scored, 1 open/);
  assert.ok(!section.includes("<h3>scalper"), "an agent that stated nothing has no table");
  const plain = await sampleReport();
  assert.match(plain.html, /id="calibration">[^]*No agent stated a confidence/);
});

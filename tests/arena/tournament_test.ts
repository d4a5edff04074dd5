import assert from "node:assert/strict";
import { loadFixtureCandles } from "../../core/connector/replay.ts";
import {
  builtinEntries,
  type CandleSet,
  cutWindows,
  entryAgentName,
  parseEntries,
  type ProviderContext,
  runTournament,
  type TournamentProgress,
} from "../../core/arena/tournament.ts";
import { formatTournamentMarkdown } from "../../core/arena/tournament_report.ts";
import { createLogger } from "../../core/log.ts";
import { poolCalibrations, scoreCalibration } from "../../core/metrics/calibration.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import { runTask } from "../cli/_task.ts";

const quiet = createLogger("test", { level: "error", sink: () => {} });

async function fixtureSets(): Promise<CandleSet[]> {
  return [
    { name: "2017-09-03", candles: await loadFixtureCandles("main") },
    { name: "2018-04-05", candles: await loadFixtureCandles("alt-2018-04-05") },
  ];
}

Deno.test("parseEntries reads strategy:model pairs and defaults the model to rules", () => {
  assert.deepEqual(parseEntries("momentum:rules, scalper:gpt-5-nano,brainrot"), [
    { strategy: "momentum", model: "rules" },
    { strategy: "scalper", model: "gpt-5-nano" },
    { strategy: "brainrot", model: "rules" },
  ]);
});

Deno.test("parseEntries rejects empty lists, empty parts and duplicates", () => {
  assert.throws(() => parseEntries(" , "), /got none/);
  assert.throws(() => parseEntries("momentum:"), /strategy:model such as momentum:rules/);
  assert.throws(() => parseEntries("momentum:rules,momentum:rules"), /listed twice/);
});

Deno.test("builtinEntries rejects unknown strategies and names agents strategy.model", () => {
  assert.throws(() => builtinEntries([{ strategy: "yolo", model: "rules" }]));
  const [entry] = builtinEntries([{ strategy: "scalper", model: "gpt-5-nano" }]);
  assert.equal(entryAgentName(entry!), "scalper.gpt-5-nano");
  const [odd] = builtinEntries([{ strategy: "momentum", model: "org/model:v1" }]);
  assert.equal(entryAgentName(odd!), "momentum.org_model_v1");
});

Deno.test("cutWindows cuts non-overlapping windows after the warm-up, interleaving the sets", async () => {
  const sets = await fixtureSets();
  const windows = cutWindows(sets, { windows: 4, windowHours: 6 });
  assert.deepEqual(windows.map((window) => `${window.set}#${window.index}`), [
    "2017-09-03#0",
    "2018-04-05#0",
    // Round-robin over the sets, each preferring a regime not yet covered (09-04's sell-off).
    "2017-09-03#4",
    "2018-04-05#1",
  ]);
  const first = windows[0]!;
  assert.equal(first.start, "2017-09-03T04:00:00.000Z");
  assert.equal(first.end, "2017-09-03T10:00:00.000Z");
  assert.equal(windows[2]!.start, "2017-09-04T04:00:00.000Z");
  for (const product of first.candles) {
    // 4 h of warm-up plus 6 h of window, one candle a minute (the fixtures have no gaps here).
    assert.ok(product.candles.length <= 600 && product.candles.length > 590);
    assert.ok(product.candles[0]!.time >= Date.parse("2017-09-03T00:00:00Z") / 1000);
    assert.ok(product.candles.at(-1)!.time < Date.parse(first.end) / 1000);
  }
});

Deno.test("cutWindows says how many windows fit when asked for too many", async () => {
  const sets = await fixtureSets();
  assert.throws(
    () => cutWindows(sets, { windows: 100, windowHours: 6 }),
    /The data holds 10 windows of 6 h, asked for 100/,
  );
  assert.throws(() => cutWindows(sets, { windows: 0, windowHours: 6 }), /positive integer/);
});

Deno.test("a tiny tournament (2 entries x 2 windows) gives statistics, random baselines and a verdict", async () => {
  const sets = await fixtureSets();
  const windows = cutWindows(sets, { windows: 2, windowHours: 1 });
  const entries = builtinEntries(parseEntries("momentum:rules,scalper:rules"));
  const progress: TournamentProgress[] = [];
  const contexts: ProviderContext[] = [];
  const result = await runTournament(entries, {
    windows,
    windowHours: 1,
    provider: (_model, context) => {
      contexts.push(context);
      return new RulesModel();
    },
    intervalSeconds: 300,
    runs: 3,
    randomBaselines: 2,
    tradeConfig: { takerFeeBps: 0, slippageBps: 0 },
    log: quiet,
    onProgress: (update) => progress.push(update),
  });
  assert.equal(result.v, 2);
  assert.equal(result.windows.length, 2);
  assert.deepEqual(result.windows.map((window) => window.ticks), [13, 13]);
  assert.ok(result.windows.every((window) => typeof window.regime === "string"));
  // Rules entries are deterministic: one run per window, whatever runs says.
  assert.deepEqual(contexts.map((context) => context.run), [0, 0]);
  assert.equal(result.entries.length, 2);
  for (const entry of result.entries) {
    assert.equal(entry.deterministic, true);
    assert.equal(entry.runs, 1);
    assert.equal(entry.windows.length, 2);
    const mean = (entry.windows[0]!.returnPct + entry.windows[1]!.returnPct) / 2;
    assert.ok(Math.abs(entry.meanReturnPct - mean) < 1e-12);
    assert.ok(
      entry.ci95 !== null && entry.ci95.low <= mean + 1e-12 && mean <= entry.ci95.high + 1e-12,
    );
    assert.equal(entry.totalCostUsd, 0);
    assert.equal(entry.netReturns.mean, entry.returns.mean);
    const diffs = entry.windows.map((row, w) => row.returnPct - result.benchmark.returns[w]!);
    assert.ok(Math.abs(entry.vsBenchmark.meanDiff - (diffs[0]! + diffs[1]!) / 2) < 1e-9);
    assert.ok(entry.vsBenchmark.pHolm >= entry.vsBenchmark.p);
    // No fees: no edge is needed per decision; every decision was made on all 13 ticks.
    assert.equal(entry.feesPct, 0);
    assert.equal(entry.decisionsPerWindow, 13);
    for (const row of entry.windows) {
      assert.equal(row.randomReturnsPct.length, 2);
      if (row.trades === 0) assert.deepEqual(row.randomReturnsPct, [0, 0]);
    }
    assert.ok(entry.random !== null);
    assert.ok(entry.random.percentile >= 0 && entry.random.percentile <= 100);
  }
  assert.ok(
    result.entries.reduce((sum, entry) => sum + entry.totalTrades, 0) > 0,
    "the rules agents trade in two hours of real data",
  );
  assert.equal(result.pairs.length, 1);
  assert.equal(result.benchmark.returns.length, 2);
  assert.equal(result.runs, 3);
  assert.equal(result.randomBaselines, 2);
  assert.ok(progress.some((update) => update.window === 1 && update.tick === 13));
  // Two windows cannot show an edge beyond luck (the smallest two-window p-value is 0.5).
  assert.equal(result.verdict, "No entry beats buy-and-hold beyond luck (Holm-adjusted, 95 %)");

  const markdown = formatTournamentMarkdown(result);
  const lines = markdown.split("\n");
  assert.equal(lines[0], result.verdict);
  assert.match(markdown, /^Tournament: 2 entries x 2 windows of 1 h/m);
  // Entries are listed best first; which is best depends on the market, not on this test.
  assert.match(
    markdown,
    /(momentum:rules, scalper:rules|scalper:rules, momentum:rules) are deterministic: 1 run per window/,
  );
  assert.ok(lines.some((line) => /^\| (momentum|scalper):rules/.test(line)));
  assert.ok(lines.some((line) => /^\| buy-and-hold/.test(line)));
  assert.match(markdown, /\| 95% CI +\|/);
  assert.match(markdown, /\| p Holm +\|/);
  assert.match(markdown, /\$100,000\.00 per account/);
  assert.deepEqual(result.desk, {
    takerFeeBps: 0,
    slippageBps: 0,
    allowShort: false,
    maxLeverage: 1,
    exitPlans: false,
  });
  assert.match(markdown.replaceAll("\n", " "), /taker fee 0 bps, spot \(long only, no leverage\)/);
  assert.match(markdown, /\[[-+]?\d+\.\d\d, [-+]?\d+\.\d\d\]/);
  for (const line of lines) assert.ok(line.length <= 100, `wider than 100 columns: ${line}`);
  // The rules model has no cost: its model column shows a dash, not $0.0000.
  assert.ok(!markdown.includes("$0.0000"), "no zero cost printed");
  const costRows = lines.filter((line) => /^\| (momentum|scalper):rules /.test(line))
    .filter((line) => line.split("|")[3]!.trim() === "—");
  assert.equal(costRows.length, 2, "a dash in each rules entry's model column");

  // Calibration pools every window: its counts add up over the bins, scored or not.
  for (const entry of result.entries) {
    const { calibration } = entry;
    assert.equal(calibration.bins.reduce((sum, bin) => sum + bin.calls, 0), calibration.calls);
    assert.equal(calibration.brier === null, calibration.calls === 0);
  }
  const stated = result.entries.some((entry) =>
    entry.calibration.calls + entry.calibration.open > 0
  );
  assert.equal(markdown.includes("Calibration, pooled over windows"), stated);
  // With calls of 0.9 (won), 0.8 (lost) and 0.6 (won) and one open, the table shows them.
  const calls = scoreCalibration({
    scored: [
      { confidence: 0.9, outcome: 1 },
      { confidence: 0.8, outcome: 0 },
      { confidence: 0.6, outcome: 1 },
    ],
    open: 1,
  });
  const none = poolCalibrations([]);
  const scored = formatTournamentMarkdown({
    ...result,
    entries: result.entries.map((entry, index) => ({
      ...entry,
      calibration: index === 0 ? calls : none,
    })),
  });
  const first = result.entries[0]!.entry;
  const section = scored.slice(scored.indexOf("Calibration, pooled over windows"));
  const row = section.split("\n").find((line) => line.startsWith(`| ${first} `))!;
  assert.deepEqual(
    row.split("|").slice(2, -1).map((cell) => cell.trim()),
    ["0.270", "3", "1", "0.77", "67%", "0/0", "0/0", "0/0", "1/1", "1/2"],
  );
  assert.match(section, new RegExp(`^\\| ${result.entries[1]!.entry} +\\| n/a +\\| 0 +\\|`, "m"));
  for (const line of scored.split("\n")) {
    assert.ok(line.length <= 100, `wider than 100 columns: ${line}`);
  }
});

Deno.test("a tournament on a margin desk records the desk and says so; its random traders trade on it", async () => {
  const windows = cutWindows(await fixtureSets(), { windows: 2, windowHours: 1 });
  const result = await runTournament(builtinEntries(parseEntries("momentum:rules")), {
    windows,
    windowHours: 1,
    provider: () => new RulesModel(),
    intervalSeconds: 300,
    randomBaselines: 1,
    tradeConfig: { takerFeeBps: 60, slippageBps: 0, allowShort: true, maxLeverage: 10 },
    log: quiet,
  });
  assert.deepEqual(result.desk, {
    takerFeeBps: 60,
    slippageBps: 0,
    allowShort: true,
    maxLeverage: 10,
    exitPlans: true,
  });
  const text = formatTournamentMarkdown(result).replaceAll("\n", " ");
  assert.match(text, /taker fee 60 bps, margin desk \(shorts allowed, leverage up to 10x\)/);
  assert.match(text, /on the same desk \(long or short by coin flip, borrowing what that notional/);
});

Deno.test("runTournament rejects zero runs and negative random baselines", async () => {
  const sets = await fixtureSets();
  const windows = cutWindows(sets, { windows: 2, windowHours: 1 });
  const entries = builtinEntries(parseEntries("momentum:rules"));
  const base = { windows, windowHours: 1, provider: () => new RulesModel(), log: quiet };
  await assert.rejects(runTournament(entries, { ...base, runs: 0 }), /Runs must be a positive/);
  await assert.rejects(
    runTournament(entries, { ...base, randomBaselines: -1 }),
    /Random baselines must be a whole number of 0 or more, got -1/,
  );
});

function tournamentTask(args: string[]): ReturnType<typeof runTask> {
  return runTask(["tournament", ...args], { timeoutMs: 60_000 });
}

Deno.test("deno task tournament prints the verdict first and writes the table with the JSON", async () => {
  const root = new URL("../../", import.meta.url);
  const out = `artifacts/tests/tournament-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const output = await tournamentTask([
      "--entries",
      "momentum:rules,scalper:rules",
      "--sets",
      "coinbase-2017-09-03,alt-2018-04-05",
      "--windows",
      "2",
      "--window-hours",
      "1",
      "--random-baselines",
      "1",
      "--out",
      out,
    ]);
    const { stdout, stderr } = output;
    assert.equal(output.code, 0, `tournament failed:\n${stdout}\n${stderr}`);
    assert.match(
      stdout.split("\n")[0]!,
      /^No entry beats buy-and-hold beyond luck|beats buy-and-hold by/,
    );
    assert.match(
      stdout,
      /^Tournament: 2 entries x 2 windows of 1 h from 2 sets \(coinbase-2017-09-03, alt-2018-04-05\)/m,
    );
    assert.match(stdout, /^\| (momentum|scalper):rules +\| [-+]?\d+\.\d\d% +\| \[/m);
    assert.match(stderr, /window 2\/2/, "progress on standard error without a terminal");
    const markdown = await Deno.readTextFile(new URL(`${out}/tournament.md`, root));
    assert.ok(stdout.includes(markdown.trim()), "the file holds the printed table");
    const json = JSON.parse(await Deno.readTextFile(new URL(`${out}/tournament.json`, root)));
    assert.equal(json.v, 2);
    assert.equal(json.entries.length, 2);
    assert.equal(json.windows.length, 2);
    assert.equal(json.benchmark.returns.length, 2);
    assert.equal(json.verdict, stdout.split("\n")[0]);
  } finally {
    await Deno.remove(new URL(out, root), { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task tournament --json prints only the JSON document", async () => {
  const root = new URL("../../", import.meta.url);
  const out = `artifacts/tests/tournament-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const output = await tournamentTask([
      "--json",
      "--entries",
      "momentum:rules",
      "--sets",
      "coinbase-2017-09-03",
      "--windows",
      "2",
      "--window-hours",
      "1",
      "--random-baselines",
      "0",
      "--out",
      out,
    ]);
    assert.equal(output.code, 0, output.stderr);
    const json = JSON.parse(output.stdout);
    assert.equal(typeof json.verdict, "string");
    assert.equal(json.windows.length, 2);
    for (const window of json.windows) {
      assert.deepEqual(
        ["set", "start", "end", "regime"].map((key) => typeof window[key]),
        ["string", "string", "string", "string"],
      );
    }
    assert.equal(json.entries[0].entry, "momentum:rules");
    assert.equal(json.entries[0].random, null);
    const calibration = json.entries[0].calibration;
    assert.deepEqual(
      ["brier", "calls", "open", "bins"].map((key) => key in calibration),
      [true, true, true, true],
    );
    assert.equal(calibration.bins.length, 5);
  } finally {
    await Deno.remove(new URL(out, root), { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task tournament: --runs 0 and --windows 1 are one-line errors with exit code 2", async () => {
  for (const args of [["--runs", "0"], ["--windows", "1"]]) {
    const output = await tournamentTask(args);
    const stderr = output.stderr;
    assert.equal(output.code, 2, `${args.join(" ")}: ${stderr}`);
    assert.equal(stderr.split("\n").length, 1, `one line: ${stderr}`);
    assert.doesNotMatch(stderr, /at (file|ext):|Uncaught/, "no stack trace");
    assert.match(stderr, args[0] === "--runs" ? /--runs.*0/ : /Windows must be .* at least 2/);
    assert.equal(output.stdout, "");
  }
});

import assert from "node:assert/strict";
import { loadFixtureCandles } from "../../core/connector/replay.ts";
import {
  builtinEntries,
  type CandleSet,
  cutWindows,
  entryAgentName,
  formatTournamentMarkdown,
  parseEntries,
  runTournament,
  type TournamentProgress,
} from "../../core/arena/tournament.ts";
import { createLogger } from "../../core/log.ts";
import { RulesModel } from "../../core/models/rules_model.ts";

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
    "2017-09-03#1",
    "2018-04-05#1",
  ]);
  const first = windows[0]!;
  assert.equal(first.start, "2017-09-03T04:00:00.000Z");
  assert.equal(first.end, "2017-09-03T10:00:00.000Z");
  assert.equal(windows[2]!.start, "2017-09-03T10:00:00.000Z");
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

Deno.test("a tiny tournament (2 entries x 2 windows) produces the table and the statistics", async () => {
  const sets = await fixtureSets();
  const windows = cutWindows(sets, { windows: 2, windowHours: 1 });
  const entries = builtinEntries(parseEntries("momentum:rules,scalper:rules"));
  const progress: TournamentProgress[] = [];
  const result = await runTournament(entries, {
    windows,
    windowHours: 1,
    provider: () => new RulesModel(),
    intervalSeconds: 300,
    log: quiet,
    onProgress: (update) => progress.push(update),
  });
  assert.equal(result.windows.length, 2);
  assert.deepEqual(result.windows.map((window) => window.ticks), [13, 13]);
  assert.equal(result.entries.length, 2);
  for (const entry of result.entries) {
    assert.equal(entry.windows.length, 2);
    assert.equal(entry.returns.n, 2);
    assert.ok(entry.returns.ci95 !== null);
    const mean = (entry.windows[0]!.returnPct + entry.windows[1]!.returnPct) / 2;
    assert.ok(Math.abs(entry.returns.mean - mean) < 1e-12);
    assert.equal(entry.totalCostUsd, 0);
    assert.equal(entry.netReturns.mean, entry.returns.mean);
    assert.ok(Math.abs(entry.meanExcessPct - (mean - result.benchmark.summary.mean)) < 1e-12);
    assert.ok(Math.abs(entry.excess.mean - entry.meanExcessPct) < 1e-9);
    const diffs = entry.windows.map((row, w) => row.returnPct - result.benchmark.returns[w]!);
    const half = 12.706 * Math.abs(diffs[0]! - diffs[1]!) / 2;
    assert.ok(Math.abs(entry.excess.ci95!.high - entry.excess.ci95!.low - 2 * half) < 1e-9);
  }
  assert.ok(
    result.entries.reduce((sum, entry) => sum + entry.totalTrades, 0) > 0,
    "the rules agents trade in two hours of real data",
  );
  assert.equal(result.benchmark.returns.length, 2);
  assert.ok(progress.some((update) => update.window === 1 && update.tick === 13));

  const markdown = formatTournamentMarkdown(result);
  const lines = markdown.split("\n");
  assert.match(lines[0]!, /^Tournament: 2 entries x 2 windows of 1 h/);
  assert.ok(lines.some((line) => /^\| 1 +\| (momentum|scalper):rules/.test(line)));
  assert.ok(lines.some((line) => /^\| 2 +\| (momentum|scalper):rules/.test(line)));
  assert.ok(lines.some((line) => /^\| - +\| buy-and-hold/.test(line)));
  assert.match(markdown, /\| 95% CI +\|/);
  assert.match(markdown, /\| 95% CI vs B&H +\|/);
  assert.match(markdown, /\[[-+]?\d+\.\d\d%, [-+]?\d+\.\d\d%\]/);
});

Deno.test("deno task tournament prints the markdown table and writes it with the JSON", async () => {
  const root = new URL("../../", import.meta.url);
  const out = `artifacts/tests/tournament-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--quiet",
        "tournament",
        "--entries",
        "momentum:rules,scalper:rules",
        "--windows",
        "2",
        "--window-hours",
        "1",
        "--out",
        out,
      ],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, `tournament failed:\n${stdout}\n${stderr}`);
    assert.match(stdout, /^Tournament: 2 entries x 2 windows of 1 h \(2017-09-03, 2018-04-05\)/m);
    assert.match(stdout, /^\| 1 +\| (momentum|scalper):rules +\| [-+]?\d+\.\d\d% +\| \[/m);
    assert.match(stderr, /window 2\/2/, "progress on standard error without a terminal");
    const markdown = await Deno.readTextFile(new URL(`${out}/tournament.md`, root));
    assert.ok(stdout.includes(markdown.trim()), "the file holds the printed table");
    const json = JSON.parse(await Deno.readTextFile(new URL(`${out}/tournament.json`, root)));
    assert.equal(json.v, 1);
    assert.equal(json.entries.length, 2);
    assert.equal(json.windows.length, 2);
    assert.equal(json.benchmark.returns.length, 2);
  } finally {
    await Deno.remove(new URL(out, root), { recursive: true }).catch(() => {});
  }
});

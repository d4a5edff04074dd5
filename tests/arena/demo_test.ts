/**
 * The demo end to end through the real task command: `deno task demo --no-tty` twice at once
 * (2 cores: about one demo's time), identical leaderboards, and the report is written.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const TIMEOUT_MS = 150_000;

interface DemoRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

async function runDemo(reportDir: string): Promise<DemoRun> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--no-tty", "--report-dir", reportDir],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The final leaderboard block: from its heading to its end marker. */
function leaderboardBlock(stdout: string): string {
  const start = stdout.indexOf("=== Final leaderboard");
  const end = stdout.indexOf("=== End of leaderboard ===");
  assert.ok(start >= 0 && end > start, `no final leaderboard in the demo output:\n${stdout}`);
  return stdout.slice(start, end);
}

Deno.test("deno task demo runs offline to the end twice with the same leaderboard and writes the report", async () => {
  const id = crypto.randomUUID().slice(0, 8);
  const dirs = [`artifacts/tests/demo-${id}-a`, `artifacts/tests/demo-${id}-b`];
  try {
    const runs = await Promise.all(dirs.map(runDemo));
    for (const run of runs) {
      assert.equal(run.code, 0, `demo failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
      assert.ok(!run.stdout.includes("\x1b["), "no ANSI codes without a terminal");
    }
    const [first, second] = runs.map((run) => leaderboardBlock(run.stdout));
    assert.equal(first, second, "two demo runs print the same leaderboard");

    const block = first!;
    assert.match(block, /529 ticks/);
    for (const agent of ["momentum", "brainrot-daytrader", "scalper"]) {
      assert.match(block, new RegExp(`^\\d +${agent} +rules +\\$[\\d,]+\\.\\d\\d`, "m"));
    }
    assert.match(block, /^- +buy-and-hold /m);
    for (const line of block.split("\n")) assert.ok(line.length <= 80, `wider than 80: ${line}`);
    assert.match(runs[0]!.stdout, /a decision every 5 min of market time/);

    for (const [index, dir] of dirs.entries()) {
      assert.match(runs[index]!.stdout, new RegExp(`Report: ${dir}/report\\.html`));
      const json = JSON.parse(await Deno.readTextFile(new URL(`${dir}/report.json`, ROOT)));
      assert.equal(json.tick, 529);
      assert.equal(json.leaderboard.length, 3);
      assert.ok(json.trades.length > 0, "the agents traded");
      const html = await Deno.readTextFile(new URL(`${dir}/report.html`, ROOT));
      assert.match(html, /<script id="report-data"/);
    }
    console.log(`demo wall time: ${runs.map((run) => run.seconds.toFixed(1)).join(" s, ")} s`);
  } finally {
    for (const dir of dirs) {
      await Deno.remove(new URL(dir, ROOT), { recursive: true }).catch(() => {});
    }
  }
});

/** Ctrl-C during a replay never overwrites the last complete report: the partial one goes aside. */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("an interrupted arena replay writes its report to <report-dir>/partial and says so", async () => {
  const dir = `artifacts/test-interrupt-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(`${ROOT}${dir}`, { recursive: true });
  const complete = '{"complete":true}\n';
  await Deno.writeTextFile(`${ROOT}${dir}/report.json`, complete);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "--quiet",
      "arena",
      ...["--replay", "fixtures/market", "--model", "rules", "--speed", "1"],
      ...["--no-web", "--no-tty", "--report-dir", dir],
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    while (!stdout.includes("Arena: Replay of")) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill("SIGINT");
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      stdout += chunk.value;
    }
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0, stdout);
    assert.match(stdout, /Stopped early after \d+ ticks: the partial report is in .*\/partial/);
    assert.match(stdout, /the last complete report in .* is kept/);
    assert.equal(await Deno.readTextFile(`${ROOT}${dir}/report.json`), complete);
    const partial = JSON.parse(await Deno.readTextFile(`${ROOT}${dir}/partial/report.json`));
    assert.ok(Array.isArray(partial.leaderboard));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already ended */ }
    await Deno.remove(`${ROOT}${dir}`, { recursive: true }).catch(() => {});
  }
});

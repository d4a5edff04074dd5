/** The dashboard on the real Kafka broker (isolated topics), and the services as processes. */

import assert from "node:assert/strict";
import { publishMessages } from "../../core/bus/messages.ts";
import { createLogger } from "../../core/log.ts";
import {
  connectDashboard,
  DashboardStore,
  type DashboardTopics,
  readDashboardState,
} from "../../core/dashboard/store.ts";
import { buildReport } from "../../core/dashboard/report.ts";
import { loadWebAssets } from "../../core/dashboard/assets.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";
import { sampleLedger, samplePrices, scalperSell, usage } from "./_fixtures.ts";

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The command line of a deno.json task, with `deno` replaced by this Deno. */
async function taskCommand(name: string): Promise<{ command: string; args: string[] }> {
  const config = JSON.parse(await Deno.readTextFile("deno.json"));
  const words = String(config.tasks[name]).split(/\s+/);
  assert.equal(words[0], "deno", `task ${name} must run deno`);
  return { command: Deno.execPath(), args: words.slice(1) };
}

Deno.test("dashboard rebuilds from Kafka, follows a live trade, and reads to the end for a report", async () => {
  kafkaBootstrap();
  const log = createLogger("test", { level: "error" });
  const prefix = uniqueName("dash");
  const topics: DashboardTopics = {
    ledger: `${prefix}.ledger`,
    prices: `${prefix}.prices`,
    activity: `${prefix}.activity`,
    snapshots: `${prefix}.input`,
  };
  const bus = testKafkaBus();
  await bus.ensureTopics([
    { topic: topics.ledger, partitions: 3, retentionMs: -1 },
    { topic: topics.prices, partitions: 3, retentionMs: -1 },
    { topic: topics.activity, partitions: 3, retentionMs: -1 },
    { topic: topics.snapshots, partitions: 1, retentionMs: -1 },
  ]);
  const store = new DashboardStore();
  let subscription;
  try {
    await publishMessages(
      bus,
      topics.ledger,
      sampleLedger().map((event) => ({ key: event.agent, message: event })),
    );
    await publishMessages(
      bus,
      topics.prices,
      samplePrices().map((tick) => ({ key: tick.productId, message: tick })),
    );
    await publishMessages(bus, topics.activity, [{
      key: "scalper",
      message: usage("scalper", "rules", 1),
    }]);
    subscription = await connectDashboard(bus, store, { log, topics });
    await waitFor("catching up", () => store.state.status === "live");
    assert.equal(store.state.counts.ledger, sampleLedger().length);
    assert.equal(store.state.counts.prices, samplePrices().length);

    await publishMessages(bus, topics.ledger, [{
      key: "scalper",
      message: scalperSell({ quantity: "2000" }),
    }]);
    await waitFor("the live trade", () => store.state.trades.length === 5);

    const finished = await readDashboardState(bus, { log, topics });
    const report = buildReport(finished, await loadWebAssets());
    assert.deepEqual(report.json.leaderboard.map((row) => [row.agent, row.equity, row.trades]), [
      ["momentum", "103976", 1],
      ["brainrot-daytrader", "100100", 2],
      ["scalper", "95976", 2],
    ]);
  } finally {
    await subscription?.close();
    await bus.close();
  }
});

Deno.test("deno task dashboard serves the page and the view, then stops on SIGINT", async () => {
  const bootstrap = kafkaBootstrap();
  const { command, args } = await taskCommand("dashboard");
  const child = new Deno.Command(command, {
    args: [
      ...args,
      "--no-tty",
      "--port",
      "0",
      "--bootstrap-servers",
      bootstrap,
      "--log-level",
      "warn",
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  const stderrText = (async () => {
    let text = "";
    for await (const chunk of stderr) text += chunk;
    return text;
  })();
  let stdout = "";
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let url: string | undefined;
    while (!url) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Dashboard exited early: ${await stderrText}`);
      stdout += value;
      url = /Web dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
    }
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.match(await page.text(), /Daytrading Agents Arena/);
    const charts = await fetch(new URL("/vendor/lightweight-charts.js", url));
    assert.match(await charts.text(), /LightweightCharts/);
    const deadline = Date.now() + 20_000;
    let view: { status: string } = { status: "connecting" };
    while (view.status !== "live" && Date.now() < deadline) {
      view = await (await fetch(new URL("/api/view", url))).json();
      if (view.status !== "live") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(view.status, "live");
    child.kill("SIGINT");
    // Drain stdout so the process can exit.
    while (!(await reader.read()).done) { /* plain summaries */ }
    const status = await child.status;
    assert.equal(status.code, 130, await stderrText);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await stderrText;
  }
});

Deno.test("deno task report writes report.html and report.json from the broker", async () => {
  const bootstrap = kafkaBootstrap();
  const { command, args } = await taskCommand("report");
  const out = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    const result = await new Deno.Command(command, {
      args: [...args, "--out", out, "--bootstrap-servers", bootstrap, "--log-level", "warn"],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    assert.match(new TextDecoder().decode(result.stdout), /Report: .*report\.html/);
    const json = JSON.parse(await Deno.readTextFile(`${out}/report.json`));
    assert.equal(json.v, 1);
    assert.ok(Array.isArray(json.leaderboard));
    const html = await Deno.readTextFile(`${out}/report.html`);
    assert.ok(!/<script[^>]+src=/i.test(html));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

/**
 * `deno task arena` live in one process: the fake Coinbase exchange and the fake OpenAI-compatible
 * server on 127.0.0.1, the in-memory bus, Ctrl-C, then the final leaderboard and the report.
 */

import assert from "node:assert/strict";
import { FakeExchange } from "../_fake_exchange.ts";
import {
  type FakeOpenAI,
  type FakeReply,
  type RecordedRequest,
  startFakeOpenAI,
} from "../_fake_openai.ts";
import { runTask } from "../cli/_task.ts";
import { mainFixture } from "../market/_fixtures.ts";

const ROOT = new URL("../../", import.meta.url);
const API_KEY = "sk-test-arena-secret-7781";

/** A model that looks at its portfolio first (which opens the account), then holds. */
function portfolioThenHold(
  usage: { promptTokens: number; completionTokens: number },
): (request: RecordedRequest) => FakeReply {
  return (request) =>
    request.body.messages.at(-1)?.role === "user"
      ? {
        kind: "message",
        content: null,
        toolCalls: [{ name: "get_portfolio", arguments: "{}" }],
        usage,
      }
      : { kind: "message", content: "Holding: no clear trend yet.", usage };
}

/** The arena flags every run here shares: the fake model and its key, no web or TTY, a report. */
function headlessFlags(openai: FakeOpenAI, reportDir: string): string[] {
  return [
    "--base-url",
    openai.baseURL,
    "--api-key",
    API_KEY,
    "--no-web",
    "--no-tty",
    "--report-dir",
    reportDir,
  ];
}

Deno.test("deno task arena runs live from Coinbase with an OpenAI-compatible model until Ctrl-C", async () => {
  const exchange = FakeExchange.start({ products: mainFixture(), tickerIntervalMs: 50 });
  const openai = startFakeOpenAI({
    responder: portfolioThenHold({ promptTokens: 10_000, completionTokens: 1_000 }),
  });
  const reportDir = `artifacts/tests/arena-${crypto.randomUUID().slice(0, 8)}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "--quiet",
      "arena",
      ...exchange.serviceFlags,
      "--products",
      "BTC-USD,ETH-USD",
      "--min-interval",
      "0.5",
      "--interval",
      "0.5",
      ...headlessFlags(openai, reportDir),
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  let stdout = "";
  const stdoutDone = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
  })();
  let exited = false;
  const status = child.status.then((value) => {
    exited = true;
    return value;
  });
  try {
    const enough = () => /tick=([3-9]|\d\d+) agents=3/.test(stdout);
    await waitFor("three live snapshots decided on by three agents", enough, 60_000);
    child.kill("SIGINT");
    await waitFor("the arena to stop after Ctrl-C", () => exited, 30_000);
    await stdoutDone;
    const stderr = await stderrText;
    const { code } = await status;
    assert.equal(code, 0, `arena exit ${code}:\n${stdout}\n${stderr}`);
    assert.match(stdout, /Arena: Coinbase live: BTC-USD, ETH-USD/);
    assert.match(
      stdout,
      /model gpt-5-nano; tools protocol, compact prompt; taker fee 60 bps, spot \(long only, no leverage\); in-memory bus/,
    );
    const start = stdout.indexOf("=== Final leaderboard");
    assert.ok(start >= 0, `final leaderboard printed:\n${stdout}`);
    const board = stdout.slice(start);
    for (const agent of ["momentum", "brainrot-daytrader", "scalper"]) {
      // 10k prompt + 1k completion tokens per call at gpt-5-nano prices: $0.0009 a call.
      assert.match(board, new RegExp(`^\\d +${agent} +gpt-5-nano .*\\$0\\.0\\d{3}$`, "m"));
    }
    assert.match(board, new RegExp(`Report: ${reportDir}/report\\.html`));
    assert.ok(!stdout.includes(API_KEY) && !stderr.includes(API_KEY), "the key is never printed");
    assert.ok(openai.requests.length >= 9, "every agent asked the model on every snapshot");
    assert.equal(openai.requests[0]!.authorization, `Bearer ${API_KEY}`);
    const json = JSON.parse(await Deno.readTextFile(new URL(`${reportDir}/report.json`, ROOT)));
    assert.equal(json.leaderboard.length, 3);
    assert.ok(json.leaderboard.every((row: { costUsd: number }) => row.costUsd > 0));
  } finally {
    // `deno task` forwards SIGTERM to the arena (SIGKILL would orphan it).
    if (!exited) {
      child.kill("SIGTERM");
      await waitFor("the arena to end", () => exited, 10_000).catch(() => child.kill("SIGKILL"));
    }
    await status;
    await stdoutDone.catch(() => {});
    await stderrText.catch(() => "");
    await openai.close();
    await exchange.close();
    await Deno.remove(new URL(reportDir, ROOT), { recursive: true }).catch(() => {});
  }
});

/** Polls `predicate` every 50 ms; rejects naming `what` after `timeoutMs`. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("deno task arena --entries runs two models side by side on a lockstep replay", async () => {
  const openai = startFakeOpenAI({
    responder: portfolioThenHold({ promptTokens: 2_000, completionTokens: 100 }),
  });
  const reportDir = `artifacts/tests/arena-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const { code, stdout, stderr } = await runTask([
      "arena",
      "--entries",
      "momentum:rules,scalper:gpt-5-nano",
      "--replay",
      "fixtures/market",
      "--lockstep",
      "--max-ticks",
      "3",
      ...headlessFlags(openai, reportDir),
    ], { timeoutMs: 60_000 });
    assert.equal(code, 0, `arena failed:\n${stdout}\n${stderr}`);
    assert.match(
      stdout,
      /agents momentum\.rules, scalper\.gpt-5-nano; models rules \(offline deterministic policies, not an LLM\), gpt-5-nano/,
    );
    // The rules model has no cost: a dash, not $0.0000.
    assert.match(stdout, /^\d +momentum\.rules +rules .*—$/m);
    assert.match(stdout, /^\d +scalper\.gpt-5-nano +gpt-5-nano .*\$0\.000[1-9]$/m);
    // Only the gpt-5-nano agent asks the server: two calls per tick, three ticks.
    assert.equal(openai.requests.length, 6);
    assert.ok(openai.requests.every((request) => request.body.model === "gpt-5-nano"));
  } finally {
    await openai.close();
    await Deno.remove(new URL(reportDir, ROOT), { recursive: true }).catch(() => {});
  }
});

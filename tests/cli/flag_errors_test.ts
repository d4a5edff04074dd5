/**
 * Every bad flag value of every task is one line on standard error naming the flag and what is
 * valid, with exit code 2 and no stack trace, before anything connects: the broker address
 * points at a port with nothing listening, so a flag checked too late would show as a broker
 * error (exit 1) instead.
 */

import assert from "node:assert/strict";
import { freePort, LOG_LEVEL_TASKS, mapLimited, runTask } from "./_task.ts";

/** One bad command line and what its one error line must mention. */
interface Case {
  args: string[];
  says: RegExp;
}

const DEAD_BROKER = `127.0.0.1:${freePort()}`;

async function assertUsageErrors(cases: Case[]): Promise<void> {
  const results = await mapLimited(
    cases,
    4,
    (item) => runTask(item.args, { env: { KAFKA_BOOTSTRAP_SERVERS: DEAD_BROKER } }),
  );
  for (const [index, result] of results.entries()) {
    const { args, says } = cases[index]!;
    const what = `deno task ${args.join(" ")}\n${result.stderr}`;
    assert.equal(result.code, 2, what);
    assert.equal(result.stderr.split("\n").length, 1, `one line: ${what}`);
    assert.match(result.stderr, says, what);
    assert.doesNotMatch(result.stderr, /^\s*at |Uncaught|No Kafka broker/m, what);
    assert.equal(result.stdout, "", what);
  }
}

Deno.test("connector: bad numbers are one-line errors naming the flag", async () => {
  await assertUsageErrors([
    { args: ["connector", "--min-interval", "-5"], says: /--min-interval.*'-5'.*positive/ },
    { args: ["connector", "--speed", "-1"], says: /--speed.*'-1'.*positive number/ },
    { args: ["connector", "--max-ticks", "0"], says: /--max-ticks.*'0'.*positive whole/ },
    {
      args: ["connector", "--half-spread-bps", "abc"],
      says: /--half-spread-bps.*'abc'.*from 0 to below 10000/,
    },
    { args: ["connector", "--warmup", "abc"], says: /--warmup.*'abc'.*0 or more/ },
    { args: ["connector", "--mask-seed", "x"], says: /--mask-seed.*'x'.*whole number/ },
    { args: ["connector", "--lockstep-timeout", "0"], says: /--lockstep-timeout.*'0'/ },
  ]);
});

Deno.test("chat_node, router and tools: bad values are one-line errors naming the flag", async () => {
  await assertUsageErrors([
    { args: ["chat_node", "--price-input", "abc"], says: /--price-input.*'abc'.*0 or more/ },
    { args: ["chat_node", "--temperature", "3"], says: /--temperature.*'3'.*from 0 to 2/ },
    { args: ["chat_node", "--seed", "x"], says: /--seed.*'x'.*whole number/ },
    { args: ["chat_node", "--max-tokens", "0"], says: /--max-tokens.*'0'.*positive whole/ },
    {
      args: ["chat_node", "--tool-choice", "maybe"],
      says: /--tool-choice.*'maybe'.*Allowed choices are auto, required, none/,
    },
    { args: ["router", "--protocol", "xml"], says: /--protocol.*'xml'.*tools, json/ },
    {
      args: ["router", "--prompt-format", "fancy"],
      says: /--prompt-format.*'fancy'.*compact, plain/,
    },
    { args: ["router", "--reply-timeout", "-1"], says: /--reply-timeout.*'-1'.*positive/ },
    { args: ["router", "--strategy", "yolo"], says: /--strategy.*'yolo'.*momentum/ },
    {
      args: ["tools", "--slippage-bps", "abc"],
      says: /--slippage-bps.*'abc'.*from 0 to below 10000/,
    },
    {
      args: ["tools", "--session-timeout-ms", "abc"],
      says: /--session-timeout-ms.*'abc'.*positive whole/,
    },
    { args: ["tools", "--taker-fee-bps", "-1"], says: /--taker-fee-bps.*'-1'.*0 to 10000/ },
    { args: ["tools", "--max-leverage", "0"], says: /--max-leverage.*'0'.*from 1 to 100/ },
  ]);
});

Deno.test("arena and tournament: bad request controls and desk flags are one-line errors", async () => {
  await assertUsageErrors([
    { args: ["arena", "--temperature", "3"], says: /--temperature.*'3'.*from 0 to 2/ },
    { args: ["arena", "--seed", "x"], says: /--seed.*'x'/ },
    { args: ["arena", "--protocol", "xml"], says: /--protocol.*'xml'.*tools, json/ },
    { args: ["arena", "--reply-timeout", "-1"], says: /--reply-timeout.*'-1'/ },
    { args: ["tournament", "--max-tokens", "0"], says: /--max-tokens.*'0'/ },
    { args: ["tournament", "--tool-choice", "maybe"], says: /--tool-choice.*'maybe'/ },
    { args: ["tournament", "--prompt-format", "fancy"], says: /--prompt-format.*'fancy'/ },
    { args: ["tournament", "--temperature", "3"], says: /--temperature.*'3'/ },
    { args: ["arena", "--max-leverage", "101"], says: /--max-leverage.*'101'.*from 1 to 100/ },
    { args: ["tournament", "--max-leverage", "2.5"], says: /--max-leverage.*'2\.5'.*1 to 100/ },
  ]);
});

Deno.test("--log-level loud is a one-line error in every task that has the flag", async () => {
  const tasks = LOG_LEVEL_TASKS;
  await assertUsageErrors(tasks.map((task) => ({
    args: [task, "--log-level", "loud"],
    says: /--log-level.*'loud'.*debug, info, warn, error/,
  })));
});

Deno.test("broker, dashboard and ledger: bad numbers are one-line errors naming the flag", async () => {
  await assertUsageErrors([
    { args: ["broker", "--port", "99999"], says: /--port.*'99999'.*0 to 65535/ },
    { args: ["dashboard", "--port", "abc"], says: /--port.*'abc'.*0 to 65535/ },
    { args: ["dashboard", "--interval", "0"], says: /--interval.*'0'/ },
    { args: ["ledger", "--trades", "abc"], says: /--trades.*'abc'/ },
    { args: ["ledger", "--period-seconds", "-1"], says: /--period-seconds.*'-1'/ },
  ]);
});

Deno.test("bad combinations and data are one-line errors before the broker is tried", async () => {
  await assertUsageErrors([
    // The connector used to try the broker first: a dead broker must not hide the usage error.
    { args: ["connector", "--mask"], says: /^connector: --mask applies to --replay/ },
    { args: ["connector", "--speed", "2"], says: /^connector: --speed.*apply to --replay/ },
    {
      args: ["connector", "--replay", "fixtures/market", "--products", "DOGE-USD"],
      says: /^connector: Replay data has no DOGE-USD; products in the data: BTC-USD, ETH-USD$/,
    },
    {
      args: ["connector", "--replay", "fixtures/market", "--record", "artifacts/x.jsonl"],
      says: /^connector: --record applies to live data/,
    },
    {
      args: ["arena", "--replay", "fixtures/market", "--products", "DOGE-USD"],
      says: /^arena: Replay data has no DOGE-USD; products in the data: BTC-USD, ETH-USD$/,
    },
    {
      // The demo writes its report at the end of the run: checked before the run instead.
      args: ["demo", "--report-dir", "not-artifacts/demo"],
      says: /^arena: --report-dir not-artifacts\/demo is not writable: .*artifacts\//,
    },
    {
      args: ["tournament", "--out", "not-artifacts/tournament"],
      says: /^tournament: --out not-artifacts\/tournament is not writable/,
    },
  ]);
  const stray = await Deno.stat(new URL("../../not-artifacts", import.meta.url)).catch(() => null);
  assert.equal(stray, null, "nothing is created outside artifacts/");
});

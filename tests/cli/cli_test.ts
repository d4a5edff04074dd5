/** The shared flag parsers: valid values pass, anything else is commander's InvalidArgumentError. */

import assert from "node:assert/strict";
import { CommanderError, InvalidArgumentError } from "@commander-js/extra-typings";
import {
  addTradeDeskFlags,
  basisPointsFlag,
  brokerCommand,
  ensureWritableDir,
  logLevelFlag,
  maxLeverageFlag,
  nonNegativeIntFlag,
  nonNegativeNumberFlag,
  portFlag,
  positiveIntFlag,
  positiveNumberFlag,
  tradeConfigOf,
} from "../../core/cli.ts";
import { createLogger, DEFAULT_LOG_LEVEL } from "../../core/log.ts";

Deno.test("number parsers accept their range and reject the rest with InvalidArgumentError", () => {
  const cases: [(value: string) => unknown, string[], string[]][] = [
    [positiveNumberFlag, ["0.5", "60"], ["0", "-5", "abc", "", "Infinity"]],
    [positiveIntFlag, ["1", "300"], ["0", "1.5", "abc", ""]],
    [nonNegativeIntFlag, ["0", "7"], ["-1", "0.5", "x", ""]],
    [nonNegativeNumberFlag, ["0", "14400", "0.25"], ["-1", "abc", "", "NaN"]],
    [basisPointsFlag, ["0", "1", "2.5", "9999.9"], ["10000", "-1", "abc", ""]],
    [portFlag, ["0", "8787", "65535"], ["65536", "99999", "-1", "abc", ""]],
    [maxLeverageFlag, ["1", "10", "100"], ["0", "101", "2.5", "-3", "abc", ""]],
  ];
  for (const [parse, good, bad] of cases) {
    for (const value of good) assert.equal(parse(value), Number(value), `${parse.name}(${value})`);
    for (const value of bad) {
      assert.throws(() => parse(value), InvalidArgumentError, `${parse.name}(${value})`);
    }
  }
});

Deno.test("the desk flags default to spot and set shorts and leverage on the trade config", () => {
  const parse = (argv: string[]) =>
    addTradeDeskFlags(brokerCommand("svc", { description: "test" }))
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .parse(argv, { from: "user" })
      .opts();
  const spot = parse([]);
  assert.equal(spot.startingCash, "100000");
  assert.deepEqual(tradeConfigOf(spot), {
    takerFeeBps: 60,
    slippageBps: 0,
    allowShort: false,
    maxLeverage: 1,
  });
  const margin = parse(["--allow-short", "--max-leverage", "20", "--taker-fee-bps", "5"]);
  assert.deepEqual(tradeConfigOf({ ...margin, slippageBps: 2 }), {
    takerFeeBps: 5,
    slippageBps: 2,
    allowShort: true,
    maxLeverage: 20,
  });
  assert.throws(() => parse(["--max-leverage", "101"]), /from 1 to 100, got 101/);
});

Deno.test("logLevelFlag takes the four levels (and upper case) and names them when wrong", () => {
  assert.equal(logLevelFlag("WARNING"), "warn");
  assert.equal(logLevelFlag("debug"), "debug");
  assert.throws(() => logLevelFlag("loud"), /debug, info, warn, error, got loud/);
});

Deno.test("commander turns a parser's error into one line naming the flag and the value", () => {
  let written = "";
  const command = brokerCommand("svc", { description: "test" })
    .option("--speed <n>", "speed", positiveNumberFlag)
    .exitOverride()
    .configureOutput({ writeErr: (text) => written += text });
  assert.throws(() => command.parse(["--speed", "-1"], { from: "user" }), CommanderError);
  assert.equal(
    written.trim(),
    "error: option '--speed <n>' argument '-1' is invalid. Expected a positive number, got -1",
  );
  assert.equal(
    brokerCommand("x", { description: "" }).parse([], { from: "user" }).opts().logLevel,
    DEFAULT_LOG_LEVEL,
  );
});

Deno.test("ensureWritableDir creates a folder it can write, and names the flag when it cannot", async () => {
  const root = await Deno.makeTempDir();
  try {
    await ensureWritableDir("--out", `${root}/a/b`);
    assert.ok((await Deno.stat(`${root}/a/b`)).isDirectory);
    assert.deepEqual([...Deno.readDirSync(`${root}/a/b`)], [], "the check leaves nothing behind");
    await Deno.writeTextFile(`${root}/file`, "");
    await assert.rejects(
      ensureWritableDir("--out", `${root}/file/sub`),
      /^Error: --out .*\/file\/sub is not a writable folder/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the default log level is warn and notice lines show at it, but not at error", () => {
  assert.equal(DEFAULT_LOG_LEVEL, "warn");
  const lines: string[] = [];
  const log = createLogger("svc", { level: DEFAULT_LOG_LEVEL, sink: (line) => lines.push(line) });
  log.info("hidden");
  log.notice("Service ready", { topic: "t" });
  assert.equal(lines.length, 1);
  assert.deepEqual(
    { ...JSON.parse(lines[0]!), time: undefined },
    { time: undefined, level: "notice", component: "svc", message: "Service ready", topic: "t" },
  );
  const quiet: string[] = [];
  createLogger("svc", { level: "error", sink: (line) => quiet.push(line) }).notice("ready");
  assert.deepEqual(quiet, []);
});

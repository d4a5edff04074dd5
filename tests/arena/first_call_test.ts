import assert from "node:assert/strict";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { captureFirstCall, formatModelRequest } from "../../core/arena/first_call.ts";
import { loadFixtureCandles, replayMask } from "../../core/connector/replay.ts";
import { createLogger } from "../../core/log.ts";

const quiet = createLogger("test", { level: "error", sink: () => {} });

Deno.test("the first call at a tick shows that tick, the starting portfolio and the three tools", async () => {
  const request = await captureFirstCall({
    source: await loadFixtureCandles("main"),
    tick: 4,
    strategy: STRATEGIES.scalper,
    log: quiet,
  });
  assert.equal(request.snapshot?.tick, 4);
  const user = request.messages.at(-1)!;
  assert.equal(user.role, "user");
  assert.match(user.content ?? "", /^Your portfolio: cash 100000\.00 USD/);
  assert.match(user.content ?? "", /tick 4\n/);
  assert.equal(request.messages.length, 2, "a fresh agent: system prompt and user prompt only");
  assert.match(request.messages[0]!.content ?? "", /Your strategy: SCALPER/);
  assert.deepEqual(request.tools.map((tool) => tool.name).sort(), [
    "calculator",
    "execute_trade",
    "get_portfolio",
  ]);
  assert.equal(request.responseFormat, undefined);
  const text = formatModelRequest(request);
  assert.match(text, /^----- system -----/);
  assert.match(text, /----- tool execute_trade -----/);
});

Deno.test("a masked first call names no date, year or real product, in either protocol", async () => {
  const source = await loadFixtureCandles("alt-2018-04-05");
  for (const protocol of ["tools", "json"] as const) {
    for (const promptFormat of ["compact", "plain"] as const) {
      const request = await captureFirstCall({
        source,
        tick: 3,
        strategy: STRATEGIES.momentum,
        protocol,
        promptFormat,
        mask: replayMask(source, { seed: 7 }),
        log: quiet,
      });
      const text = formatModelRequest(request);
      // A year in words; candle rows are numbers only, where 2008 is a price, not a year.
      const prose = request.messages.flatMap((message) => (message.content ?? "").split("\n"))
        .filter((line) => /[a-z]/i.test(line)).join("\n");
      assert.doesNotMatch(
        prose,
        /\b(19[6-9]\d|20[0-4]\d)\b/,
        `${protocol}/${promptFormat}: a year`,
      );
      assert.doesNotMatch(text, /\d{4}-\d\d-\d\d/, `${protocol}/${promptFormat}: a date`);
      assert.doesNotMatch(
        text,
        /BTC|ETH|LTC|Bitcoin|Ether|Litecoin/i,
        `${protocol}/${promptFormat}`,
      );
      assert.match(text, /ASSET[A-C]-USD/);
      assert.match(text, /T\+0h0\dm/);
      if (protocol === "json") {
        assert.equal(request.tools.length, 0);
        assert.equal(request.responseFormat?.name, "trading_decision");
      }
    }
  }
});

Deno.test("a tick past the end of the replay is a clear error", async () => {
  await assert.rejects(
    captureFirstCall({
      source: await loadFixtureCandles("alt-2018-04-05"),
      tick: 100_000,
      intervalSeconds: 3600,
      strategy: STRATEGIES.momentum,
      log: quiet,
    }),
    /The replay has \d+ ticks at this interval; ask for --tick \d+ or less/,
  );
});

Deno.test("deno task prompt prints the messages, and the request as JSON with --json", async () => {
  const run = async (...args: string[]) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "prompt", "--replay", "fixtures/market/alt-2018-04-05", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  };
  const text = await run("--tick", "2", "--strategy", "brainrot", "--prompt-format", "plain");
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /----- system -----\n[\s\S]*Your strategy: BRAINROT/);
  assert.match(text.stdout, /Market at 2018-04-05T04:01:00\.000Z \(tick 2\)/);
  const json = await run("--protocol", "json", "--json", "--mask");
  assert.equal(json.code, 0, json.stderr);
  const request = JSON.parse(json.stdout);
  assert.equal(request.responseFormat.name, "trading_decision");
  assert.equal(request.snapshot, undefined, "only what a model is sent");
  const bad = await run("--tick", "0");
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--tick/);
});

/**
 * With no broker at the given address every service says so in one line within 15 s and exits
 * with code 1 (kafkajs alone retries for about 30 s and prints a stack per retry).
 */

import assert from "node:assert/strict";
import { freePort, mapLimited, runTask } from "./_task.ts";

Deno.test("no broker: every service prints one line naming the address and exits 1 within 15 s", async () => {
  const address = `127.0.0.1:${freePort()}`;
  const broker = ["--bootstrap-servers", address];
  const runs = [
    ["chat_node", "--model", "rules", ...broker],
    ["router", ...broker],
    ["tools", ...broker],
    ["connector", ...broker],
    ["connector", "--replay", "fixtures/market", ...broker],
    ["dashboard", "--no-web", "--no-tty", ...broker],
    ["ledger", ...broker],
    ["report", ...broker],
    ["arena", "--replay", "fixtures/market", "--model", "rules", "--no-web", "--no-tty", ...broker],
  ];
  // The probes mostly wait between connection attempts: all of them at once stay cheap.
  const results = await mapLimited(runs, runs.length, (args) => runTask(args));
  for (const [index, result] of results.entries()) {
    const args = runs[index]!;
    const what = `deno task ${args.join(" ")} (${Math.round(result.ms)} ms)\n${result.stderr}`;
    assert.equal(result.code, 1, what);
    assert.equal(result.stderr.split("\n").length, 1, `one line: ${what}`);
    assert.equal(
      result.stderr,
      `${args[0]}: No Kafka broker answers at ${address} — start one with \`deno task broker\`, ` +
        "or `docker compose up -d redpanda`",
      what,
    );
    assert.ok(result.ms < 15_000, `ends within 15 s: ${what}`);
  }
});

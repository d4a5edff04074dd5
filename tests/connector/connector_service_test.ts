import assert from "node:assert/strict";
import { FakeExchange } from "../_fake_exchange.ts";
import { kafkaBootstrap } from "../_kafka.ts";
import { mainFixture } from "../market/_fixtures.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function connector(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "connector", ...args],
    cwd: ROOT,
    env: { KAFKA_BOOTSTRAP_SERVERS: kafkaBootstrap(), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("the connector service refuses an unknown product at start-up", async () => {
  const exchange = FakeExchange.start({ products: mainFixture() });
  try {
    const child = connector([...exchange.serviceFlags, "--products", "BTC-USD", "NOPE-USD"]);
    const output = await child.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1);
    assert.match(stderr, /Unknown product id NOPE-USD/);
  } finally {
    await exchange.close();
  }
});

Deno.test("the connector service publishes live snapshots from the fake exchange", async () => {
  const exchange = FakeExchange.start({ products: mainFixture(), tickerIntervalMs: 50 });
  const child = connector([
    ...exchange.serviceFlags,
    "--products",
    "BTC-USD,ETH-USD",
    "--min-interval",
    "0.5",
    "--log-level",
    "info",
  ]);
  let stderr = "";
  try {
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = Date.now() + 30_000;
    while (!stderr.includes("Published snapshot") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    assert.match(stderr, /"message":"Published snapshot","tick":1,"products":2/);
    child.kill("SIGTERM");
    while (!(await reader.read()).done) { /* drain */ }
    const status = await child.status;
    assert.equal(status.code, 143);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already ended */ }
    await child.stdout.cancel().catch(() => {});
    await exchange.close();
  }
});

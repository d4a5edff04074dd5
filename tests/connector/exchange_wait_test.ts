/** The connector waits for an exchange that does not answer yet, says so, and goes on once it does. */

import assert from "node:assert/strict";
import { CoinbaseRestClient } from "../../core/connector/rest_client.ts";
import { createLogger } from "../../core/log.ts";
import { FakeExchange } from "../_fake_exchange.ts";
import { kafkaBootstrap, uniqueName } from "../_kafka.ts";
import { mainFixture } from "../market/_fixtures.ts";
import { waitFor } from "./_helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Serves the fake exchange's REST API on `port` (the exchange "comes up" there). */
function restProxy(port: number, exchange: FakeExchange): Deno.HttpServer {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    const answer = await fetch(`${exchange.restUrl}${url.pathname}${url.search}`);
    return new Response(await answer.arrayBuffer(), { status: answer.status });
  });
}

Deno.test("checkProducts waits for an exchange that is down, saying so, until it answers", async () => {
  const exchange = FakeExchange.start({ products: mainFixture() });
  const port = freePort();
  const lines: string[] = [];
  const rest = new CoinbaseRestClient({
    baseUrl: `http://127.0.0.1:${port}`,
    backoff: { initialMs: 50, maxMs: 200 },
    log: createLogger("test", { level: "warn", sink: (line) => lines.push(line) }),
  });
  let proxy: Deno.HttpServer | undefined;
  try {
    const check = rest.checkProducts(["BTC-USD", "ETH-USD"]);
    // Far more tries than the 5 retries after which a plain request gives up.
    await waitFor(
      () => lines.filter((line) => line.includes("Waiting for the exchange")).length > 6,
      {
        what: "the waiting warnings",
      },
    );
    proxy = restProxy(port, exchange);
    await check;
    const waiting = JSON.parse(lines.find((line) => line.includes("Waiting for the exchange"))!);
    assert.equal(waiting.level, "warn");
    assert.equal(waiting.url, `http://127.0.0.1:${port}`);
    assert.ok(lines.some((line) => /"level":"notice".*"The exchange answers"/.test(line)));
  } finally {
    await proxy?.shutdown();
    await exchange.close();
  }
});

Deno.test("checkProducts stops waiting when its signal aborts", async () => {
  const rest = new CoinbaseRestClient({
    baseUrl: `http://127.0.0.1:${freePort()}`,
    backoff: { initialMs: 50, maxMs: 100 },
    log: createLogger("test", { level: "error" }),
  });
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 300);
  await assert.rejects(rest.checkProducts(["BTC-USD"], abort.signal));
});

Deno.test("the connector service says it waits for the exchange, then publishes once it is up", async () => {
  const exchange = FakeExchange.start({ products: mainFixture(), tickerIntervalMs: 50 });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "--quiet",
      "connector",
      ...["--ws-url", exchange.wsUrl, "--rest-url", `http://127.0.0.1:${port}`],
      ...["--products", "BTC-USD", "--min-interval", "0.5", "--log-level", "info"],
      ...["--topic-prefix", `${uniqueName("test.wait")}.`],
    ],
    cwd: ROOT,
    env: { KAFKA_BOOTSTRAP_SERVERS: kafkaBootstrap(), NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let proxy: Deno.HttpServer | undefined;
  let stderr = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const readUntil = async (text: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!stderr.includes(text) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    assert.ok(stderr.includes(text), `expected ${text} in:\n${stderr}`);
  };
  try {
    await readUntil('"message":"Waiting for the exchange"', 20_000);
    // Down for a while (the first test shows it outlasts the retries of a plain request).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    proxy = restProxy(port, exchange);
    await readUntil('"message":"The exchange answers"', 40_000);
    await readUntil('"message":"Published snapshot"', 20_000);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 143);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already ended */ }
    await reader.cancel().catch(() => {});
    await proxy?.shutdown();
    await exchange.close();
  }
});

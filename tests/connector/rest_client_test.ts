import assert from "node:assert/strict";
import { CoinbaseRestClient } from "../../core/connector/rest_client.ts";
import { backoffDelay } from "../../core/backoff.ts";
import { FakeExchange } from "../_fake_exchange.ts";
import { mainFixture } from "../market/_fixtures.ts";
import { quietLog } from "./_helpers.ts";

function client(exchange: FakeExchange, maxRequestsPerSecond = 50): CoinbaseRestClient {
  return new CoinbaseRestClient({
    baseUrl: exchange.restUrl,
    maxRequestsPerSecond,
    backoff: { initialMs: 40, maxMs: 200, jitter: 0 },
    log: quietLog(),
  });
}

Deno.test("REST 429 answers are retried with growing backoff until they succeed", async () => {
  const exchange = FakeExchange.start({ products: mainFixture() });
  try {
    const rest = client(exchange);
    exchange.rejectNext(2, 429);
    const started = Date.now();
    const body = await rest.get("/products/BTC-USD");
    assert.equal(JSON.parse(body).id, "BTC-USD");
    assert.deepEqual(exchange.restLog, [
      "429 /products/BTC-USD",
      "429 /products/BTC-USD",
      "200 /products/BTC-USD",
    ]);
    assert.equal(rest.retries, 2);
    assert.ok(Date.now() - started >= 40 + 80, "waited 40 ms then 80 ms");
  } finally {
    await exchange.close();
  }
});

Deno.test("REST 5xx answers are retried and give up with a clear error", async () => {
  const exchange = FakeExchange.start({ products: mainFixture() });
  try {
    const rest = new CoinbaseRestClient({
      baseUrl: exchange.restUrl,
      maxRetries: 2,
      backoff: { initialMs: 5, maxMs: 10 },
      log: quietLog(),
    });
    exchange.rejectNext(5, 503);
    await assert.rejects(() => rest.get("/products/BTC-USD"), /failed after 3 attempts: HTTP 503/);
  } finally {
    await exchange.close();
  }
});

Deno.test("REST requests stay under the configured rate", async () => {
  const exchange = FakeExchange.start({ products: mainFixture() });
  try {
    const rest = client(exchange, 20);
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => rest.get("/products/ETH-USD")));
    assert.ok(Date.now() - started >= 5 * 50 - 5, "6 requests at 20/s take at least 250 ms");
  } finally {
    await exchange.close();
  }
});

Deno.test("candles come back as exact decimal strings, oldest first", async () => {
  const exchange = FakeExchange.start({ products: mainFixture() });
  try {
    const rest = client(exchange);
    const [btc] = mainFixture();
    const first = btc!.candles[0]!;
    const body = await rest.candles("BTC-USD", {
      granularity: 60,
      start: first.time + exchange.timeShift,
      end: first.time + exchange.timeShift + 120,
    });
    assert.ok(body.startsWith(`[[${first.time + exchange.timeShift + 120},`), "newest first");
    assert.ok(body.includes(`,${first.close},`));
  } finally {
    await exchange.close();
  }
});

Deno.test("backoff doubles up to the cap and jitter only shortens it", () => {
  assert.equal(backoffDelay(0, { initialMs: 100, jitter: 0 }), 100);
  assert.equal(backoffDelay(3, { initialMs: 100, jitter: 0 }), 800);
  assert.equal(backoffDelay(20, { initialMs: 100, maxMs: 1000, jitter: 0 }), 1000);
  assert.equal(backoffDelay(2, { initialMs: 100, jitter: 0.5 }, () => 0), 200);
  assert.equal(backoffDelay(2, { initialMs: 100, jitter: 0.5 }, () => 1), 400);
});

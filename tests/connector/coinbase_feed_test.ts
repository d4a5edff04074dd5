import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { AGENT_INPUT_TOPIC, PRICE_TOPIC } from "../../core/bus/topics.ts";
import { MarketSnapshot, PriceTick } from "../../core/contracts/market.ts";
import { CoinbaseFeed, type CoinbaseFeedOptions } from "../../core/connector/coinbase_feed.ts";
import { FakeExchange } from "../_fake_exchange.ts";
import { mainFixture } from "../market/_fixtures.ts";
import { quietLog, topicValues, waitFor } from "./_helpers.ts";

const PRODUCTS = ["BTC-USD", "ETH-USD"];

async function withFeed(
  options: Partial<CoinbaseFeedOptions>,
  body: (context: { exchange: FakeExchange; feed: CoinbaseFeed; bus: MemoryBus }) => Promise<void>,
): Promise<void> {
  const exchange = FakeExchange.start({ products: mainFixture(), tickerIntervalMs: 20 });
  const bus = new MemoryBus();
  const feed = new CoinbaseFeed({
    bus,
    productIds: PRODUCTS,
    intervalSeconds: 0.25,
    wsUrl: exchange.wsUrl,
    restUrl: exchange.restUrl,
    backoff: { initialMs: 20, maxMs: 100 },
    restBackoff: { initialMs: 10, maxMs: 50 },
    restRequestsPerSecond: 200,
    log: quietLog(),
    ...options,
  });
  try {
    await body({ exchange, feed, bus });
  } finally {
    await feed.close();
    await bus.close();
    await exchange.close();
  }
}

Deno.test("live feed publishes price ticks and one snapshot holding every product", async () => {
  await withFeed({}, async ({ feed, bus, exchange }) => {
    await feed.start();
    await waitFor(() => feed.snapshots >= 1 && feed.priceTicks >= 4, { what: "a snapshot" });
    assert.deepEqual(exchange.subscriptions[0], {
      product_ids: PRODUCTS,
      channels: ["ticker_batch"],
    });
    const snapshots = (await topicValues<unknown>(bus, AGENT_INPUT_TOPIC)).map((value) =>
      MarketSnapshot.parse(value)
    );
    const first = snapshots[0]!;
    assert.equal(first.tick, 1);
    assert.equal(first.source, "live");
    assert.deepEqual(first.products.map((product) => product.productId), PRODUCTS);
    for (const product of first.products) {
      assert.ok(product.candles.m1.length >= 19, `m1 has ${product.candles.m1.length}`);
      assert.ok(product.candles.m5.length >= 13, `m5 has ${product.candles.m5.length}`);
      assert.ok(product.candles.m15.length >= 5, `m15 has ${product.candles.m15.length}`);
      assert.equal(product.stale, false);
    }
    const ticks = (await topicValues<unknown>(bus, PRICE_TOPIC)).map((value) =>
      PriceTick.parse(value)
    );
    assert.ok(ticks.some((tick) => tick.productId === "ETH-USD" && !tick.stale));
  });
});

Deno.test("live feed reconnects after a dropped connection and subscribes again", async () => {
  await withFeed({}, async ({ feed, exchange }) => {
    await feed.start();
    await waitFor(() => feed.priceTicks >= 2, { what: "first tickers" });
    exchange.dropConnections();
    await waitFor(() => exchange.subscriptions.length >= 2, { what: "a resubscription" });
    const before = feed.priceTicks;
    await waitFor(() => feed.priceTicks > before + 2, { what: "tickers after reconnect" });
    assert.equal(feed.connects, 2);
    assert.deepEqual(exchange.subscriptions[1]!.product_ids, PRODUCTS);
  });
});

Deno.test("malformed frames are counted and never published", async () => {
  await withFeed({}, async ({ feed, exchange, bus }) => {
    await feed.start();
    await waitFor(() => exchange.openSockets === 1 && feed.priceTicks >= 1, { what: "a ticker" });
    exchange.stall(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const published = feed.priceTicks;
    exchange.sendRaw("{not json");
    exchange.sendRaw(JSON.stringify({ type: "ticker", product_id: "BTC-USD", price: 12 }));
    exchange.sendRaw(JSON.stringify({
      type: "ticker",
      product_id: "BTC-USD",
      price: "NaN",
      best_bid: "1",
      best_ask: "2",
      volume_24h: "3",
    }));
    await waitFor(() => feed.malformedFrames === 3, { what: "3 malformed frames" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(feed.priceTicks, published);
    const ticks = await topicValues<{ price: string }>(bus, PRICE_TOPIC);
    assert.ok(ticks.every((tick) => /^\d+(\.\d+)?$/.test(tick.price)));
  });
});

Deno.test("a product without a ticker for 2 x the interval is marked stale", async () => {
  await withFeed(
    { intervalSeconds: 0.1, stallTimeoutMs: 60_000 },
    async ({ feed, exchange, bus }) => {
      await feed.start();
      await waitFor(() => feed.priceTicks >= 2, { what: "first tickers" });
      exchange.stall(true);
      await waitFor(() => feed.snapshots >= 4, {
        what: "snapshots while stalled",
        timeoutMs: 8_000,
      });
      const snapshots = await topicValues<MarketSnapshot>(bus, AGENT_INPUT_TOPIC);
      const last = snapshots[snapshots.length - 1]!;
      assert.ok(last.products.every((product) => product.stale), "stalled products are stale");
      const ticks = await topicValues<PriceTick>(bus, PRICE_TOPIC);
      assert.ok(ticks.some((tick) => tick.stale), "a stale price tick went to the price topic");
      exchange.stall(false);
      const count = feed.snapshots;
      await waitFor(() => feed.snapshots > count + 1, { what: "fresh snapshots" });
      const fresh = await topicValues<MarketSnapshot>(bus, AGENT_INPUT_TOPIC);
      assert.ok(fresh[fresh.length - 1]!.products.every((product) => !product.stale));
    },
  );
});

Deno.test("an unknown product id is a clear start-up error", async () => {
  await withFeed({ productIds: ["BTC-USD", "NOPE-USD"] }, async ({ feed, bus }) => {
    await assert.rejects(() => feed.start(), /Unknown product id NOPE-USD/);
    assert.equal((await topicValues(bus, AGENT_INPUT_TOPIC)).length, 0);
  });
});

Deno.test("a stalled WebSocket is closed and reconnected", async () => {
  await withFeed({ stallTimeoutMs: 150 }, async ({ feed, exchange }) => {
    await feed.start();
    await waitFor(() => feed.priceTicks >= 1, { what: "a ticker" });
    exchange.stall(true);
    await waitFor(() => exchange.subscriptions.length >= 2, { what: "a reconnect after a stall" });
    exchange.stall(false);
    assert.ok(feed.connects >= 2);
  });
});

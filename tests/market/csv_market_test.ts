import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { MarketSnapshot } from "../../core/contracts/market.ts";
import { aggregateCandles } from "../../core/market/candles.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import { altFixture, mainFixture } from "./_fixtures.ts";

Deno.test("the first snapshot comes after the 4 h warm-up with full windows", () => {
  const market = new CsvMarket(mainFixture());
  const { snapshot, priceTicks } = market.tick(1);
  MarketSnapshot.parse(snapshot);
  assert.equal(snapshot.tick, 1);
  assert.equal(snapshot.time, "2017-09-03T04:00:00.000Z");
  assert.deepEqual(snapshot.products.map((p) => p.productId), ["BTC-USD", "ETH-USD"]);
  for (const product of snapshot.products) {
    assert.equal(product.candles.m15.length, 6);
    assert.equal(product.candles.m5.length, 14);
    assert.equal(product.candles.m1.length, 20);
  }
  assert.equal(priceTicks.length, 2);
  assert.equal(market.tickCount, 48 * 60 - 4 * 60 + 1);
});

Deno.test("ticker price is the last closed minute's close with a 1 bp synthesised spread", () => {
  const [btc] = mainFixture();
  const market = new CsvMarket(mainFixture());
  const product = market.tick(1).snapshot.products[0]!;
  const last = btc!.candles[239]!;
  assert.equal(product.ticker.price, last.close);
  const close = new Decimal(last.close);
  assert.equal(
    product.ticker.bestBid,
    close.times("0.9999").toDecimalPlaces(2, Decimal.ROUND_DOWN).toFixed(2),
  );
  assert.equal(
    product.ticker.bestAsk,
    close.times("1.0001").toDecimalPlaces(2, Decimal.ROUND_UP).toFixed(2),
  );
  assert.equal(product.ticker.time, "2017-09-03T04:00:00.000Z");
  assert.equal(product.stale, false);
});

Deno.test("volume24h is the exact sum of the trailing 1,440 one-minute volumes", () => {
  const [btc] = mainFixture();
  const market = new CsvMarket(mainFixture());
  const tick = 2000; // well past the first day
  const product = market.tick(tick).snapshot.products[0]!;
  const end = 240 + tick - 1;
  const sum = btc!.candles.slice(end - 1440, end).reduce(
    (total, candle) => total.plus(candle.volume),
    new Decimal(0),
  );
  assert.equal(product.ticker.volume24h, sum.toFixed());
});

Deno.test("5-min and 15-min windows equal exact aggregation of the 1-minute candles", () => {
  const [btc] = mainFixture();
  const product = new CsvMarket(mainFixture()).tick(37).snapshot.products[0]!;
  const fives = aggregateCandles(btc!.candles, 300);
  const fifteens = aggregateCandles(btc!.candles, 900);
  for (const candle of product.candles.m5) {
    assert.deepEqual(candle, fives.find((other) => other.time === candle.time));
  }
  for (const candle of product.candles.m15) {
    assert.deepEqual(candle, fifteens.find((other) => other.time === candle.time));
  }
  assert.equal(product.candles.m5.length, 14);
});

Deno.test("a missing minute keeps the previous close and the product is not yet stale", () => {
  const market = new CsvMarket(altFixture());
  // LTC misses 08:12; at 08:13 the last LTC bar is 08:11 (closed 08:12).
  const tick = (Date.UTC(2018, 3, 5, 8, 13) / 1000 - market.firstTime) / 60 + 1;
  const ltc = market.tick(tick).snapshot.products.find((p) => p.productId === "LTC-USD")!;
  assert.equal(ltc.ticker.time, "2018-04-05T08:12:00.000Z");
  assert.equal(ltc.stale, false);
  assert.equal(ltc.candles.m1.length, 19);
});

Deno.test("a product with no candle for more than 2 intervals is stale", () => {
  const [btc, eth] = mainFixture();
  const gapStart = 1504411200 + 600; // 04:10
  const holed = {
    ...eth!,
    candles: eth!.candles.filter((c) => c.time < gapStart || c.time >= gapStart + 600),
  };
  const market = new CsvMarket([btc!, holed]);
  const ethAt = (minutes: number) => market.tick(minutes + 1).snapshot.products[1]!;
  assert.equal(ethAt(10).stale, false); // last bar 04:09 closed 04:10
  assert.equal(ethAt(12).stale, false); // exactly 2 intervals old
  assert.equal(ethAt(13).stale, true);
  assert.equal(market.tick(14).priceTicks[1]!.stale, true);
  assert.equal(ethAt(21).stale, false); // 04:20 bar closed at 04:21
});

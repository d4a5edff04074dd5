import assert from "node:assert/strict";
import { encode } from "gpt-tokenizer";
import type { MarketSnapshot } from "../../core/contracts/market.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import {
  parseSnapshotPrompt,
  renderMarket,
  renderSnapshotOriginal,
  renderSnapshotPlain,
  renderSnapshotPrompt,
  sameDecimal,
} from "../../core/market/prompt.ts";
import { altFixture, mainFixture } from "./_fixtures.ts";

function assertLossless(snapshot: MarketSnapshot): void {
  const parsed = parseSnapshotPrompt(renderSnapshotPrompt(snapshot));
  assert.equal(Date.parse(parsed.time), Date.parse(snapshot.time));
  assert.equal(parsed.tick, snapshot.tick);
  assert.equal(parsed.products.length, snapshot.products.length);
  snapshot.products.forEach((product, index) => {
    const back = parsed.products[index]!;
    assert.equal(back.productId, product.productId);
    assert.equal(back.stale, product.stale);
    for (const field of ["price", "bestBid", "bestAsk", "volume24h"] as const) {
      assert.ok(
        sameDecimal(back.ticker[field], product.ticker[field]),
        `${field}: ${back.ticker[field]} vs ${product.ticker[field]}`,
      );
    }
    for (const window of ["m15", "m5", "m1"] as const) {
      assert.equal(back.candles[window].length, product.candles[window].length);
      product.candles[window].forEach((candle, row) => {
        const other = back.candles[window][row]!;
        assert.equal(other.time, candle.time);
        for (const field of ["open", "high", "low", "close", "volume"] as const) {
          assert.ok(sameDecimal(other[field], candle[field]), `${window}[${row}].${field}`);
        }
      });
    }
  });
}

Deno.test("the compact prompt parses back to every value of the snapshot", () => {
  const market = new CsvMarket(mainFixture());
  for (let tick = 1; tick <= market.tickCount; tick += 97) {
    assertLossless(market.tick(tick).snapshot);
  }
});

Deno.test("the compact prompt keeps gaps (a missing LTC minute) and stale marks", () => {
  const market = new CsvMarket(altFixture());
  const tick = (Date.UTC(2018, 3, 5, 8, 20) / 1000 - market.firstTime) / 60 + 1;
  const snapshot = market.tick(tick).snapshot;
  const ltc = snapshot.products[2]!;
  ltc.stale = true;
  assert.equal(ltc.candles.m1.length, 19);
  assert.match(renderSnapshotPrompt(snapshot), /LTC-USD STALE/);
  assertLossless(snapshot);
});

Deno.test("the original layout is a JSON ticker list then CSV rows with 2 decimals", () => {
  const snapshot = new CsvMarket(mainFixture()).tick(1).snapshot;
  const text = renderSnapshotOriginal(snapshot);
  const tickers = JSON.parse(text.slice(text.indexOf("["), text.indexOf("]") + 1));
  assert.deepEqual(tickers.map((ticker: { product_id: string }) => ticker.product_id), [
    "BTC-USD",
    "ETH-USD",
  ]);
  assert.deepEqual(Object.keys(tickers[0]), ["product_id", "price", "best_bid", "best_ask"]);
  const first = snapshot.products[0]!.candles.m15[0]!;
  const time = new Date(first.time * 1000).toISOString().slice(0, 19).replace("T", " ");
  const row = ["BTC-USD", time, first.open, first.high, first.low, first.close, first.volume]
    .map((value, index) => index < 2 ? value : Number(value).toFixed(2)).join(",");
  assert.ok(text.includes(row), `missing row ${row}`);
  const candles = snapshot.products.reduce(
    (sum, product) =>
      sum + product.candles.m15.length + product.candles.m5.length +
      product.candles.m1.length,
    0,
  );
  assert.equal(text.split("\n").filter((line) => /^[A-Z]+-USD,\d{4}-/.test(line)).length, candles);
});

Deno.test("the plain layout prints exchange prices, % change per timeframe and minutes ago", () => {
  const snapshot = new CsvMarket(mainFixture()).tick(1).snapshot;
  const text = renderSnapshotPlain(snapshot);
  const btc = snapshot.products[0]!;
  assert.ok(text.includes(`BTC-USD: price ${btc.ticker.price}, bid ${btc.ticker.bestBid}`));
  assert.match(text, /Change: 15m bars [+-]\d+\.\d\d % \(/);
  const last = btc.candles.m1.at(-1)!;
  const minutesAgo = (Date.parse(snapshot.time) / 1000 - last.time) / 60;
  assert.ok(text.includes(`\n${minutesAgo},${last.open},${last.high},${last.low},${last.close},`));
  assert.ok(!text.includes("px="), "the plain layout has no legend units");
  assert.equal(renderMarket(snapshot, "plain"), text);
  assert.equal(renderMarket(snapshot, "compact"), renderSnapshotPrompt(snapshot));
});

Deno.test("the compact prompt uses at most half the original's tokens", () => {
  const market = new CsvMarket(mainFixture());
  let original = 0;
  let compact = 0;
  for (let tick = 1; tick <= market.tickCount; tick += 120) {
    const snapshot = market.tick(tick).snapshot;
    original += encode(renderSnapshotOriginal(snapshot)).length;
    compact += encode(renderSnapshotPrompt(snapshot)).length;
  }
  assert.ok(compact / original <= 0.5, `ratio ${compact / original}`);
});

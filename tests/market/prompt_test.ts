import assert from "node:assert/strict";
import { encode } from "gpt-tokenizer";
import type { MarketSnapshot } from "../../core/contracts/market.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import {
  parseSnapshotPrompt,
  renderSnapshotOriginal,
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

Deno.test("the original layout has one CSV row per candle with exchange strings", () => {
  const snapshot = new CsvMarket(mainFixture()).tick(1).snapshot;
  const text = renderSnapshotOriginal(snapshot);
  const first = snapshot.products[0]!.candles.m15[0]!;
  assert.ok(
    text.includes(
      `${first.time},${first.low},${first.high},${first.open},${first.close},${first.volume}`,
    ),
  );
  assert.equal(text.split("\n").filter((line) => /^\d{10},/.test(line)).length, 2 * 44);
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

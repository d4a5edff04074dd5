import assert from "node:assert/strict";
import { ProductId } from "../../core/contracts/common.ts";
import { MarketSnapshot, PriceTick } from "../../core/contracts/market.ts";
import { formatMarketTime, MASKED_ORIGIN_MS } from "../../core/market/clock.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import { MarketDecimal } from "../../core/market/decimal.ts";
import {
  candleReplayStart,
  createMarketMask,
  describeMask,
  MASK_FACTORS,
  maskCandles,
  maskedIncrements,
  maskedProductId,
  maskTick,
  unmaskProductId,
} from "../../core/market/mask.ts";
import { renderMarket } from "../../core/market/prompt.ts";
import { altFixture, mainFixture } from "./_fixtures.ts";

const ORIGIN_ISO = "1970-01-02T00:00:00.000Z";

const ALT = altFixture();

function altMask(seed: number) {
  const candles = ALT;
  return createMarketMask(candles.map((product) => product.productId), {
    seed,
    startSeconds: candleReplayStart(candles),
  });
}

Deno.test("formatMarketTime keeps ISO text unmasked and counts from the origin when masked", () => {
  const iso = "2017-09-03T04:05:00.000Z";
  assert.equal(formatMarketTime(iso, false), iso);
  assert.equal(formatMarketTime(ORIGIN_ISO, true), "T+0h00m");
  assert.equal(formatMarketTime("1970-01-02T01:05:00.000Z", true), "T+1h05m");
  assert.equal(formatMarketTime("1970-01-03T02:00:30.000Z", true), "T+26h00m30s");
  assert.equal(formatMarketTime("1970-01-01T23:40:00.000Z", true), "T-0h20m");
  assert.equal(new Date(MASKED_ORIGIN_MS).toISOString(), ORIGIN_ISO);
  assert.throws(() => formatMarketTime("yesterday", true), /ISO-8601 time, got yesterday/);
});

Deno.test("maskedProductId names products ASSETA-USD.. and stays a valid product id", () => {
  assert.equal(maskedProductId(0), "ASSETA-USD");
  assert.equal(maskedProductId(25), "ASSETZ-USD");
  assert.equal(maskedProductId(26), "ASSETAA-USD");
  for (const index of [0, 1, 25, 26, 701, 702, 18_277]) {
    assert.ok(ProductId.safeParse(maskedProductId(index)).success, maskedProductId(index));
  }
  assert.throws(() => maskedProductId(-1), /from 0 to 18277, got -1/);
});

Deno.test("createMarketMask is a function of the seed and shuffles which asset is ASSETA", () => {
  assert.deepEqual(altMask(7), altMask(7));
  const firstOfBtc = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const mask = altMask(seed);
    firstOfBtc.add(mask.products.find((product) => product.productId === "BTC-USD")!.maskedId);
    assert.deepEqual(
      mask.products.map((product) => product.maskedId).sort(),
      ["ASSETA-USD", "ASSETB-USD", "ASSETC-USD"],
    );
  }
  assert.equal(firstOfBtc.size, 3, "BTC-USD got every name over 20 seeds");
});

Deno.test("createMarketMask draws exact factors and increments that scale back exactly", () => {
  const factors = new Set<string>();
  for (let seed = 0; seed < 30; seed++) {
    const mask = altMask(seed);
    assert.equal(mask.origin, ORIGIN_ISO);
    assert.equal(mask.start, "2018-04-05T04:00:00.000Z");
    assert.equal(mask.shiftSeconds, MASKED_ORIGIN_MS / 1000 - Date.parse(mask.start) / 1000);
    for (const product of mask.products) {
      assert.ok(MASK_FACTORS.includes(product.priceFactor));
      assert.ok(MASK_FACTORS.includes(product.volumeFactor));
      factors.add(product.priceFactor);
      assert.equal(product.increment, "0.00000001");
      assert.ok(
        new MarketDecimal(product.maskedIncrement).times(product.priceFactor).eq("0.00000001"),
      );
      // The ledger step divides both grids: masked-increment and 0.00000001 quantities pass.
      assert.match(product.ledgerIncrement, /^0\.0*1$/);
      for (const step of [product.maskedIncrement, "0.00000001"]) {
        assert.ok(new MarketDecimal(step).mod(product.ledgerIncrement).isZero());
      }
    }
    assert.deepEqual(
      maskedIncrements(mask),
      Object.fromEntries(mask.products.map((p) => [p.maskedId, p.maskedIncrement])),
    );
  }
  assert.ok(factors.size >= 15, `factors vary, got ${[...factors].join(" ")}`);
  assert.ok(!MASK_FACTORS.includes("1") && !MASK_FACTORS.includes("10"));
});

Deno.test("createMarketMask refuses bad input with a clear error", () => {
  assert.throws(
    () => createMarketMask(["BTC-USD", "BTC-USD"], { seed: 1, startSeconds: 0 }),
    /must be distinct/,
  );
  assert.throws(() => createMarketMask(["btc"], { seed: 1, startSeconds: 0 }), /like BTC-USD/);
  assert.throws(() => createMarketMask(["BTC-USD"], { seed: 1.5, startSeconds: 0 }), /integer/);
  assert.throws(() => createMarketMask([], { seed: 1, startSeconds: 0 }), /at least one product/);
});

Deno.test("maskTick renames, scales every price and volume exactly and shifts every time", () => {
  const candles = mainFixture();
  const mask = createMarketMask(["BTC-USD", "ETH-USD"], {
    seed: 3,
    startSeconds: candleReplayStart(candles),
  });
  const market = new CsvMarket(candles, { intervalSeconds: 300 });
  const ratio = (masked: string, real: string) => new MarketDecimal(masked).div(real).toString();
  for (const tick of [market.tick(1), market.tick(100)]) {
    const masked = maskTick(tick, mask);
    MarketSnapshot.parse(masked.snapshot);
    assert.equal(masked.snapshot.masked, true);
    assert.equal(
      Date.parse(masked.snapshot.time) - Date.parse(tick.snapshot.time),
      mask.shiftSeconds * 1000,
    );
    for (const [index, real] of tick.snapshot.products.entries()) {
      const product = masked.snapshot.products[index]!;
      const entry = mask.products.find((p) => p.productId === real.productId)!;
      assert.equal(product.productId, entry.maskedId);
      assert.equal(ratio(product.ticker.bestBid, real.ticker.bestBid), entry.priceFactor);
      assert.equal(ratio(product.ticker.bestAsk, real.ticker.bestAsk), entry.priceFactor);
      assert.equal(ratio(product.ticker.volume24h, real.ticker.volume24h), entry.volumeFactor);
      for (const window of ["m15", "m5", "m1"] as const) {
        assert.equal(product.candles[window].length, real.candles[window].length);
        for (const [at, candle] of product.candles[window].entries()) {
          const original = real.candles[window][at]!;
          assert.equal(candle.time, original.time + mask.shiftSeconds);
          assert.equal(ratio(candle.close, original.close), entry.priceFactor);
          assert.equal(ratio(candle.low, original.low), entry.priceFactor);
          assert.equal(ratio(candle.volume, original.volume), entry.volumeFactor);
        }
      }
    }
    for (const [index, priceTick] of masked.priceTicks.entries()) {
      PriceTick.parse(priceTick);
      assert.equal(priceTick.masked, true);
      const real = tick.priceTicks[index]!;
      assert.equal(unmaskProductId(mask, priceTick.productId), real.productId);
    }
  }
  assert.equal(maskTick(market.tick(1), mask).snapshot.time, ORIGIN_ISO);
});

Deno.test("maskCandles renames and shifts, dropping candles a day or more before the start", () => {
  const candles = mainFixture();
  const start = candleReplayStart(candles, 26 * 3600);
  const mask = createMarketMask(["BTC-USD", "ETH-USD"], { seed: 5, startSeconds: start });
  const masked = maskCandles(candles, mask);
  const btc = mask.products.find((product) => product.productId === "BTC-USD")!;
  const maskedBtc = masked.find((product) => product.productId === btc.maskedId)!;
  assert.ok(maskedBtc.candles.every((candle) => candle.time >= 0));
  assert.equal(maskedBtc.candles[0]!.time, 0, "the first kept candle is 24 h before the origin");
  assert.equal(maskedBtc.candles.length, candles[0]!.candles.length - 2 * 60);
  assert.throws(
    () => maskCandles([{ productId: "LTC-USD", candles: [] }], mask),
    /not in the mask/,
  );
});

/**
 * The prompt without its market numbers (data rows of digits, decimals, `key=value` numbers), so
 * a price delta such as 2032 is not taken for a year.
 */
function wordsOf(text: string): string {
  return text.split("\n")
    .filter((line) => !/^[@\d\s.,+-]*$/.test(line))
    .map((line) => line.replace(/=-?\d+(\.\d+)?/g, "=").replace(/\d+\.\d+/g, ""))
    .join("\n");
}

Deno.test("a masked prompt shows no year, no date and no real product name", () => {
  for (const candles of [mainFixture(), altFixture()]) {
    const mask = createMarketMask(candles.map((product) => product.productId), {
      seed: 11,
      startSeconds: candleReplayStart(candles),
    });
    const market = new CsvMarket(candles, { intervalSeconds: 300 });
    for (const tickNumber of [1, 30]) {
      const plain = market.tick(tickNumber).snapshot;
      // The check would catch a leak: the unmasked prompt shows the real date and names.
      assert.match(wordsOf(renderMarket(plain, "compact")), /\b20(17|18)\b/);
      assert.match(renderMarket(plain, "plain"), /BTC-USD/);
      const snapshot = maskTick(market.tick(tickNumber), mask).snapshot;
      for (const format of ["compact", "plain"] as const) {
        const text = renderMarket(snapshot, format);
        assert.doesNotMatch(wordsOf(text), /\b(19|20)\d\d\b/, `${format} prompt shows a year`);
        assert.doesNotMatch(text, /\d{4}-\d\d-\d\d/, `${format} prompt shows an ISO date`);
        assert.doesNotMatch(
          text,
          /BTC|ETH|LTC|bitcoin|ethereum|litecoin/i,
          `${format} prompt names an asset`,
        );
        assert.match(text, /ASSET[ABC]-USD/);
        assert.match(text, tickNumber === 1 ? /T\+0h00m/ : /T\+2h25m/);
      }
    }
  }
});

Deno.test("describeMask lists each product's real name and factors and the real start", () => {
  const lines = describeMask(altMask(2));
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^ASSET[ABC]-USD = BTC-USD: prices x[\d.]+, volumes x[\d.]+/);
  assert.match(lines[3]!, /^T\+0h00m = 2018-04-05T04:00:00.000Z \(seed 2\)$/);
});

import assert from "node:assert/strict";
import {
  aggregateCandles,
  loadCandleCsv,
  productIdFromFileName,
} from "../../core/market/candles.ts";
import { mainFixture } from "./_fixtures.ts";

const HEADER = "time,low,high,open,close,volume";

Deno.test("loadCandleCsv keeps the strings exactly as written", () => {
  const { candles } = loadCandleCsv(
    `${HEADER}\n60,354,354.88,354.10,354.5,0.10000000\n`,
    "ETH-USD",
  );
  assert.deepEqual(candles, [{
    time: 60,
    low: "354",
    high: "354.88",
    open: "354.10",
    close: "354.5",
    volume: "0.10000000",
  }]);
});

Deno.test("loadCandleCsv names the line and the problem", () => {
  assert.throws(
    () => loadCandleCsv(`${HEADER}\n60,1,2,1,2,3\n120,1,2,x,2,3\n`, "BTC-USD"),
    /line 3: open must be a non-negative decimal, got "x"/,
  );
  assert.throws(
    () => loadCandleCsv(`${HEADER}\n120,1,2,1,2,3\n60,1,2,1,2,3\n`, "BTC-USD"),
    /line 3: times must be ascending/,
  );
  assert.throws(() => loadCandleCsv(`${HEADER}\n60,1,2,1,2\n`, "BTC-USD"), /line 2: expected 6/);
  assert.throws(() => loadCandleCsv("a,b\n", "BTC-USD"), /line 1: header must be/);
  assert.throws(
    () => loadCandleCsv(`${HEADER}\n60,1,2,3,2,3\n`, "BTC-USD"),
    /open 3 must lie between low 1 and high 2/,
  );
});

Deno.test("productIdFromFileName reads fixture names", () => {
  assert.equal(productIdFromFileName("fixtures/market/BTC-USD-1m.csv"), "BTC-USD");
  assert.throws(() => productIdFromFileName("prices.csv"), /must look like BTC-USD-1m.csv/);
});

Deno.test("aggregateCandles is exact: open first, close last, min low, max high, summed volume", () => {
  const { candles } = loadCandleCsv(
    [
      HEADER,
      "300,10.5,11,10.6,10.9,0.1",
      "360,10.4,10.95,10.9,10.7,0.2",
      "420,10.6,11.2,10.7,11.1,0.00000001",
      "600,9,9.5,9.1,9.2,1",
    ].join("\n"),
    "BTC-USD",
  );
  assert.deepEqual(aggregateCandles(candles, 300), [
    { time: 300, low: "10.4", high: "11.2", open: "10.6", close: "11.1", volume: "0.30000001" },
    { time: 600, low: "9", high: "9.5", open: "9.1", close: "9.2", volume: "1" },
  ]);
});

Deno.test("the bundled fixtures parse with the documented row counts", () => {
  const [btc, eth] = mainFixture();
  assert.equal(btc!.candles.length, 2880);
  assert.equal(eth!.candles.length, 2880);
  assert.equal(btc!.candles[0]!.close, "4652.69");
});

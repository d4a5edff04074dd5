import assert from "node:assert/strict";
import { parseCandlesBody, parseFrame } from "../../core/market/coinbase.ts";

Deno.test("REST candle rows keep the exact decimal text of the JSON numbers", () => {
  const body = "[[1700000060,4652.10,4660.5,4655,4659.99,1e-8],[1700000000,0.1,0.3,0.2,0.2,12.5]]";
  assert.deepEqual(parseCandlesBody(body), [
    { time: 1700000000, low: "0.1", high: "0.3", open: "0.2", close: "0.2", volume: "12.5" },
    {
      time: 1700000060,
      low: "4652.10",
      high: "4660.5",
      open: "4655",
      close: "4659.99",
      volume: "0.00000001",
    },
  ]);
});

Deno.test("REST candle bodies of another shape are clear errors", () => {
  assert.throws(() => parseCandlesBody('{"message":"slow down"}'), /must be an array of rows/);
  assert.throws(() => parseCandlesBody("[[1,2,3]]"), /row 0 must be 6 numbers/);
  assert.throws(() => parseCandlesBody("<html>"), /not JSON/);
});

Deno.test("ticker frames parse; garbage and unknown types are malformed", () => {
  const ticker = parseFrame(JSON.stringify({
    type: "ticker",
    product_id: "BTC-USD",
    price: "4652.69",
    best_bid: "4652.68",
    best_ask: "4652.70",
    volume_24h: "1234.5",
    time: "2026-01-01T00:00:00Z",
  }));
  assert.deepEqual(ticker, {
    kind: "ticker",
    productId: "BTC-USD",
    ticker: { price: "4652.69", bestBid: "4652.68", bestAsk: "4652.70", volume24h: "1234.5" },
    exchangeTime: "2026-01-01T00:00:00Z",
  });
  assert.equal(parseFrame("not json").kind, "malformed");
  assert.equal(parseFrame('{"type":"ticker","product_id":"BTC-USD","price":12}').kind, "malformed");
  assert.equal(parseFrame('{"type":"surprise"}').kind, "malformed");
  assert.deepEqual(parseFrame('{"type":"error","message":"bad"}'), {
    kind: "error",
    message: "bad",
  });
});

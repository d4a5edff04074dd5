/** Loads the bundled candle fixtures for market tests. */

import { loadCandleCsv, type ProductCandles } from "../../core/market/candles.ts";

const ROOT = new URL("../../fixtures/market/", import.meta.url);

/** Candles of one fixture file, e.g. `BTC-USD-1m.csv` or `alt-2018-04-05/LTC-USD-1m.csv`. */
export function fixtureCandles(file: string, productId: string): ProductCandles {
  return loadCandleCsv(Deno.readTextFileSync(new URL(file, ROOT)), productId);
}

/** The main fixture: BTC-USD and ETH-USD over 48 h of 2017-09-03/04. */
export function mainFixture(): ProductCandles[] {
  return [
    fixtureCandles("BTC-USD-1m.csv", "BTC-USD"),
    fixtureCandles("ETH-USD-1m.csv", "ETH-USD"),
  ];
}

/** The alternative fixture: BTC, ETH and LTC over 2018-04-05 (LTC misses one minute). */
export function altFixture(): ProductCandles[] {
  return ["BTC-USD", "ETH-USD", "LTC-USD"].map((id) =>
    fixtureCandles(`alt-2018-04-05/${id}-1m.csv`, id)
  );
}

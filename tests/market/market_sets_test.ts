import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { ProductId } from "../../core/contracts/common.ts";
import { loadReplaySource } from "../../core/connector/replay.ts";
import { MarketSnapshot } from "../../core/contracts/market.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import {
  loadMarketSet,
  loadMarketSets,
  MARKET_SETS,
  marketSet,
  marketSetOfPath,
  toBaseVolume,
} from "../../core/market/market_sets.ts";

const ROOT = new URL("../../fixtures/market/", import.meta.url);

Deno.test("MARKET_SETS has unique names and folders, perpetuals named *-perp-*", () => {
  const names = MARKET_SETS.map((set) => set.name);
  assert.equal(new Set(names).size, names.length);
  const folders = MARKET_SETS.map((set) => set.folder);
  assert.equal(new Set(folders).size, folders.length);
  assert.equal(MARKET_SETS.length, 10);
  for (const set of MARKET_SETS) {
    assert.equal(set.kind === "perpetual", set.folder.includes("-perp-"), set.name);
  }
  assert.deepEqual(
    MARKET_SETS.filter((set) => set.volumeUnit === "quote").map((set) => set.name),
    ["ftx-perp-2022-01"],
  );
});

Deno.test("every catalogued set's folder holds exactly its products' CSV files", async () => {
  for (const set of MARKET_SETS) {
    const folder = set.folder === "" ? ROOT : new URL(`${set.folder}/`, ROOT);
    const files: string[] = [];
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isFile && entry.name.endsWith(".csv")) files.push(entry.name);
    }
    assert.deepEqual(files.sort(), set.products.map((id) => `${id}-1m.csv`).sort(), set.name);
  }
});

Deno.test("loadMarketSets loads every set with valid product ids and aligned names", async () => {
  const sets = await loadMarketSets();
  assert.deepEqual(sets.map((set) => set.name), MARKET_SETS.map((set) => set.name));
  const ids = new Set<string>();
  for (const [index, set] of sets.entries()) {
    assert.deepEqual(set.candles.map((product) => product.productId), MARKET_SETS[index]!.products);
    for (const product of set.candles) {
      assert.ok(ProductId.safeParse(product.productId).success, product.productId);
      assert.ok(product.candles.length > 1000, `${set.name} ${product.productId}`);
      ids.add(product.productId);
    }
  }
  for (const id of ["BTC-USDT", "BTC-BUSD", "ADA-USDT", "BTC-PERP", "LTC-USD"]) {
    assert.ok(ids.has(id), id);
  }
});

Deno.test("loadMarketSet gives the documented row counts of the new sets", async () => {
  const rows = async (name: string) =>
    (await loadMarketSet(name)).candles.map((product) => product.candles.length);
  assert.deepEqual(await rows("coinbase-2016-10-07"), [4216]);
  assert.deepEqual(await rows("bitstamp-2025-01"), [37772]);
  assert.deepEqual(await rows("dydx-perp-2026-01-01"), [1410]);
  assert.deepEqual(await rows("coinbase-2018-04-06"), [1440, 1440]);
});

Deno.test("FTX volume is converted from USD to BTC by the bar's typical price", async () => {
  const set = await loadMarketSet("ftx-perp-2022-01");
  const first = set.candles[0]!.candles[0]!;
  // Source row: 1640995200,46198.0,46265.0,46224.0,46247.0,12437792.5648 (USD).
  assert.equal(first.close, "46247.0");
  const typical = new Decimal("46265").plus("46198").plus("46247").div(3);
  const expected = new Decimal("12437792.5648").div(typical).toDecimalPlaces(8);
  assert.equal(first.volume, expected.toFixed());
  assert.ok(Number(first.volume) > 12437792.5648 / 46265);
  assert.ok(Number(first.volume) < 12437792.5648 / 46198);
  assert.ok(Number(first.volume) > 200 && Number(first.volume) < 300);
});

Deno.test("loadReplaySource converts the FTX folder's volume exactly like loadMarketSet", async () => {
  const folder = new URL("ftx-perp-2022-01", ROOT).pathname;
  const replay = await loadReplaySource([folder]);
  assert.ok(Array.isArray(replay));
  const set = await loadMarketSet("ftx-perp-2022-01");
  assert.deepEqual(replay[0]!.candles.slice(0, 50), set.candles[0]!.candles.slice(0, 50));
  const other = await loadReplaySource([new URL("bitstamp-2025-01", ROOT).pathname]);
  assert.ok(Array.isArray(other));
  assert.equal(other[0]!.candles[0]!.volume, "0.00114705");
});

Deno.test("toBaseVolume changes only the volume", () => {
  const converted = toBaseVolume({
    productId: "BTC-PERP",
    candles: [{ time: 60, low: "90", high: "110", open: "100", close: "100", volume: "3000" }],
  });
  assert.deepEqual(converted.candles, [
    { time: 60, low: "90", high: "110", open: "100", close: "100", volume: "30" },
  ]);
});

Deno.test("marketSetOfPath finds a set by its folder or a file inside it", () => {
  assert.equal(marketSetOfPath("fixtures/market/ftx-perp-2022-01/")?.name, "ftx-perp-2022-01");
  assert.equal(
    marketSetOfPath("x/ftx-perp-2022-01/BTC-PERP-1m.csv")?.volumeUnit,
    "quote",
  );
  assert.equal(marketSetOfPath("fixtures/market/BTC-USD-1m.csv"), undefined);
  assert.equal(marketSetOfPath("elsewhere/BTC-USD-1m.csv"), undefined);
});

Deno.test("unknown or repeated set names are clear errors naming the valid sets", async () => {
  assert.throws(() => marketSet("nasdaq-2020"), /Unknown market set nasdaq-2020; valid: .*ftx/);
  await assert.rejects(() => loadMarketSet("nope"), /Unknown market set nope/);
  await assert.rejects(
    () => loadMarketSets(["dydx-perp-2026-01-01", "dydx-perp-2026-01-01"]),
    /listed twice/,
  );
  await assert.rejects(() => loadMarketSets([]), /at least one/);
});

Deno.test("sets with missing minutes replay a valid snapshot every minute", async () => {
  for (const name of ["dydx-perp-2026-01-01", "coinbase-2016-10-07"]) {
    const set = await loadMarketSet(name);
    const market = new CsvMarket(set.candles, { intervalSeconds: 60 });
    let ticks = 0;
    for (const tick of market.ticks(1200)) {
      MarketSnapshot.parse(tick.snapshot);
      assert.equal(tick.snapshot.products.length, set.candles.length);
      assert.equal(tick.priceTicks.length, set.candles.length);
      ticks++;
    }
    assert.equal(ticks, 1200, name);
  }
});

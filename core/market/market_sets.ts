/**
 * The catalogue of bundled market data sets (real 1-minute candles under `fixtures/market/`)
 * and their loaders. Provenance, licences and gaps of every set are in
 * `fixtures/market/README.md`.
 *
 * Volume: agents are told volumes in base units (BTC, ETH, ADA, ...), as Coinbase reports them.
 * One set reports volume in the quote currency (`ftx-perp-2022-01`: USD). Its loaders convert it
 * to base units with {@linkcode toBaseVolume} (USD volume / the bar's typical price), so every
 * loaded set, and every prompt built from it, has volumes in base units.
 */

import { Decimal } from "decimal.js";
import { z } from "zod";
import type { CandleSet } from "../arena/windows.ts";
import type { Candle } from "../contracts/market.ts";
import { ProductId } from "../contracts/common.ts";
import { loadCandleCsv, type ProductCandles, productIdFromFileName } from "./candles.ts";
import { MarketDecimal, plainDecimal } from "./decimal.ts";

/** Whether a set's instrument is spot or a perpetual future. */
export type MarketKind = "spot" | "perpetual";

/** The unit of a set's volume column as stored: base asset (BTC) or quote currency (USD). */
export type VolumeUnit = "base" | "quote";

/** One bundled data set. */
export interface MarketSetInfo {
  /** Set name used by tournaments and shown in results, e.g. `ftx-perp-2022-01`. */
  name: string;
  /** Folder under `fixtures/market/` (`""` is the top folder). */
  folder: string;
  /** Exchange (and market) the candles come from. */
  venue: string;
  /** Spot or perpetual future. */
  kind: MarketKind;
  /** Unit of the volume column in the files (loaders always return base units). */
  volumeUnit: VolumeUnit;
  /** Product ids, one file `<product>-1m.csv` each. */
  products: string[];
  /** Window and character of the data in one line. */
  note: string;
}

/** Every bundled set, oldest data first within each source. */
export const MARKET_SETS: readonly MarketSetInfo[] = [
  {
    name: "coinbase-2017-09-03",
    folder: "",
    venue: "Coinbase (GDAX) spot",
    kind: "spot",
    volumeUnit: "base",
    products: ["BTC-USD", "ETH-USD"],
    note: "2017-09-03/04 (48 h): calm day, then a sharp sell-off on 09-04",
  },
  {
    name: "alt-2018-04-05",
    folder: "alt-2018-04-05",
    venue: "Coinbase (GDAX) spot",
    kind: "spot",
    volumeUnit: "base",
    products: ["BTC-USD", "ETH-USD", "LTC-USD"],
    note: "2018-04-05 (24 h): a calmer bear-market day, LTC misses one minute",
  },
  {
    name: "coinbase-2016-10-07",
    folder: "coinbase-2016-10-07",
    venue: "Coinbase (GDAX) spot",
    kind: "spot",
    volumeUnit: "base",
    products: ["BTC-USD"],
    note: "2016-10-07..09 (72 h): sideways, very low volatility, 104 missing minutes",
  },
  {
    name: "coinbase-2017-12-17",
    folder: "coinbase-2017-12-17",
    venue: "Coinbase (GDAX) spot",
    kind: "spot",
    volumeUnit: "base",
    products: ["BTC-USD"],
    note: "2017-12-17 (24 h): blow-off top, all-time high 19891.99, high volatility",
  },
  {
    name: "coinbase-2018-04-06",
    folder: "coinbase-2018-04-06",
    venue: "Coinbase (GDAX) spot",
    kind: "spot",
    volumeUnit: "base",
    products: ["BTC-USD", "LTC-USD"],
    note: "2018-04-06 (24 h): bear-market down day, LTC sell-off",
  },
  {
    name: "bybit-binance-2022-12-13",
    folder: "bybit-binance-2022-12-13",
    venue: "Bybit spot (BTC-USDT), Binance spot (BTC-BUSD)",
    kind: "spot",
    volumeUnit: "base",
    products: ["BTC-BUSD", "BTC-USDT"],
    note: "2022-12-13 (24 h): uptrend on US CPI day, stablecoin-quoted",
  },
  {
    name: "binance-perp-2022-12-13",
    folder: "binance-perp-2022-12-13",
    venue: "Binance USD-M perpetual",
    kind: "perpetual",
    volumeUnit: "base",
    products: ["ADA-USDT"],
    note: "2022-12-13 (24 h): ADA perpetual on US CPI day, uptrend",
  },
  {
    name: "ftx-perp-2022-01",
    folder: "ftx-perp-2022-01",
    venue: "FTX perpetual (defunct)",
    kind: "perpetual",
    volumeUnit: "quote",
    products: ["BTC-PERP"],
    note: "2022-01 (31 d): bear month with the 01-21 crash, sell-offs, chop and quiet days",
  },
  {
    name: "bitstamp-2025-01",
    folder: "bitstamp-2025-01",
    venue: "Bitstamp spot",
    kind: "spot",
    volumeUnit: "base",
    products: ["BTC-USD"],
    note: "2025-01-07..02-02 (27 d): run to an all-time high, then chop; 1107 missing minutes",
  },
  {
    name: "dydx-perp-2026-01-01",
    folder: "dydx-perp-2026-01-01",
    venue: "dYdX v4 perpetual",
    kind: "perpetual",
    volumeUnit: "base",
    products: ["BTC-USD"],
    note: "2026-01-01 (24 h): quiet holiday grind up, 30 missing minutes",
  },
];

/** A bundled set's name, validated against {@linkcode MARKET_SETS}. */
export const MarketSetName: z.ZodType<string> = z.string().refine(
  (name) => MARKET_SETS.some((set) => set.name === name),
  { error: (issue) => `Unknown market set ${String(issue.input)}; valid: ${setNames()}` },
);

const ROOT = new URL("../../fixtures/market/", import.meta.url);
const TYPICAL_PRICE_PARTS = 3;
const BASE_VOLUME_DECIMALS = 8;

function setNames(): string {
  return MARKET_SETS.map((set) => set.name).join(", ");
}

/** The catalogue entry of a set name; throws naming the valid sets when there is none. */
export function marketSet(name: string): MarketSetInfo {
  const parsed = MarketSetName.safeParse(name);
  if (!parsed.success) throw new Error(parsed.error.issues[0]!.message);
  return MARKET_SETS.find((set) => set.name === name)!;
}

/**
 * The catalogue entry whose folder is the last segment of `path` (a folder or a file inside
 * it), e.g. `fixtures/market/ftx-perp-2022-01/BTC-PERP-1m.csv`; undefined for other paths.
 */
export function marketSetOfPath(path: string): MarketSetInfo | undefined {
  const segments = path.split(/[\\/]+/).filter((segment) => segment !== "");
  const last = segments.at(-1) ?? "";
  const folder = last.endsWith(".csv") ? segments.at(-2) : last;
  if (folder === undefined || folder === "") return undefined;
  return MARKET_SETS.find((set) => set.folder === folder);
}

/**
 * Converts candles whose volume is in the quote currency (USD) to base units: volume divided by
 * the bar's typical price (high + low + close) / 3, rounded half-even to 8 decimals. The true
 * base volume of a bar lies between volume / high and volume / low, so the error is at most
 * the bar's range (about 0.1 % for a BTC minute).
 */
export function toBaseVolume(product: ProductCandles): ProductCandles {
  const candles = product.candles.map((candle): Candle => {
    const typical = new MarketDecimal(candle.high).plus(candle.low).plus(candle.close)
      .div(TYPICAL_PRICE_PARTS);
    const base = typical.isZero() ? new MarketDecimal(0) : new MarketDecimal(candle.volume)
      .div(typical).toDecimalPlaces(BASE_VOLUME_DECIMALS, Decimal.ROUND_HALF_EVEN);
    return { ...candle, volume: plainDecimal(base) };
  });
  return { productId: product.productId, candles };
}

/**
 * Loads one bundled set by name: every product's candles, volumes in base units. Product ids
 * come from the file names and must pass the contracts' `ProductId` check.
 */
export async function loadMarketSet(name: string): Promise<CandleSet> {
  const info = marketSet(name);
  const folder = info.folder === "" ? ROOT : new URL(`${info.folder}/`, ROOT);
  const candles = await Promise.all(info.products.map(async (product) => {
    const file = `${product}-1m.csv`;
    const productId = productIdFromFileName(file);
    const checked = ProductId.safeParse(productId);
    if (!checked.success) {
      throw new Error(
        `Market set ${name} has product id ${productId}, which is not like BTC-USD ` +
          `(1-12 capitals or digits, a dash, 2-6 capitals or digits)`,
      );
    }
    const loaded = loadCandleCsv(await Deno.readTextFile(new URL(file, folder)), productId);
    return info.volumeUnit === "quote" ? toBaseVolume(loaded) : loaded;
  }));
  return { name: info.name, candles };
}

/** Loads several bundled sets by name (default every set in {@linkcode MARKET_SETS}). */
export async function loadMarketSets(names?: readonly string[]): Promise<CandleSet[]> {
  const wanted = names ?? MARKET_SETS.map((set) => set.name);
  if (wanted.length === 0) throw new Error(`Market sets must name at least one of ${setNames()}`);
  for (const name of wanted) marketSet(name);
  const duplicate = wanted.find((name, index) => wanted.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw new Error(`Market set ${duplicate} is listed twice; list each set once`);
  }
  return await Promise.all(wanted.map((name) => loadMarketSet(name)));
}

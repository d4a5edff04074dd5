/**
 * Masked (contamination-safe) replay: every current LLM has memorised the real dates, tickers and
 * prices of historical crypto data, so a masked replay renames the products (`ASSETA-USD`, ...
 * in a seeded random order), scales each product's prices and volumes by its own seeded factor
 * and shifts times so the window starts at a fixed synthetic origin (one day after the Unix
 * epoch; prompts show times as `T+1h05m`). The {@linkcode MarketMask} says how, so reports can
 * show the real names, factors and dates after the run.
 *
 * Returns are scale-free: a price factor is a product of powers of 2 and 5 with at most two
 * decimals (so prices stay exact decimals with at most two more places), and each masked
 * product's quantity increment is the real one divided by the same factor (exact, since the
 * factor's reciprocal is a finite decimal). A policy that trades masked data with the masked
 * increments fills the same notionals and earns the same returns as on the real data. The ledger
 * of a masked run accepts any multiple of a power of ten that divides both the masked increment
 * and the usual 0.00000001, so quantities valid unmasked stay valid masked.
 */

import type { Candle, MarketSnapshot, PriceTick, ProductSnapshot } from "../contracts/market.ts";
import { ProductId } from "../contracts/common.ts";
import { Money, moneyString } from "../ledger/money.ts";
import { DEFAULT_INCREMENT, productIncrement } from "../ledger/trade.ts";
import { createPrng, randomInt, seedFrom } from "../prng.ts";
import type { ProductCandles } from "./candles.ts";
import { isoTime, MASKED_ORIGIN_MS } from "./clock.ts";
import { DEFAULT_WARMUP_SECONDS, type MarketTick } from "./csv_market.ts";
import { decimalPlaces, MarketDecimal } from "./decimal.ts";

/**
 * The factors prices and volumes are scaled by: every 2^a x 5^b from x0.05 to x20 with at most
 * two decimals, except powers of ten (they would keep the real digits). Roughly log-uniform.
 */
export const MASK_FACTORS: readonly string[] = [
  "0.05",
  "0.08",
  "0.16",
  "0.2",
  "0.25",
  "0.32",
  "0.4",
  "0.5",
  "0.64",
  "0.8",
  "1.25",
  "1.28",
  "1.6",
  "2",
  "2.5",
  "2.56",
  "3.2",
  "4",
  "5",
  "5.12",
  "6.25",
  "6.4",
  "8",
  "10.24",
  "12.5",
  "12.8",
  "16",
  "20",
];

/** The quote currency every masked product is shown in. */
const MASKED_QUOTE = "USD";

/** How one product is masked. */
export interface MaskedProduct {
  /** The real product id, e.g. `BTC-USD`. */
  productId: string;
  /** The masked product id, e.g. `ASSETB-USD`. */
  maskedId: string;
  /** Masked price = real price x this (exact decimal string). */
  priceFactor: string;
  /** Masked volume = real volume x this (exact decimal string). */
  volumeFactor: string;
  /** The real product's quantity increment. */
  increment: string;
  /** The masked product's quantity increment: the real one divided by the price factor. */
  maskedIncrement: string;
  /**
   * The step the ledger checks masked quantities against: a power of ten dividing both the
   * masked increment and the default increment (so both grids are accepted).
   */
  ledgerIncrement: string;
}

/** How a replay window is masked (publish it only after the run). */
export interface MarketMask {
  /** The seed the mask was drawn from. */
  seed: number;
  /** Real market time (ISO) of the window start. */
  start: string;
  /** Masked market time (ISO) of the window start: always {@linkcode MASKED_ORIGIN_MS}. */
  origin: string;
  /** Seconds added to every real time (masked = real + shiftSeconds). */
  shiftSeconds: number;
  /** One entry per product, in the order given. */
  products: MaskedProduct[];
}

/** Options for {@linkcode createMarketMask}. */
export interface CreateMarketMaskOptions {
  /** Seed of the names' order and the factors: the same seed gives the same mask. */
  seed: number;
  /** Real market time (unix seconds) of the window start; it becomes the masked origin. */
  startSeconds: number;
  /** Real quantity increments by product (default the ledger's product increments). */
  increments?: Readonly<Record<string, string>>;
}

/** Masked product name number `index` (0 -> `ASSETA-USD`, 25 -> `ASSETZ-USD`, 26 -> `ASSETAA-USD`). */
export function maskedProductId(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 26 + 26 ** 2 + 26 ** 3) {
    throw new Error(`Masked product index must be an integer from 0 to 18277, got ${index}`);
  }
  let letters = "";
  for (let rest = index + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + (rest - 1) % 26) + letters;
  }
  return `ASSET${letters}-${MASKED_QUOTE}`;
}

/**
 * Draws a mask for a window: names in a seeded random order (the first product is not always
 * `ASSETA`), and per product a seeded price factor and volume factor from
 * {@linkcode MASK_FACTORS}. The draw depends on the seed and the set of product ids only.
 */
export function createMarketMask(
  productIds: readonly string[],
  options: CreateMarketMaskOptions,
): MarketMask {
  const { seed, startSeconds } = options;
  if (!Number.isSafeInteger(seed)) throw new Error(`Mask seed must be an integer, got ${seed}`);
  if (!Number.isInteger(startSeconds) || startSeconds < 0) {
    throw new Error(`Mask start must be whole unix seconds of 0 or more, got ${startSeconds}`);
  }
  if (productIds.length === 0) throw new Error("A mask needs at least one product, got none");
  for (const id of productIds) {
    if (!ProductId.safeParse(id).success) {
      throw new Error(`Product id must look like BTC-USD, got ${JSON.stringify(id)}`);
    }
  }
  if (new Set(productIds).size !== productIds.length) {
    throw new Error(`Product ids must be distinct, got ${productIds.join(", ")}`);
  }
  const random = createPrng(seedFrom(`market-mask:${seed}`));
  const sorted = [...productIds].sort();
  const labels = sorted.map((_, index) => index);
  for (let index = labels.length - 1; index > 0; index--) {
    const other = randomInt(random, index + 1);
    [labels[index], labels[other]] = [labels[other]!, labels[index]!];
  }
  const drawn = new Map(sorted.map((id, index) => {
    const priceFactor = MASK_FACTORS[randomInt(random, MASK_FACTORS.length)]!;
    const volumeFactor = MASK_FACTORS[randomInt(random, MASK_FACTORS.length)]!;
    return [id, { maskedId: maskedProductId(labels[index]!), priceFactor, volumeFactor }];
  }));
  const products = productIds.map((productId): MaskedProduct => {
    const draw = drawn.get(productId)!;
    const increment = options.increments?.[productId] !== undefined
      ? new Money(options.increments[productId]!)
      : productIncrement(productId);
    const maskedIncrement = increment.div(draw.priceFactor);
    if (!maskedIncrement.times(draw.priceFactor).eq(increment)) {
      throw new Error(
        `Increment ${moneyString(increment)} of ${productId} cannot be divided exactly by ` +
          `${draw.priceFactor}`,
      );
    }
    const places = Math.max(
      decimalPlaces(moneyString(maskedIncrement)),
      decimalPlaces(moneyString(increment)),
      decimalPlaces(DEFAULT_INCREMENT),
    );
    return {
      productId,
      ...draw,
      increment: moneyString(increment),
      maskedIncrement: moneyString(maskedIncrement),
      ledgerIncrement: moneyString(new Money(10).pow(-places)),
    };
  });
  return {
    seed,
    start: isoTime(startSeconds * 1000),
    origin: isoTime(MASKED_ORIGIN_MS),
    shiftSeconds: MASKED_ORIGIN_MS / 1000 - startSeconds,
    products,
  };
}

/**
 * Market time (unix seconds) of the first tick a candle replay of `candles` publishes: the
 * latest first candle plus the warm-up, on a whole minute (as the CSV replay computes it).
 */
export function candleReplayStart(
  candles: readonly ProductCandles[],
  warmupSeconds: number = DEFAULT_WARMUP_SECONDS,
): number {
  if (candles.length === 0) throw new Error("Candle replay needs at least one product, got none");
  const first = Math.max(...candles.map((product) => product.candles[0]?.time ?? 0));
  return Math.ceil((first + warmupSeconds) / 60) * 60;
}

function productOf(mask: MarketMask, productId: string): MaskedProduct {
  const product = mask.products.find((entry) => entry.productId === productId);
  if (!product) {
    throw new Error(
      `Product ${productId} is not in the mask; masked products: ${
        mask.products.map((entry) => entry.productId).join(", ")
      }`,
    );
  }
  return product;
}

/**
 * A decimal string times a factor, exactly, written as the exchange writes it: fixed width
 * (the decimals of both) when the value has trailing zeros (`"4652.60"` x 0.32 =
 * `"1488.8320"`), else without them (`"4725"` x 0.8 = `"3780"`).
 */
function scaled(value: string, factor: string): string {
  const product = new MarketDecimal(value).times(factor);
  return /\.\d*0$/.test(value)
    ? product.toFixed(decimalPlaces(value) + decimalPlaces(factor))
    : product.toFixed();
}

function shiftedIso(iso: string, mask: MarketMask): string {
  return isoTime(Date.parse(iso) + mask.shiftSeconds * 1000);
}

function maskCandle(candle: Candle, product: MaskedProduct, shiftSeconds: number): Candle {
  return {
    time: candle.time + shiftSeconds,
    low: scaled(candle.low, product.priceFactor),
    high: scaled(candle.high, product.priceFactor),
    open: scaled(candle.open, product.priceFactor),
    close: scaled(candle.close, product.priceFactor),
    volume: scaled(candle.volume, product.volumeFactor),
  };
}

function maskProduct(entry: ProductSnapshot, mask: MarketMask): ProductSnapshot {
  const product = productOf(mask, entry.productId);
  const candles = (list: Candle[]) =>
    list.map((candle) => maskCandle(candle, product, mask.shiftSeconds));
  return {
    productId: product.maskedId,
    ticker: {
      price: scaled(entry.ticker.price, product.priceFactor),
      bestBid: scaled(entry.ticker.bestBid, product.priceFactor),
      bestAsk: scaled(entry.ticker.bestAsk, product.priceFactor),
      volume24h: scaled(entry.ticker.volume24h, product.volumeFactor),
      time: shiftedIso(entry.ticker.time, mask),
    },
    stale: entry.stale,
    candles: {
      m15: candles(entry.candles.m15),
      m5: candles(entry.candles.m5),
      m1: candles(entry.candles.m1),
    },
  };
}

/**
 * The masked snapshot: products renamed (in the same order, so order-dependent policies decide
 * alike), prices and volumes scaled, every time shifted, and `masked: true`.
 */
export function maskSnapshot(snapshot: MarketSnapshot, mask: MarketMask): MarketSnapshot {
  return {
    v: snapshot.v,
    tick: snapshot.tick,
    time: shiftedIso(snapshot.time, mask),
    source: snapshot.source,
    masked: true,
    products: snapshot.products.map((product) => maskProduct(product, mask)),
  };
}

/** The masked price tick: product renamed, prices scaled, time shifted, `masked: true`. */
export function maskPriceTick(tick: PriceTick, mask: MarketMask): PriceTick {
  const product = productOf(mask, tick.productId);
  return {
    v: tick.v,
    productId: product.maskedId,
    price: scaled(tick.price, product.priceFactor),
    bestBid: scaled(tick.bestBid, product.priceFactor),
    bestAsk: scaled(tick.bestAsk, product.priceFactor),
    time: shiftedIso(tick.time, mask),
    stale: tick.stale,
    masked: true,
  };
}

/** A replay tick with its snapshot and price ticks masked. */
export function maskTick(tick: MarketTick, mask: MarketMask): MarketTick {
  return {
    snapshot: maskSnapshot(tick.snapshot, mask),
    priceTicks: tick.priceTicks.map((priceTick) => maskPriceTick(priceTick, mask)),
  };
}

/**
 * Masked candles of a window (renamed, scaled, shifted). Candles more than 24 h before the window
 * start would get negative times; they cannot reach any snapshot from the start on (windows look
 * 3 h back, the 24 h volume 24 h) and are left out. Prefer {@linkcode maskTick} for replays:
 * a CSV replay of masked candles synthesises bid and ask on the masked price grid, which is
 * not exactly the real bid and ask scaled.
 */
export function maskCandles(
  candles: readonly ProductCandles[],
  mask: MarketMask,
): ProductCandles[] {
  return candles.map((entry) => {
    const product = productOf(mask, entry.productId);
    return {
      productId: product.maskedId,
      candles: entry.candles
        .filter((candle) => candle.time + mask.shiftSeconds >= 0)
        .map((candle) => maskCandle(candle, product, mask.shiftSeconds)),
    };
  });
}

/**
 * Masked quantity increments by masked product id: what a policy rounds quantities to so it
 * trades the same notionals as unmasked (e.g. `RulesModelOptions.increments`).
 */
export function maskedIncrements(mask: MarketMask): Record<string, string> {
  return Object.fromEntries(
    mask.products.map((product) => [product.maskedId, product.maskedIncrement]),
  );
}

/** The ledger's quantity steps by masked product id (for `TradeConfig.increments`). */
export function ledgerIncrements(mask: MarketMask): Record<string, string> {
  return Object.fromEntries(
    mask.products.map((product) => [product.maskedId, product.ledgerIncrement]),
  );
}

/** The real product id behind a masked one; throws for an id that is not in the mask. */
export function unmaskProductId(mask: MarketMask, maskedId: string): string {
  const product = mask.products.find((entry) => entry.maskedId === maskedId);
  if (!product) {
    throw new Error(
      `Masked product ${maskedId} is not in the mask; masked products: ${
        mask.products.map((entry) => entry.maskedId).join(", ")
      }`,
    );
  }
  return product.productId;
}

/** The mask in words, one line per product then the time origin (for reports after a run). */
export function describeMask(mask: MarketMask): string[] {
  return [
    ...mask.products.map((product) =>
      `${product.maskedId} = ${product.productId}: prices x${product.priceFactor}, volumes ` +
      `x${product.volumeFactor}, quantity step ${product.maskedIncrement}`
    ),
    `T+0h00m = ${mask.start} (seed ${mask.seed})`,
  ];
}

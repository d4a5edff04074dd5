/**
 * The rules policies: pure, deterministic trading decisions per strategy over a market snapshot
 * and a portfolio view (no randomness, no wall clock). The offline `rules` model plays them
 * through the same tool-calling protocol as an LLM.
 */

import { Decimal } from "decimal.js";
import type { Candle, MarketSnapshot, ProductSnapshot } from "../contracts/market.ts";
import type { PortfolioView, PositionView } from "../contracts/portfolio.ts";
import { DEFAULT_INCREMENT, DEFAULT_TRADE_CONFIG, PRODUCT_INCREMENTS } from "../ledger/trade.ts";
import type { RulesPolicyId } from "./strategies.ts";

/** One order a policy wants placed. `quantity` is a decimal string on the product's increment. */
export interface RulesOrder {
  /** Product to trade. */
  productId: string;
  /** Buy or sell. */
  action: "buy" | "sell";
  /** Units of the product. */
  quantity: string;
  /** Why, in a few words. */
  reason: string;
}

/** A policy's decision: orders (possibly none) and a one-line summary. */
export interface RulesDecision {
  /** Orders to place, in order. */
  orders: RulesOrder[];
  /** Human-readable reasoning, starting with `rules:`. */
  summary: string;
}

/** Trend of one product on each timeframe: relative change from first open to last close. */
export interface Trend {
  /** 15-minute window change, e.g. 0.004 for +0.4 %. */
  m15: number;
  /** 5-minute window change. */
  m5: number;
  /** 1-minute window change. */
  m1: number;
}

/** Buys are sized so that notional plus fee fits: spend / (ask x (1 + this)). */
const FEE_HEADROOM = 0.01;
/** Orders below this notional (USD) are not placed. */
const MIN_NOTIONAL = 10;

/** Relative change over a candle window (first open to last close); 0 when empty. */
export function windowChange(candles: Candle[]): number {
  const first = candles[0];
  const last = candles[candles.length - 1];
  if (!first || !last) return 0;
  const open = new Decimal(first.open);
  if (open.isZero()) return 0;
  return new Decimal(last.close).minus(open).div(open).toNumber();
}

/** Trend of one product on the three timeframes. */
export function productTrend(product: ProductSnapshot): Trend {
  return {
    m15: windowChange(product.candles.m15),
    m5: windowChange(product.candles.m5),
    m1: windowChange(product.candles.m1),
  };
}

/**
 * Rounds a quantity down to the product's increment (from `increments`, else the ledger's);
 * returns a plain decimal string.
 */
export function roundDownQuantity(
  productId: string,
  quantity: Decimal.Value,
  increments?: Readonly<Record<string, string>>,
): string {
  const step = new Decimal(
    increments?.[productId] ?? PRODUCT_INCREMENTS[productId] ?? DEFAULT_INCREMENT,
  );
  const units = new Decimal(quantity).div(step).floor();
  return units.times(step).toFixed();
}

function pct(value: number): string {
  return `${value >= 0 ? "+" : ""}${(value * 100).toFixed(2)}%`;
}

function buyOrder(
  product: ProductSnapshot,
  spendUsd: Decimal,
  reason: string,
  increments?: Readonly<Record<string, string>>,
): RulesOrder | undefined {
  const ask = new Decimal(product.ticker.bestAsk);
  if (ask.lte(0) || spendUsd.lt(MIN_NOTIONAL)) return undefined;
  const quantity = roundDownQuantity(
    product.productId,
    spendUsd.div(ask.times(1 + FEE_HEADROOM)),
    increments,
  );
  if (new Decimal(quantity).times(ask).lt(MIN_NOTIONAL)) return undefined;
  return { productId: product.productId, action: "buy", quantity, reason };
}

function sellAll(
  position: PositionView,
  reason: string,
  increments?: Readonly<Record<string, string>>,
): RulesOrder | undefined {
  const quantity = roundDownQuantity(position.productId, position.quantity, increments);
  if (new Decimal(quantity).lte(0)) return undefined;
  return { productId: position.productId, action: "sell", quantity, reason };
}

/** Change of the best bid over the position's average cost (what selling now would realise). */
function bidOverCost(product: ProductSnapshot, position: PositionView): number {
  const cost = new Decimal(position.averageCost);
  if (cost.isZero()) return 0;
  return new Decimal(product.ticker.bestBid).minus(cost).div(cost).toNumber();
}

/** Options of the policies. */
export interface RulesOptions {
  /** Quantity increments by product (e.g. a masked replay's); default the ledger's. */
  increments?: Readonly<Record<string, string>>;
  /**
   * Taker fee of the desk in basis points (default the ledger's 60): the policies' profit targets
   * and trend filters clear the round trip (twice this) before they trade.
   */
  takerFeeBps?: number;
}

/** Round-trip fee as a fraction (buy plus sell) for the options' taker fee. */
export function roundTripFee(options: RulesOptions = {}): number {
  const bpsValue = options.takerFeeBps ?? DEFAULT_TRADE_CONFIG.takerFeeBps;
  if (!(bpsValue >= 0)) throw new Error(`Taker fee must be 0 bps or more, got ${bpsValue}`);
  return 2 * bpsValue / 10_000;
}

interface Book {
  products: ProductSnapshot[];
  positions: Map<string, PositionView>;
  cash: Decimal;
  equity: Decimal;
  increments?: Readonly<Record<string, string>>;
  /** Round-trip fee as a fraction. */
  roundTrip: number;
}

function book(snapshot: MarketSnapshot, portfolio: PortfolioView, options: RulesOptions): Book {
  const positions = new Map<string, PositionView>();
  for (const position of portfolio.positions) {
    if (new Decimal(position.quantity).gt(0)) positions.set(position.productId, position);
  }
  return {
    products: snapshot.products.filter((product) => !product.stale),
    positions,
    cash: new Decimal(portfolio.cash),
    equity: new Decimal(portfolio.equity),
    increments: options.increments,
    roundTrip: roundTripFee(options),
  };
}

function summarize(strategy: RulesPolicyId, orders: RulesOrder[], idle: string): RulesDecision {
  if (orders.length === 0) return { orders, summary: `rules (${strategy}): ${idle}` };
  const parts = orders.map((order) =>
    `${order.action} ${order.quantity} ${order.productId} (${order.reason})`
  );
  return { orders, summary: `rules (${strategy}): ${parts.join("; ")}` };
}

/**
 * Momentum: buys when the 15m, 5m and 1m windows all rise and the 15m rise is larger than the
 * round-trip fee (a weaker trend cannot pay for the trade), about a fifth of equity per product;
 * sells a position when the 5m and 1m windows both turn down, or it is 2 % under cost.
 */
export function decideMomentum(
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions = {},
): RulesDecision {
  const { products, positions, cash, equity, increments, roundTrip } = book(
    snapshot,
    portfolio,
    options,
  );
  const orders: RulesOrder[] = [];
  let available = cash;
  for (const product of products) {
    const trend = productTrend(product);
    const held = positions.get(product.productId);
    const text = `15m ${pct(trend.m15)}, 5m ${pct(trend.m5)}, 1m ${pct(trend.m1)}`;
    if (held) {
      const change = bidOverCost(product, held);
      if (trend.m5 < 0 && trend.m1 < 0) {
        const order = sellAll(held, `reversal on 5m and 1m: ${text}`, increments);
        if (order) orders.push(order);
      } else if (change <= -0.02) {
        const order = sellAll(held, `cutting a loser at ${pct(change)} vs cost`, increments);
        if (order) orders.push(order);
      }
      continue;
    }
    if (trend.m15 > roundTrip && trend.m5 > 0 && trend.m1 > 0) {
      const spend = Decimal.min(equity.times(0.2), available.times(0.95));
      const order = buyOrder(
        product,
        spend,
        `momentum up on 3 timeframes: ${text}`,
        increments,
      );
      if (order) {
        orders.push(order);
        available = available.minus(spend);
      }
    }
  }
  return summarize("momentum", orders, "no trend agreement across timeframes, holding");
}

/**
 * Brainrot: takes profit on positions 5 % or more above cost after the round-trip fee, never
 * sells at a loss, and puts half its cash into the product pumping hardest on the 1m window.
 */
export function decideBrainrot(
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions = {},
): RulesDecision {
  const { products, positions, cash, increments, roundTrip } = book(snapshot, portfolio, options);
  const orders: RulesOrder[] = [];
  for (const product of products) {
    const held = positions.get(product.productId);
    if (!held) continue;
    const change = bidOverCost(product, held);
    if (change >= 0.05 + roundTrip) {
      const order = sellAll(held, `taking the W at ${pct(change)}`, increments);
      if (order) orders.push(order);
    }
  }
  let rocket: ProductSnapshot | undefined;
  let best = 0;
  for (const product of products) {
    const m1 = productTrend(product).m1;
    if (m1 > best) {
      best = m1;
      rocket = product;
    }
  }
  if (rocket && !orders.some((order) => order.productId === rocket.productId)) {
    const order = buyOrder(rocket, cash.times(0.5), `sending it: 1m ${pct(best)}`, increments);
    if (order) orders.push(order);
  }
  return summarize(
    "brainrot",
    orders,
    "nothing pumping and never selling at a loss, diamond hands",
  );
}

/**
 * Scalper: exits a position at +0.3 % net of the round-trip fee (take profit: bid vs average cost
 * of +0.3 % + 2 x fee), at the stop, or after the hold limit; enters 5 % of equity on a product
 * whose last three 1m closes rise. Stop and hold limit scale with the target so the shape stays:
 * frictionless -0.2 % and 15 min; at 60 bps a side the target is +1.5 %, the stop -1.0 % and the
 * hold limit 75 min (a +0.3 % target against a 1.2 % round trip could never win).
 */
export function decideScalper(
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions = {},
): RulesDecision {
  const { products, positions, cash, equity, increments, roundTrip } = book(
    snapshot,
    portfolio,
    options,
  );
  const target = 0.003 + roundTrip;
  const scale = target / 0.003;
  const stop = 0.002 * scale;
  const holdLimit = 15 * scale;
  const orders: RulesOrder[] = [];
  let available = cash;
  for (const product of products) {
    const held = positions.get(product.productId);
    if (held) {
      const change = bidOverCost(product, held);
      let reason: string | undefined;
      if (change >= target - 1e-12) reason = `take profit at ${pct(change)}`;
      else if (change <= -stop + 1e-12) reason = `stop loss at ${pct(change)}`;
      else if (held.averageHoldMinutes >= holdLimit) {
        reason = `held ${held.averageHoldMinutes} min`;
      }
      if (reason) {
        const order = sellAll(held, reason, increments);
        if (order) orders.push(order);
      }
      continue;
    }
    const closes = product.candles.m1.slice(-3).map((candle) => new Decimal(candle.close));
    const rising = closes.length === 3 && closes[0]!.lt(closes[1]!) && closes[1]!.lt(closes[2]!);
    if (rising) {
      const spend = Decimal.min(equity.times(0.05), available.times(0.95));
      const order = buyOrder(product, spend, "three rising 1m closes", increments);
      if (order) {
        orders.push(order);
        available = available.minus(spend);
      }
    }
  }
  return summarize("scalper", orders, "no quick setup, flat");
}

/** Runs the policy of a strategy. */
export function decideRules(
  strategy: RulesPolicyId,
  input: { snapshot: MarketSnapshot; portfolio: PortfolioView } & RulesOptions,
): RulesDecision {
  switch (strategy) {
    case "momentum":
      return decideMomentum(input.snapshot, input.portfolio, input);
    case "brainrot":
      return decideBrainrot(input.snapshot, input.portfolio, input);
    case "scalper":
      return decideScalper(input.snapshot, input.portfolio, input);
  }
}

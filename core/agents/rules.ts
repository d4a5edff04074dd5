/**
 * The rules policies: pure, deterministic trading decisions per strategy over a market snapshot
 * and a portfolio view (no randomness, no wall clock). The offline `rules` model plays them
 * through the same tool-calling protocol as an LLM.
 *
 * Every buy carries its exit plan: the levels of the policy's profit target and stop as prices
 * (from the ask the buy fills at), which the trading desk holds and fills at the bid of the quote
 * that crosses them, and a confidence from the strength of the entry signal
 * ({@linkcode signalConfidence}). A policy checks a level itself only on a position that does not
 * carry it (one opened before the desk held exits); its signal-based exits stay its own.
 */

import { Decimal } from "decimal.js";
import type { Candle, MarketSnapshot, ProductSnapshot } from "../contracts/market.ts";
import type { PortfolioView, PositionView } from "../contracts/portfolio.ts";
import { DEFAULT_INCREMENT, DEFAULT_TRADE_CONFIG, PRODUCT_INCREMENTS } from "../ledger/trade.ts";
import { decimalPlaces } from "../market/decimal.ts";
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
  /** Buys: price at which the desk closes the position at a loss (below the bid). */
  stopLoss?: string;
  /** Buys: price at which the desk closes the position at a profit (above the bid). */
  takeProfit?: string;
  /** Buys: confidence from 0 to 1 that the position pays (see {@linkcode signalConfidence}). */
  confidence?: number;
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
/** Stop and target prices keep at least this many significant digits (and the quote's decimals). */
const PRICE_SIGNIFICANT_DIGITS = 6;
/** Momentum's stop: 2 % under the entry. */
const MOMENTUM_STOP = 0.02;
/** Brainrot's target: 5 % over its average cost, after the round-trip fee. */
const BRAINROT_PROFIT = 0.05;
/** Signal moves that give full confidence: 15m trend beyond the round trip (momentum). */
const MOMENTUM_FULL_SIGNAL = 0.04;
/** Rise over the last three 1m closes that gives full confidence (scalper). */
const SCALPER_FULL_SIGNAL = 0.005;
/** 1m-window pump that gives full confidence (brainrot). */
const BRAINROT_FULL_SIGNAL = 0.02;

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

/**
 * Confidence of an entry from the strength of its signal: 0.5 (a coin flip) plus 0.4 x
 * min(1, move / fullScale), two decimals, so 0.5 to 0.9. The policies' moves and scales:
 * momentum the 15m trend beyond the round-trip fee over 4 %, scalper the rise of the last three
 * 1m closes over 0.5 %, brainrot the 1m-window pump over 2 %.
 */
export function signalConfidence(move: number, fullScale: number): number {
  if (!(fullScale > 0)) throw new Error(`Full scale must be positive, got ${fullScale}`);
  const strength = Math.min(1, Math.max(0, move / fullScale));
  return Math.round((0.5 + 0.4 * strength) * 100) / 100;
}

/** What a buy states beside its quantity: why, its exit levels and its confidence. */
export interface EntryPlan {
  /** Why, in a few words. */
  reason: string;
  /** Stop as a fraction under the entry (e.g. 0.01); none when the policy holds losers. */
  stop?: number;
  /** Target as a fraction over the entry; none when the policy lets winners run. */
  target?: number;
  /** Confidence from 0 to 1. */
  confidence: number;
}

/**
 * The stop and target prices of a long entered at `entry`, rounded to the quote's decimals (and at
 * least {@linkcode PRICE_SIGNIFICANT_DIGITS} significant digits); undefined when a level would not
 * be on its side of the bid (e.g. a spread wider than the stop), as the desk would refuse it.
 */
export function exitLevels(
  entry: Decimal,
  options: { bid: string; plan: EntryPlan },
): Pick<RulesOrder, "stopLoss" | "takeProfit"> | undefined {
  const { plan } = options;
  const bid = new Decimal(options.bid);
  const places = Math.max(decimalPlaces(options.bid), PRICE_SIGNIFICANT_DIGITS - 1 - bid.e);
  const levels: Pick<RulesOrder, "stopLoss" | "takeProfit"> = {};
  if (plan.stop !== undefined) {
    const stop = entry.times(1 - plan.stop).toDecimalPlaces(places);
    if (stop.gte(bid) || stop.lte(0)) return undefined;
    levels.stopLoss = stop.toFixed();
  }
  if (plan.target !== undefined) {
    const target = entry.times(1 + plan.target).toDecimalPlaces(places);
    if (target.lte(bid)) return undefined;
    levels.takeProfit = target.toFixed();
  }
  return levels;
}

function pct(value: number): string {
  return `${value >= 0 ? "+" : ""}${(value * 100).toFixed(2)}%`;
}

/**
 * A buy of about `spendUsd` at the ask with its plan; the levels are set from the ask, or from
 * the average cost after the buy when it adds to `held`. Undefined when too small or when a
 * level would be on the wrong side of the bid.
 */
function buyOrder(
  product: ProductSnapshot,
  spendUsd: Decimal,
  options: { plan: EntryPlan; held?: PositionView; increments?: Readonly<Record<string, string>> },
): RulesOrder | undefined {
  const ask = new Decimal(product.ticker.bestAsk);
  if (ask.lte(0) || spendUsd.lt(MIN_NOTIONAL)) return undefined;
  const quantity = roundDownQuantity(
    product.productId,
    spendUsd.div(ask.times(1 + FEE_HEADROOM)),
    options.increments,
  );
  const notional = new Decimal(quantity).times(ask);
  if (notional.lt(MIN_NOTIONAL)) return undefined;
  const held = options.held;
  const entry = held
    ? new Decimal(held.quantity).times(held.averageCost).plus(notional)
      .div(new Decimal(held.quantity).plus(quantity))
    : ask;
  const levels = exitLevels(entry, { bid: product.ticker.bestBid, plan: options.plan });
  if (!levels) return undefined;
  return {
    productId: product.productId,
    action: "buy",
    quantity,
    reason: options.plan.reason,
    ...levels,
    confidence: options.plan.confidence,
  };
}

/** Buys `share` of equity (at most 95 % of the cash left) into `orders`; returns the cash left. */
function buyShare(
  orders: RulesOrder[],
  product: ProductSnapshot,
  options: {
    share: number;
    equity: Decimal;
    available: Decimal;
    plan: EntryPlan;
    increments?: Readonly<Record<string, string>>;
  },
): Decimal {
  const spend = Decimal.min(options.equity.times(options.share), options.available.times(0.95));
  const order = buyOrder(product, spend, options);
  if (!order) return options.available;
  orders.push(order);
  return options.available.minus(spend);
}

/** The sale of a whole position, or nothing when it rounds to zero units. */
function sellAll(
  position: PositionView,
  reason: string,
  increments?: Readonly<Record<string, string>>,
): RulesOrder[] {
  const quantity = roundDownQuantity(position.productId, position.quantity, increments);
  if (new Decimal(quantity).lte(0)) return [];
  return [{ productId: position.productId, action: "sell", quantity, reason }];
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
 * round-trip fee (a weaker trend cannot pay for the trade), about a fifth of equity per product,
 * with a stop 2 % under the entry and no target (winners run); sells a position when the 5m and
 * 1m windows both turn down. Confidence grows with the 15m trend beyond the round trip.
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
        orders.push(...sellAll(held, `reversal on 5m and 1m: ${text}`, increments));
      } else if (held.stopLoss === undefined && change <= -MOMENTUM_STOP) {
        orders.push(...sellAll(held, `cutting a loser at ${pct(change)} vs cost`, increments));
      }
      continue;
    }
    if (trend.m15 > roundTrip && trend.m5 > 0 && trend.m1 > 0) {
      available = buyShare(orders, product, {
        share: 0.2,
        equity,
        available,
        increments,
        plan: {
          reason: `momentum up on 3 timeframes: ${text}`,
          stop: MOMENTUM_STOP,
          confidence: signalConfidence(trend.m15 - roundTrip, MOMENTUM_FULL_SIGNAL),
        },
      });
    }
  }
  return summarize("momentum", orders, "no trend agreement across timeframes, holding");
}

/**
 * Brainrot: puts half its cash into the product pumping hardest on the 1m window (averaging into
 * a position it holds), with a target 5 % over the average cost after the round-trip fee and no
 * stop: it never sells at a loss. Confidence grows with the pump.
 */
export function decideBrainrot(
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions = {},
): RulesDecision {
  const { products, positions, cash, increments, roundTrip } = book(snapshot, portfolio, options);
  const orders: RulesOrder[] = [];
  const target = BRAINROT_PROFIT + roundTrip;
  for (const product of products) {
    const held = positions.get(product.productId);
    if (!held || held.takeProfit !== undefined) continue;
    const change = bidOverCost(product, held);
    if (change >= target) {
      orders.push(...sellAll(held, `taking the W at ${pct(change)}`, increments));
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
    const order = buyOrder(rocket, cash.times(0.5), {
      held: positions.get(rocket.productId),
      increments,
      plan: {
        reason: `sending it: 1m ${pct(best)}`,
        target,
        confidence: signalConfidence(best, BRAINROT_FULL_SIGNAL),
      },
    });
    if (order) orders.push(order);
  }
  return summarize(
    "brainrot",
    orders,
    "nothing pumping and never selling at a loss, diamond hands",
  );
}

/**
 * Scalper: enters 5 % of equity on a product whose last three 1m closes rise, with a target of
 * +0.3 % net of the round-trip fee (+0.3 % + 2 x fee over the entry) and a stop; exits on its own
 * after the hold limit. Stop and hold limit scale with the target so the shape stays:
 * frictionless -0.2 % and 15 min; at 60 bps a side the target is +1.5 %, the stop -1.0 % and the
 * hold limit 75 min (a +0.3 % target against a 1.2 % round trip could never win). Confidence
 * grows with the rise of the three closes.
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
      if (held.takeProfit === undefined && change >= target - 1e-12) {
        reason = `take profit at ${pct(change)}`;
      } else if (held.stopLoss === undefined && change <= -stop + 1e-12) {
        reason = `stop loss at ${pct(change)}`;
      } else if (held.averageHoldMinutes >= holdLimit) {
        reason = `held ${held.averageHoldMinutes} min`;
      }
      if (reason) orders.push(...sellAll(held, reason, increments));
      continue;
    }
    const closes = product.candles.m1.slice(-3).map((candle) => new Decimal(candle.close));
    const rising = closes.length === 3 && closes[0]!.lt(closes[1]!) && closes[1]!.lt(closes[2]!);
    if (rising) {
      available = buyShare(orders, product, {
        share: 0.05,
        equity,
        available,
        increments,
        plan: {
          reason: "three rising 1m closes",
          stop,
          target,
          confidence: signalConfidence(
            closes[2]!.div(closes[0]!).minus(1).toNumber(),
            SCALPER_FULL_SIGNAL,
          ),
        },
      });
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

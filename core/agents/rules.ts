/**
 * The rules policies: pure, deterministic trading decisions per strategy over a market snapshot
 * and a portfolio view (no randomness, no wall clock). The offline `rules` model plays them
 * through the same tool-calling protocol as an LLM.
 *
 * Every entry carries its exit plan: the levels of the policy's profit target and stop as prices
 * (from the quote the entry fills at), which the trading desk holds and fills at the quote that
 * crosses them, and a confidence from the strength of the entry signal
 * ({@linkcode signalConfidence}). A policy checks a level itself only on a position that does not
 * carry it (one opened before the desk held exits); its signal-based exits stay its own.
 *
 * On a margin desk the policies use what it allows: momentum sells short a falling market when
 * shorts are on, and each policy borrows up to a leverage of its own ({@linkcode POLICY_LEVERAGE},
 * capped by the desk's maximum), its share of equity then being the margin it puts up. On the
 * default spot desk they trade as before: long only, unlevered.
 */

import { Decimal } from "decimal.js";
import type { Candle, MarketSnapshot, ProductSnapshot } from "../contracts/market.ts";
import type { PositionSide } from "../contracts/ledger.ts";
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
  /** Entries on a margin desk: leverage above 1 (absent: unlevered). */
  leverage?: number;
  /** Entries: price at which the desk closes the position at a loss (beyond the closing quote). */
  stopLoss?: string;
  /** Entries: price at which the desk closes the position at a profit. */
  takeProfit?: string;
  /** Entries: confidence from 0 to 1 that the position pays (see {@linkcode signalConfidence}). */
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

/**
 * Entries are sized so that margin plus fee fits the spend: notional = spend / (1 / leverage +
 * this), at leverage 1 spend / (price x 1.01).
 */
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

/**
 * The leverage each policy asks for on a desk that allows it (the desk's maximum caps it):
 * momentum 2x behind its 2 % stop, the scalper 3x behind its tight stop, brainrot 10x with no
 * stop at all (so its positions can be liquidated).
 */
export const POLICY_LEVERAGE: Readonly<Record<RulesPolicyId, number>> = {
  momentum: 2,
  scalper: 3,
  brainrot: 10,
};

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
 * The stop and target prices of a position entered at `entry`, rounded to the quote's decimals
 * (and at least {@linkcode PRICE_SIGNIFICANT_DIGITS} significant digits): a long's stop under the
 * entry and target over it, a short's the other way round. Undefined when a level would not be on
 * its side of the closing quote (the bid for a long, the ask for a short; e.g. a spread wider than
 * the stop), as the desk would refuse it.
 */
export function exitLevels(
  entry: Decimal,
  options: { closingQuote: string; side?: PositionSide; plan: EntryPlan },
): Pick<RulesOrder, "stopLoss" | "takeProfit"> | undefined {
  const { plan } = options;
  const quote = new Decimal(options.closingQuote);
  const places = Math.max(
    decimalPlaces(options.closingQuote),
    PRICE_SIGNIFICANT_DIGITS - 1 - quote.e,
  );
  // +1 for a long (profit above the quote), -1 for a short (profit below it).
  const direction = options.side === "short" ? -1 : 1;
  const levels: Pick<RulesOrder, "stopLoss" | "takeProfit"> = {};
  if (plan.stop !== undefined) {
    const stop = entry.times(1 - direction * plan.stop).toDecimalPlaces(places);
    if (stop.minus(quote).times(direction).gte(0) || stop.lte(0)) return undefined;
    levels.stopLoss = stop.toFixed();
  }
  if (plan.target !== undefined) {
    const target = entry.times(1 + direction * plan.target).toDecimalPlaces(places);
    if (target.minus(quote).times(direction).lte(0) || target.lte(0)) return undefined;
    levels.takeProfit = target.toFixed();
  }
  return levels;
}

function pct(value: number): string {
  return `${value >= 0 ? "+" : ""}${(value * 100).toFixed(2)}%`;
}

/** How an entry is placed: its side, leverage and plan, and the position it adds to. */
interface EntryOptions {
  plan: EntryPlan;
  /** Long (a buy, the default) or short (a sell with nothing held). */
  side?: PositionSide;
  /** Leverage to ask for (1: none). */
  leverage: number;
  held?: PositionView;
  increments?: Readonly<Record<string, string>>;
}

/**
 * An entry putting up about `spendUsd` (margin and fee) at the quote it fills at (the ask for a
 * long, the bid for a short) with its plan; the levels are set from that quote, or from the
 * average cost after the entry when it adds to `held`. Undefined when too small or when a level
 * would be on the wrong side of the closing quote.
 */
function entryOrder(
  product: ProductSnapshot,
  spendUsd: Decimal,
  options: EntryOptions,
): RulesOrder | undefined {
  const short = options.side === "short";
  const price = new Decimal(short ? product.ticker.bestBid : product.ticker.bestAsk);
  if (price.lte(0) || spendUsd.lt(MIN_NOTIONAL)) return undefined;
  const perUnit = price.times(new Decimal(1).div(options.leverage).plus(FEE_HEADROOM));
  const quantity = roundDownQuantity(product.productId, spendUsd.div(perUnit), options.increments);
  const notional = new Decimal(quantity).times(price);
  if (notional.lt(MIN_NOTIONAL)) return undefined;
  const held = options.held;
  const entry = held
    ? new Decimal(held.quantity).times(held.averageCost).plus(notional)
      .div(new Decimal(held.quantity).plus(quantity))
    : price;
  const levels = exitLevels(entry, {
    closingQuote: short ? product.ticker.bestAsk : product.ticker.bestBid,
    side: options.side,
    plan: options.plan,
  });
  if (!levels) return undefined;
  return {
    productId: product.productId,
    action: short ? "sell" : "buy",
    quantity,
    reason: options.plan.reason,
    ...(options.leverage > 1 ? { leverage: options.leverage } : {}),
    ...levels,
    confidence: options.plan.confidence,
  };
}

/**
 * Enters with `share` of equity as margin (at most 95 % of the cash left) into `orders`; returns
 * the cash left.
 */
function enterShare(
  orders: RulesOrder[],
  product: ProductSnapshot,
  options: EntryOptions & { share: number; equity: Decimal; available: Decimal },
): Decimal {
  const spend = Decimal.min(options.equity.times(options.share), options.available.times(0.95));
  const order = entryOrder(product, spend, options);
  if (!order) return options.available;
  orders.push(order);
  return options.available.minus(spend);
}

/**
 * The order closing a whole position (a sale of a long, a buy covering a short), or nothing when
 * it rounds to zero units.
 */
function closeAll(
  position: PositionView,
  reason: string,
  increments?: Readonly<Record<string, string>>,
): RulesOrder[] {
  const quantity = roundDownQuantity(position.productId, position.quantity, increments);
  if (new Decimal(quantity).lte(0)) return [];
  const action = position.side === "short" ? "buy" : "sell";
  return [{ productId: position.productId, action, quantity, reason }];
}

/**
 * What closing now would realise over the position's average cost, as a fraction: the bid over
 * cost for a long, cost over the ask for a short.
 */
function closeOverCost(product: ProductSnapshot, position: PositionView): number {
  const cost = new Decimal(position.averageCost);
  if (cost.isZero()) return 0;
  const change = position.side === "short"
    ? cost.minus(product.ticker.bestAsk)
    : new Decimal(product.ticker.bestBid).minus(cost);
  return change.div(cost).toNumber();
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
  /** Whether the desk lets a sell with nothing held open a short (default off). */
  allowShort?: boolean;
  /** The desk's highest leverage (default 1); caps {@linkcode POLICY_LEVERAGE}. */
  maxLeverage?: number;
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
  /** Whether shorts are allowed. */
  allowShort: boolean;
  /** The policy's leverage on this desk. */
  leverage: number;
}

function book(
  strategy: RulesPolicyId,
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions,
): Book {
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
    allowShort: options.allowShort ?? false,
    leverage: Math.max(1, Math.min(POLICY_LEVERAGE[strategy], options.maxLeverage ?? 1)),
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
 * round-trip fee (a weaker trend cannot pay for the trade), a fifth of equity per product as
 * margin, with a stop 2 % under the entry and no target (winners run); sells a position when the
 * 5m and 1m windows both turn down. With shorts allowed it mirrors this on a falling market: sells
 * short on three falling windows (stop 2 % over the entry) and covers when the 5m and 1m windows
 * both turn up. Confidence grows with the 15m trend beyond the round trip.
 */
export function decideMomentum(
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions = {},
): RulesDecision {
  const { products, positions, cash, equity, increments, roundTrip, allowShort, leverage } = book(
    "momentum",
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
      const change = closeOverCost(product, held);
      const short = held.side === "short";
      if (short ? trend.m5 > 0 && trend.m1 > 0 : trend.m5 < 0 && trend.m1 < 0) {
        orders.push(...closeAll(held, `reversal on 5m and 1m: ${text}`, increments));
      } else if (held.stopLoss === undefined && change <= -MOMENTUM_STOP) {
        orders.push(...closeAll(held, `cutting a loser at ${pct(change)} vs cost`, increments));
      }
      continue;
    }
    const entry = { share: 0.2, equity, available, increments, leverage };
    if (trend.m15 > roundTrip && trend.m5 > 0 && trend.m1 > 0) {
      available = enterShare(orders, product, {
        ...entry,
        plan: {
          reason: `momentum up on 3 timeframes: ${text}`,
          stop: MOMENTUM_STOP,
          confidence: signalConfidence(trend.m15 - roundTrip, MOMENTUM_FULL_SIGNAL),
        },
      });
    } else if (allowShort && trend.m15 < -roundTrip && trend.m5 < 0 && trend.m1 < 0) {
      available = enterShare(orders, product, {
        ...entry,
        side: "short",
        plan: {
          reason: `momentum down on 3 timeframes: ${text}`,
          stop: MOMENTUM_STOP,
          confidence: signalConfidence(-trend.m15 - roundTrip, MOMENTUM_FULL_SIGNAL),
        },
      });
    }
  }
  return summarize("momentum", orders, "no trend agreement across timeframes, holding");
}

/**
 * Brainrot: puts half its cash into the product pumping hardest on the 1m window (averaging into
 * a position it holds), with a target 5 % over the average cost after the round-trip fee and no
 * stop: it never sells at a loss. On a margin desk that half is the margin of a 10x position
 * (the desk's maximum if lower), which the desk liquidates when the loss eats it. Long only.
 * Confidence grows with the pump.
 */
export function decideBrainrot(
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions = {},
): RulesDecision {
  const { products, positions, cash, increments, roundTrip, leverage } = book(
    "brainrot",
    snapshot,
    portfolio,
    options,
  );
  const orders: RulesOrder[] = [];
  const target = BRAINROT_PROFIT + roundTrip;
  for (const product of products) {
    const held = positions.get(product.productId);
    if (!held || held.takeProfit !== undefined) continue;
    const change = closeOverCost(product, held);
    if (change >= target) {
      orders.push(...closeAll(held, `taking the W at ${pct(change)}`, increments));
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
    const order = entryOrder(rocket, cash.times(0.5), {
      held: positions.get(rocket.productId),
      increments,
      leverage,
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
 * hold limit 75 min (a +0.3 % target against a 1.2 % round trip could never win). On a margin
 * desk the 5 % is the margin of a 3x position (the desk's maximum if lower). Long only.
 * Confidence grows with the rise of the three closes.
 */
export function decideScalper(
  snapshot: MarketSnapshot,
  portfolio: PortfolioView,
  options: RulesOptions = {},
): RulesDecision {
  const { products, positions, cash, equity, increments, roundTrip, leverage } = book(
    "scalper",
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
      const change = closeOverCost(product, held);
      let reason: string | undefined;
      if (held.takeProfit === undefined && change >= target - 1e-12) {
        reason = `take profit at ${pct(change)}`;
      } else if (held.stopLoss === undefined && change <= -stop + 1e-12) {
        reason = `stop loss at ${pct(change)}`;
      } else if (held.averageHoldMinutes >= holdLimit) {
        reason = `held ${held.averageHoldMinutes} min`;
      }
      if (reason) orders.push(...closeAll(held, reason, increments));
      continue;
    }
    const closes = product.candles.m1.slice(-3).map((candle) => new Decimal(candle.close));
    const rising = closes.length === 3 && closes[0]!.lt(closes[1]!) && closes[1]!.lt(closes[2]!);
    if (rising) {
      available = enterShare(orders, product, {
        share: 0.05,
        equity,
        available,
        increments,
        leverage,
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

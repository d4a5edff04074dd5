/**
 * The random policy: a seeded trader with no view of the market, used as a luck baseline. It is
 * matched to another agent's activity in the same window: the same number of trades, spread over
 * random ticks, and the same traded notional (turnover), each trade a coin flip between buying a
 * random product and selling part of a random holding. An entry's rank among such traders says
 * how much of its result its trading pattern alone (count, size, fees) would give by chance.
 * Deterministic for a seed: the schedule and every draw come from the seed, the agent's tick and
 * the portfolio, never from the wall clock.
 *
 * Each buy states a confidence drawn uniformly from the rules policies' range (0.5 to 0.9, via
 * `signalConfidence` of a random strength) on a stream of its own, so the trades are those of the
 * same seed without confidences, and the trader's calibration is the no-skill baseline of an entry
 * that states confidences. It states no stop or target: engine exits would add trades the
 * matched count and turnover do not include.
 *
 * On a margin desk it trades what the desk allows, so an entry that shorts or borrows meets a
 * baseline that could have done the same: with shorts on, each new position is a coin flip
 * between long and short (drawn on a stream of its own, so the schedule, products and sizes are
 * those of the spot trader), and each entry borrows the least leverage, up to the desk's maximum,
 * that lets it trade its share of the turnover with the cash it has. Its leveraged positions can
 * be liquidated; those exits are trades the matched count does not include.
 */

import { Decimal } from "decimal.js";
import type { MarketSnapshot } from "../contracts/market.ts";
import type { PortfolioView } from "../contracts/portfolio.ts";
import { createPrng, randomInt, seedFrom } from "../prng.ts";
import {
  afterEntry,
  marginOf,
  type Position,
  type PositionAmounts,
  reduction,
} from "../ledger/account.ts";
import { Money, toMoney } from "../ledger/money.ts";
import {
  roundDownQuantity,
  type RulesDecision,
  type RulesOrder,
  signalConfidence,
} from "./rules.ts";

/** What one random trader matches in one window. */
export interface RandomTarget {
  /** Trades to place over the window. */
  trades: number;
  /** Traded notional to reach over the window (USD, buys plus sells). */
  notional: string;
  /** Decision ticks in the window (the feed's ticks 1..ticks). */
  ticks: number;
  /** Seed of this trader (32-bit integer). */
  seed: number;
}

/** Options for {@linkcode decideRandom}. */
export interface RandomDecisionOptions {
  /** The trader's target in this window. */
  target: RandomTarget;
  /** Taker fee in basis points, so buys fit the cash with their fee (default 60). */
  takerFeeBps?: number;
  /** Whether a sell with nothing held opens a short (default off). */
  allowShort?: boolean;
  /** The desk's highest leverage (default 1). */
  maxLeverage?: number;
}

/** One holding as the trader tracks it within a decision (the ledger's amounts). */
type Holding = PositionAmounts & Pick<Position, "side">;

/**
 * The least whole leverage from 1 to `maxLeverage` at which `notional` plus its fee fits `cash`
 * (with 0.1 % headroom), else `maxLeverage`.
 */
function leverageFor(
  notional: Decimal,
  cash: Decimal,
  feeRate: Decimal,
  maxLeverage: number,
): number {
  for (let leverage = 1; leverage < maxLeverage; leverage++) {
    if (notional.times(new Decimal(1).div(leverage).plus(0.001).plus(feeRate)).lte(cash)) {
      return leverage;
    }
  }
  return maxLeverage;
}

/** Orders below this notional (USD) are not placed (as in the rules policies). */
const MIN_NOTIONAL = 10;

/**
 * Trades per tick (index 0 is tick 1): `trades` ticks drawn uniformly with replacement from the
 * seed, so several trades may fall on one tick when there are more trades than ticks.
 */
export function randomSchedule(target: RandomTarget): number[] {
  if (!Number.isInteger(target.ticks) || target.ticks < 1) {
    throw new Error(`Ticks must be a positive integer, got ${target.ticks}`);
  }
  if (!Number.isInteger(target.trades) || target.trades < 0) {
    throw new Error(`Trades must be a non-negative integer, got ${target.trades}`);
  }
  const schedule: number[] = new Array(target.ticks).fill(0);
  const random = createPrng(target.seed);
  for (let i = 0; i < target.trades; i++) schedule[randomInt(random, target.ticks)]!++;
  return schedule;
}

/**
 * The random trader's orders at one tick: as many as its schedule puts on `snapshot.tick`, each
 * of notional / trades USD, an entry into a random product (a buy, or on a margin desk possibly a
 * short sale and borrowed) or a reduction of a random holding.
 */
export function decideRandom(
  input: { snapshot: MarketSnapshot; portfolio: PortfolioView },
  options: RandomDecisionOptions,
): RulesDecision {
  const { snapshot, portfolio } = input;
  const { target } = options;
  const count = randomSchedule(target)[snapshot.tick - 1] ?? 0;
  const idle = { orders: [], summary: "random: no trade scheduled this tick, holding" };
  if (count === 0) return idle;
  const perTrade = new Decimal(target.notional).div(target.trades);
  const feeRate = new Decimal(options.takerFeeBps ?? 60).div(10_000);
  const products = snapshot.products.filter((product) =>
    !product.stale && new Decimal(product.ticker.bestAsk).gt(0)
  );
  const held = new Map<string, Holding>();
  for (const position of portfolio.positions) {
    const quantity = new Decimal(position.quantity);
    if (quantity.lte(0)) continue;
    held.set(position.productId, {
      side: position.side,
      quantity: toMoney(position.quantity),
      costBasis: toMoney(position.costBasis),
      margin: toMoney(position.margin),
    });
  }
  const maxLeverage = options.maxLeverage ?? 1;
  let cash = new Decimal(portfolio.cash);
  const random = createPrng(seedFrom(`${target.seed}:${snapshot.tick}`));
  const confidence = createPrng(seedFrom(`${target.seed}:${snapshot.tick}:confidence`));
  const direction = createPrng(seedFrom(`${target.seed}:${snapshot.tick}:side`));
  const orders: RulesOrder[] = [];
  for (let i = 0; i < count; i++) {
    const holdings = [...held.keys()].filter((id) => products.some((p) => p.productId === id));
    const canBuy = products.length > 0 && cash.gt(MIN_NOTIONAL * 2);
    const sell = holdings.length > 0 && (!canBuy || random() < 0.5);
    if (sell) {
      const productId = holdings[randomInt(random, holdings.length)]!;
      const product = products.find((p) => p.productId === productId)!;
      const holding = held.get(productId)!;
      const short = holding.side === "short";
      const price = new Decimal(short ? product.ticker.bestAsk : product.ticker.bestBid);
      const have = holding.quantity;
      const want = price.gt(0) ? perTrade.div(price) : have;
      let quantity = new Decimal(roundDownQuantity(productId, Decimal.min(have, want)));
      if (quantity.times(price).lt(MIN_NOTIONAL)) {
        quantity = new Decimal(roundDownQuantity(productId, have));
      }
      if (quantity.lte(0)) continue;
      orders.push({
        productId,
        action: short ? "buy" : "sell",
        quantity: quantity.toFixed(),
        reason: "coin flip",
      });
      const notional = quantity.times(price);
      const closed = reduction(holding, {
        quantity: new Money(quantity),
        notional: new Money(notional),
        fee: new Money(notional.times(feeRate)),
      });
      cash = cash.plus(closed.returned);
      holding.quantity = holding.quantity.minus(quantity);
      holding.costBasis = holding.costBasis.minus(closed.removed);
      holding.margin = holding.margin.minus(closed.released);
      if (holding.quantity.lte(0)) held.delete(productId);
      continue;
    }
    if (!canBuy) continue;
    const product = products[randomInt(random, products.length)]!;
    const holding = held.get(product.productId);
    const short = holding
      ? holding.side === "short"
      : options.allowShort === true && direction() < 0.5;
    const price = new Decimal(short ? product.ticker.bestBid : product.ticker.bestAsk);
    if (price.lte(0)) continue;
    const leverage = leverageFor(perTrade, cash, feeRate, maxLeverage);
    const perNotional = new Decimal(1).div(leverage).plus(0.001).plus(feeRate);
    const spend = Decimal.min(perTrade, cash.div(perNotional));
    const quantity = new Decimal(roundDownQuantity(product.productId, spend.div(price)));
    if (quantity.times(price).lt(MIN_NOTIONAL)) continue;
    orders.push({
      productId: product.productId,
      action: short ? "sell" : "buy",
      quantity: quantity.toFixed(),
      reason: "coin flip",
      ...(leverage > 1 ? { leverage } : {}),
      confidence: signalConfidence(confidence(), 1),
    });
    const notional = new Money(quantity.times(price));
    const margin = marginOf(notional, leverage);
    held.set(product.productId, {
      side: short ? "short" : "long",
      ...afterEntry(holding, { quantity: new Money(quantity), notional, margin }),
    });
    cash = cash.minus(margin).minus(notional.times(feeRate));
  }
  if (orders.length === 0) return { orders, summary: "random: nothing to trade, holding" };
  const parts = orders.map((order) => `${order.action} ${order.quantity} ${order.productId}`);
  return { orders, summary: `random: ${parts.join("; ")}` };
}

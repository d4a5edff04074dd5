/** Trade validation and execution as a pure function: an event to publish, or a refusal. */

import { Decimal } from "decimal.js";
import {
  type AccountOpened,
  MAX_INVALIDATION_LENGTH,
  MAX_REFUSAL_LENGTH,
  type PositionSide,
  type TradeExecuted,
  type TradeRefused,
} from "../contracts/ledger.ts";
import type { DeskTerms } from "../contracts/desk.ts";
import type { PriceTick } from "../contracts/market.ts";
import { type Account, afterEntry, marginOf, reduction } from "./account.ts";
import { belowMaintenance, liquidationPrice, type MarginedPosition } from "./margin.ts";
import { bps, Money, moneyString, roundedString, ZERO } from "./money.ts";

/**
 * Smallest quantity step per product (base increment). Coinbase lists 0.00000001 for BTC, ETH,
 * LTC and SOL and 0.1 for FARTCOIN; any other product uses {@linkcode DEFAULT_INCREMENT}.
 */
export const PRODUCT_INCREMENTS: Readonly<Record<string, string>> = {
  "BTC-USD": "0.00000001",
  "ETH-USD": "0.00000001",
  "LTC-USD": "0.00000001",
  "SOL-USD": "0.00000001",
  "FARTCOIN-USD": "0.1",
};

/** Quantity step of products missing from {@linkcode PRODUCT_INCREMENTS}. */
export const DEFAULT_INCREMENT = "0.00000001";

/** Largest quantity accepted in one trade, in base units (guards against absurd input). */
export const MAX_QUANTITY = "1000000000000";

/** Fee and slippage settings of the trading desk. */
export interface TradeConfig {
  /** Taker fee in basis points of the notional (default 60; 0 is frictionless). */
  takerFeeBps: number;
  /** Price slippage in basis points against the trader (default 0). */
  slippageBps: number;
  /** Quantity increments by product; missing products use {@linkcode DEFAULT_INCREMENT}. */
  increments?: Readonly<Record<string, string>>;
  /** Whether a sell with nothing held opens a short (default false: spot, long only). */
  allowShort?: boolean;
  /** Highest leverage a trade may ask for (default 1: no borrowing). */
  maxLeverage?: number;
  /**
   * Whether models are offered the exit plan and confidence fields (default: on a margin desk,
   * off on a spot one, where a real 1.5B model wrote them all as null and looped). Trades that
   * carry them are accepted either way (the rules model always states them).
   */
  exitPlans?: boolean;
}

/** Whether the desk offers models the exit plan and confidence fields (see `exitPlans`). */
export function offersExitPlans(config: TradeConfig): boolean {
  return config.exitPlans ?? (config.allowShort === true || (config.maxLeverage ?? 1) > 1);
}

/** The terms a desk with this config states on the tool catalog. */
export function deskTermsOf(config: TradeConfig): DeskTerms {
  return {
    takerFeeBps: config.takerFeeBps,
    slippageBps: config.slippageBps,
    allowShort: config.allowShort ?? false,
    maxLeverage: config.maxLeverage ?? 1,
    exitPlans: offersExitPlans(config),
  };
}

/** Highest `--max-leverage` accepted (a guard against absurd settings). */
export const LEVERAGE_CEILING = 100;

/** Default desk: 60 bps taker fee, no slippage, Coinbase increments. */
export const DEFAULT_TRADE_CONFIG: TradeConfig = { takerFeeBps: 60, slippageBps: 0 };

/** Default starting cash of a new account in USD. */
export const DEFAULT_STARTING_CASH = "100000";

/** A trade as requested by an agent (quantity as the model sent it). */
export interface TradeRequest {
  /** Agent name from the tool context. */
  agent: string;
  /** Tool call id from the tool context (the exactly-once key). */
  toolCallId: string;
  /** Product id such as `BTC-USD`. */
  productId: string;
  /** Units of the base currency, as a number or numeric string. */
  quantity: number | string;
  /** `buy` or `sell`. */
  action: "buy" | "sell";
  /** Market tick the decision belongs to, when known. */
  tick?: number;
  /** Leverage of an opening or adding trade (default 1). */
  leverage?: number;
  /** Stop-loss price for the position after the trade (number or numeric string). */
  stopLoss?: number | string;
  /** Take-profit price for the position after the trade. */
  takeProfit?: number | string;
  /** The agent's condition for being wrong (kept with the position, shown back to it). */
  invalidation?: string;
  /** The agent's confidence from 0 to 1. */
  confidence?: number;
}

/** Outcome of {@linkcode executeTrade}. */
export type TradeDecision =
  | { ok: true; event: TradeExecuted }
  | { ok: false; reason: string };

/** Options for {@linkcode executeTrade}. */
export interface ExecuteTradeOptions {
  /** Latest price tick of the product, or undefined when none was ever seen. */
  price: PriceTick | undefined;
  /** Fee, slippage and increments. */
  config: TradeConfig;
  /** Market-clock time of the fill (default the later of the tick's and the account opening). */
  time?: string;
  /** Products with a fresh price, named when the requested product has none (default none). */
  pricedProducts?: readonly string[];
  /**
   * Refuses a quote older than `maxAgeMs` at market time `nowMs` (ms), even when the feed did
   * not mark it stale (a feed that is gone marks nothing). Default: no age limit.
   */
  quoteAge?: { nowMs: number; maxAgeMs: number };
}

/** The refusal text of a quote older than the limit, or undefined when it is fresh enough. */
export function quoteAgeRefusal(
  price: PriceTick,
  limit: { nowMs: number; maxAgeMs: number },
): string | undefined {
  const ageMs = limit.nowMs - Date.parse(price.time);
  if (!(ageMs > limit.maxAgeMs)) return undefined;
  return `The price of ${price.productId} is stale: its last quote (${price.time}) is ${
    (ageMs / 1000).toFixed(1)
  } s old on the market clock and fills need a quote at most ${
    limit.maxAgeMs / 1000
  } s old; no trades until a fresh quote arrives`;
}

/** Quantity step of a product. */
export function productIncrement(productId: string, config?: TradeConfig): Money {
  return new Money(
    config?.increments?.[productId] ?? PRODUCT_INCREMENTS[productId] ?? DEFAULT_INCREMENT,
  );
}

/** A model-written unsigned number: decimal or exponent form, an optional leading `+`. */
const POSITIVE_NUMBER = /^\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a model-supplied quantity: a positive finite decimal on the product's increment. */
export function parseQuantity(
  value: number | string,
  options: { productId: string; config?: TradeConfig },
): { ok: true; quantity: Money } | { ok: false; reason: string } {
  const increment = productIncrement(options.productId, options.config);
  const step = `a multiple of ${
    moneyString(increment)
  } ${options.productId} (the product's increment)`;
  let quantity: Money;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      return { ok: false, reason: `Quantity must be a finite number, got ${value}` };
    }
    quantity = new Money(value);
  } else {
    const text = value.trim();
    if (!POSITIVE_NUMBER.test(text)) {
      return {
        ok: false,
        reason: `Quantity must be a positive decimal number such as 0.5, got ${
          JSON.stringify(value.slice(0, 40))
        }`,
      };
    }
    quantity = new Money(text.replace(/^\+/, ""));
  }
  if (!quantity.isFinite()) {
    return { ok: false, reason: `Quantity must be a finite number, got ${String(value)}` };
  }
  if (quantity.lte(0)) {
    return {
      ok: false,
      reason: `Quantity must be positive, got ${moneyString(quantity)}; use ${step}`,
    };
  }
  if (quantity.gt(MAX_QUANTITY)) {
    return {
      ok: false,
      reason: `Quantity must be at most ${MAX_QUANTITY}, got ${moneyString(quantity)}`,
    };
  }
  if (!quantity.mod(increment).isZero()) {
    return {
      ok: false,
      reason: `Quantity ${moneyString(quantity)} is not ${step}; e.g. ${
        moneyString(quantity.toNearest(increment, Decimal.ROUND_DOWN))
      }`,
    };
  }
  return { ok: true, quantity };
}

/** Fill price of a side: best ask (buy) or best bid (sell) moved against the trader by slippage. */
export function fillPriceOf(
  quote: Money,
  options: { side: "buy" | "sell"; slippageBps: number },
): Money {
  const slip = bps(options.slippageBps);
  return options.side === "buy" ? quote.times(slip.plus(1)) : quote.times(new Money(1).minus(slip));
}

/**
 * Largest quantity on the product's increment whose margin at the quote (the ask for a buy, the
 * bid for a short sale) plus the fee fits the cash; `leverage` defaults to 1 (the whole notional).
 */
export function maxAffordableQuantity(
  cash: Money,
  options: {
    bestAsk: Money;
    productId: string;
    config: TradeConfig;
    leverage?: number;
    side?: "buy" | "sell";
  },
): Money {
  const leverage = options.leverage ?? 1;
  const price = fillPriceOf(options.bestAsk, {
    side: options.side ?? "buy",
    slippageBps: options.config.slippageBps,
  });
  if (price.lte(0)) return ZERO;
  const feeRate = bps(options.config.takerFeeBps);
  const perUnit = price.times(new Money(1).div(leverage).plus(feeRate));
  const increment = productIncrement(options.productId, options.config);
  const cost = (quantity: Money) => {
    const notional = quantity.times(price);
    return marginOf(notional, leverage).plus(notional.times(feeRate));
  };
  let quantity = cash.div(perUnit).toNearest(increment, Decimal.ROUND_DOWN);
  // The division is rounded to 40 digits: step down until the exact cost fits.
  for (let steps = 0; quantity.gt(0) && cost(quantity).gt(cash) && steps < 1_000; steps++) {
    quantity = quantity.minus(increment);
  }
  return Money.max(quantity, ZERO);
}

/** Deterministic event id of a trade (the same tool call always yields the same id). */
export function tradeEventId(agent: string, toolCallId: string): string {
  return `trade:${agent}:${toolCallId}`;
}

/** Deterministic event id of a refusal (the same tool call always yields the same id). */
export function refusalEventId(agent: string, toolCallId: string): string {
  return `refusal:${agent}:${toolCallId}`;
}

/** Builds the event recording that a trade request was refused with `reason`. */
export function tradeRefusedEvent(
  request: Pick<TradeRequest, "agent" | "toolCallId" | "tick">,
  options: { reason: string; time: string },
): TradeRefused {
  const reason = options.reason.length > MAX_REFUSAL_LENGTH
    ? `${options.reason.slice(0, MAX_REFUSAL_LENGTH - 1)}…`
    : options.reason;
  return {
    v: 1,
    type: "trade_refused",
    eventId: refusalEventId(request.agent, request.toolCallId),
    agent: request.agent,
    toolCallId: request.toolCallId,
    reason,
    time: options.time,
    ...(request.tick === undefined ? {} : { tick: request.tick }),
  };
}

/** Builds the opening event of a new account. */
export function accountOpenedEvent(
  agent: string,
  options: { cash: string; time: string },
): AccountOpened {
  return {
    v: 1,
    type: "account_opened",
    eventId: `open:${agent}`,
    agent,
    cash: moneyString(new Money(options.cash)),
    time: options.time,
  };
}

function validRange(
  account: Account,
  side: "buy" | "sell",
  options: { price: PriceTick; config: TradeConfig },
): string {
  const productId = options.price.productId;
  const position = account.positions.get(productId);
  if (position && (position.side === "long") !== (side === "buy")) {
    return `you hold a ${position.side} of ${moneyString(position.quantity)} ${productId}`;
  }
  if (side === "sell" && !options.config.allowShort) {
    return `you hold ${moneyString(position?.quantity ?? ZERO)} ${productId}`;
  }
  const max = maxAffordableQuantity(account.cash, {
    bestAsk: new Money(options.price.bestAsk),
    productId,
    config: options.config,
  });
  return `cash is ${roundedString(account.cash, 2)} USD, enough for at most ${
    moneyString(max)
  } ${productId}`;
}

function holdingsText(account: Account): string {
  const held = [...account.positions.values()]
    .map((position) =>
      `${position.side === "short" ? "short " : ""}${
        moneyString(position.quantity)
      } ${position.productId}`
    );
  return held.length === 0 ? "no positions" : held.join(", ");
}

/**
 * Validates and prices a trade against an account and the latest quote. Pure: returns the
 * {@linkcode TradeExecuted} event to publish (and then apply), or a refusal saying what was
 * wrong and what would be valid. Does not change the account.
 */
export function executeTrade(
  account: Account,
  request: TradeRequest,
  options: ExecuteTradeOptions,
): TradeDecision {
  const { config, price } = options;
  const productId = request.productId;
  const cashText = `cash is ${roundedString(account.cash, 2)} USD`;
  if (!price) {
    const priced = [...(options.pricedProducts ?? [])].sort();
    const available = priced.length === 0 ? "none yet, waiting for price data" : priced.join(", ");
    return {
      ok: false,
      reason:
        `No price for ${productId} has been seen yet, so it cannot be traded; products with a fresh price: ${available} (${cashText}, holdings: ${
          holdingsText(account)
        })`,
    };
  }
  if (price.stale) {
    return {
      ok: false,
      reason:
        `The price of ${productId} is stale (last quote at ${price.time}); no trades until a fresh quote arrives`,
    };
  }
  const aged = options.quoteAge ? quoteAgeRefusal(price, options.quoteAge) : undefined;
  if (aged) return { ok: false, reason: aged };
  const parsed = parseQuantity(request.quantity, { productId, config });
  if (!parsed.ok) {
    return {
      ok: false,
      reason: `${parsed.reason} (${validRange(account, request.action, { price, config })})`,
    };
  }
  const quantity = parsed.quantity;
  const side = request.action;
  const held = account.positions.get(productId);
  const positionSide: PositionSide = held?.side ?? (side === "buy" ? "long" : "short");
  const opens = (positionSide === "long") === (side === "buy");
  if (opens && positionSide === "short" && !config.allowShort) {
    return {
      ok: false,
      reason: `Insufficient holdings: you hold 0 ${productId} and shorting is off in this arena, ` +
        `so there is nothing to sell (${cashText}, holdings: ${holdingsText(account)})`,
    };
  }
  const quote = new Money(side === "buy" ? price.bestAsk : price.bestBid);
  if (quote.lte(0)) {
    return {
      ok: false,
      reason: `The ${side === "buy" ? "best ask" : "best bid"} of ${productId} is ${
        moneyString(quote)
      }, so it cannot be traded now`,
    };
  }
  const terms = tradeTerms(request, { opens, positionSide, price, config });
  if (!terms.ok) return terms;
  const fillPrice = fillPriceOf(quote, { side, slippageBps: config.slippageBps });
  const notional = quantity.times(fillPrice);
  const fee = notional.times(bps(config.takerFeeBps));
  let cashAfter: Money;
  let margin: Money | undefined;
  if (opens) {
    margin = marginOf(notional, terms.leverage);
    cashAfter = account.cash.minus(margin).minus(fee);
    if (cashAfter.isNegative()) {
      const max = maxAffordableQuantity(account.cash, {
        bestAsk: quote,
        productId,
        config,
        leverage: terms.leverage,
        side,
      });
      const locked = terms.leverage === 1 && positionSide === "long"
        ? ""
        : ` (margin ${roundedString(margin, 2)} USD at leverage ${terms.leverage})`;
      return {
        ok: false,
        reason: `Insufficient cash: ${side === "buy" ? "buying" : "shorting"} ${
          moneyString(quantity)
        } ${productId} at ${moneyString(fillPrice)} costs ${
          roundedString(margin.plus(fee), 2)
        } USD${locked} including a ${
          roundedString(fee, 2)
        } USD fee (${config.takerFeeBps} bps); ${cashText}, so ${side} at most ${
          moneyString(max)
        } ${productId}`,
      };
    }
  } else {
    const position = held!;
    if (position.quantity.lt(quantity)) {
      const holding = position.side === "long"
        ? `you hold ${moneyString(position.quantity)} ${productId}`
        : `you are short ${moneyString(position.quantity)} ${productId}`;
      return {
        ok: false,
        reason: `Insufficient holdings: ${holding}, so ${side} at most ${
          moneyString(position.quantity)
        } (tried ${moneyString(quantity)}); close a position before opening the other side`,
      };
    }
    cashAfter = account.cash.plus(reduction(position, { quantity, notional, fee }).returned);
  }
  const after: MarginedPosition | undefined = opens
    ? {
      side: positionSide,
      ...afterEntry(held, { quantity, notional, margin: margin! }),
      takerFeeBps: config.takerFeeBps,
    }
    // A partial close keeps the liquidation price (margin and cost leave pro rata).
    : held!.quantity.gt(quantity)
    ? held
    : undefined;
  const stopRefusal = after && stopPastLiquidation(after, terms.plan.stopLoss, {
    productId,
    leveraged: opens && terms.leverage > 1,
  });
  if (stopRefusal) return { ok: false, reason: stopRefusal };
  const spot = positionSide === "long" && terms.leverage === 1;
  return {
    ok: true,
    event: {
      v: 1,
      type: "trade_executed",
      eventId: tradeEventId(request.agent, request.toolCallId),
      agent: request.agent,
      toolCallId: request.toolCallId,
      productId,
      side,
      quantity: moneyString(quantity),
      fillPrice: moneyString(fillPrice),
      quotePrice: moneyString(quote),
      notional: moneyString(notional),
      fee: moneyString(fee),
      takerFeeBps: config.takerFeeBps,
      slippageBps: config.slippageBps,
      cashAfter: moneyString(cashAfter),
      time: fillTime(options.time ?? price.time, account.openedAt),
      ...(request.tick === undefined ? {} : { tick: request.tick }),
      ...(positionSide === "short" ? { position: "short" as const } : {}),
      ...(opens && terms.leverage > 1 ? { leverage: terms.leverage } : {}),
      ...(margin && !spot ? { margin: moneyString(margin) } : {}),
      ...terms.plan,
    },
  };
}

/**
 * Why a stop cannot fire on the position it is set for: at the stop the position is already at or
 * below its maintenance margin, so the engine liquidates it first. Undefined when the stop is
 * reachable (or absent; a spot long is never liquidated).
 */
function stopPastLiquidation(
  position: MarginedPosition,
  stopLoss: string | undefined,
  options: { productId: string; leveraged: boolean },
): string | undefined {
  if (stopLoss === undefined || !belowMaintenance(position, new Money(stopLoss))) return undefined;
  const line = moneyString(liquidationPrice(position)!);
  return `stop_loss ${stopLoss} is past the liquidation price ${line} of this ${position.side} ` +
    `${options.productId} position: it would be liquidated first and the stop never fire; set ` +
    `the stop ${position.side === "long" ? "above" : "below"} ${line}` +
    (options.leveraged ? " or use less leverage" : "");
}

/** The exit plan and confidence fields a trade writes (decimal strings), when valid. */
type TradeTerms =
  | { ok: true; leverage: number; plan: Partial<TradeExecuted> }
  | { ok: false; reason: string };

/**
 * Checks leverage, stop loss, take profit, invalidation and confidence against the desk's limits
 * and the quote that would close the position (the bid for a long, the ask for a short): a stop
 * or target already crossed would fire at once, so it is refused.
 */
function tradeTerms(
  request: TradeRequest,
  options: { opens: boolean; positionSide: PositionSide; price: PriceTick; config: TradeConfig },
): TradeTerms {
  const maxLeverage = options.config.maxLeverage ?? 1;
  const leverage = request.leverage ?? 1;
  if (!Number.isInteger(leverage) || leverage < 1 || leverage > maxLeverage) {
    return {
      ok: false,
      reason: maxLeverage === 1
        ? `Leverage is off in this arena (every trade is at leverage 1), got ${leverage}`
        : `Leverage must be a whole number from 1 to ${maxLeverage}, got ${leverage}`,
    };
  }
  if (!options.opens && request.leverage !== undefined && leverage !== 1) {
    return {
      ok: false,
      reason:
        `Leverage applies to opening or adding to a position, not to closing one (got ${leverage})`,
    };
  }
  const plan: Partial<TradeExecuted> = {};
  if (request.confidence !== undefined) {
    const confidence = request.confidence;
    if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
      return { ok: false, reason: `Confidence must be a number from 0 to 1, got ${confidence}` };
    }
    plan.confidence = confidence;
  }
  if (request.invalidation !== undefined) {
    const text = request.invalidation.trim();
    if (text.length > MAX_INVALIDATION_LENGTH) {
      return {
        ok: false,
        reason:
          `Invalidation must be at most ${MAX_INVALIDATION_LENGTH} characters, got ${text.length}`,
      };
    }
    if (text.length > 0) plan.invalidation = text;
  }
  const long = options.positionSide === "long";
  const closing = new Money(long ? options.price.bestBid : options.price.bestAsk);
  const closingName = long ? "best bid" : "best ask";
  const levels = [
    { field: "stop_loss", key: "stopLoss", value: request.stopLoss, below: long },
    { field: "take_profit", key: "takeProfit", value: request.takeProfit, below: !long },
  ] as const;
  for (const level of levels) {
    if (level.value === undefined) continue;
    const parsed = parsePrice(level.value, level.field);
    if (!parsed.ok) return parsed;
    const wrongSide = level.below ? parsed.price.gte(closing) : parsed.price.lte(closing);
    if (wrongSide) {
      return {
        ok: false,
        reason: `${level.field} ${moneyString(parsed.price)} must be ${
          level.below ? "below" : "above"
        } the ${closingName} ${
          moneyString(closing)
        } of ${options.price.productId} for a ${options.positionSide} position (it would fire at once)`,
      };
    }
    plan[level.key] = moneyString(parsed.price);
  }
  return { ok: true, leverage, plan };
}

/** Parses a model-supplied price: a positive finite decimal. */
function parsePrice(
  value: number | string,
  field: string,
): { ok: true; price: Money } | { ok: false; reason: string } {
  const text = typeof value === "number" ? String(value) : value.trim();
  if (
    (typeof value === "number" && !Number.isFinite(value)) ||
    !POSITIVE_NUMBER.test(text)
  ) {
    return {
      ok: false,
      reason: `${field} must be a positive price such as 4652.5, got ${
        JSON.stringify(typeof value === "string" ? value.slice(0, 40) : value)
      }`,
    };
  }
  const price = new Money(text.replace(/^\+/, ""));
  if (!price.isFinite() || price.lte(0) || price.gt(MAX_PRICE)) {
    return {
      ok: false,
      reason: `${field} must be a positive price below ${MAX_PRICE}, got ${text}`,
    };
  }
  return { ok: true, price };
}

/** Highest stop or target price accepted (guards against absurd input). */
export const MAX_PRICE = "1000000000000";

/** The later of two ISO times, so a fill never precedes the account opening. */
function fillTime(time: string, openedAt: string): string {
  return Date.parse(openedAt) > Date.parse(time) ? openedAt : time;
}

/** The text the model reads after a trade executed (identical for a repeated tool call). */
export function tradeConfirmation(event: TradeExecuted): string {
  return JSON.stringify({
    status: "executed",
    action: event.side,
    product_id: event.productId,
    quantity: event.quantity,
    fill_price: event.fillPrice,
    notional: event.notional,
    fee: event.fee,
    cash_after: event.cashAfter,
    time: event.time,
  });
}

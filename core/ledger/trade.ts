/** Trade validation and execution as a pure function: an event to publish, or a refusal. */

import { Decimal } from "decimal.js";
import {
  type AccountOpened,
  MAX_REFUSAL_LENGTH,
  type TradeExecuted,
  type TradeRefused,
} from "../contracts/ledger.ts";
import type { PriceTick } from "../contracts/market.ts";
import type { Account } from "./account.ts";
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
}

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
    if (!/^\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
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

/** Largest quantity on the product's increment whose cost at the ask, fee included, fits the cash. */
export function maxAffordableQuantity(
  cash: Money,
  options: { bestAsk: Money; productId: string; config: TradeConfig },
): Money {
  const price = fillPriceOf(options.bestAsk, {
    side: "buy",
    slippageBps: options.config.slippageBps,
  });
  if (price.lte(0)) return ZERO;
  const perUnit = price.times(bps(options.config.takerFeeBps).plus(1));
  const increment = productIncrement(options.productId, options.config);
  let quantity = cash.div(perUnit).toNearest(increment, Decimal.ROUND_DOWN);
  // The division is rounded to 40 digits: step down until the exact cost fits.
  while (quantity.gt(0) && quantity.times(perUnit).gt(cash)) quantity = quantity.minus(increment);
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
  if (side === "sell") {
    const held = account.positions.get(productId)?.quantity ?? ZERO;
    return `you hold ${moneyString(held)} ${productId}`;
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
    .map((position) => `${moneyString(position.quantity)} ${position.productId}`);
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
  const quote = new Money(side === "buy" ? price.bestAsk : price.bestBid);
  if (quote.lte(0)) {
    return {
      ok: false,
      reason: `The ${side === "buy" ? "best ask" : "best bid"} of ${productId} is ${
        moneyString(quote)
      }, so it cannot be traded now`,
    };
  }
  const fillPrice = fillPriceOf(quote, { side, slippageBps: config.slippageBps });
  const notional = quantity.times(fillPrice);
  const fee = notional.times(bps(config.takerFeeBps));
  let cashAfter: Money;
  if (side === "buy") {
    cashAfter = account.cash.minus(notional).minus(fee);
    if (cashAfter.isNegative()) {
      const max = maxAffordableQuantity(account.cash, {
        bestAsk: new Money(price.bestAsk),
        productId,
        config,
      });
      return {
        ok: false,
        reason: `Insufficient cash: buying ${moneyString(quantity)} ${productId} at ${
          moneyString(fillPrice)
        } costs ${roundedString(notional.plus(fee), 2)} USD including a ${
          roundedString(fee, 2)
        } USD fee (${config.takerFeeBps} bps); ${cashText}, so buy at most ${
          moneyString(max)
        } ${productId}`,
      };
    }
  } else {
    const held = account.positions.get(productId)?.quantity ?? ZERO;
    if (held.lt(quantity)) {
      return {
        ok: false,
        reason: `Insufficient holdings: you hold ${
          moneyString(held)
        } ${productId}, so sell at most ${moneyString(held)} (tried ${moneyString(quantity)})`,
      };
    }
    cashAfter = account.cash.plus(notional).minus(fee);
  }
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
    },
  };
}

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

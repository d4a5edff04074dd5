/**
 * Engine-held exits: a position's stop loss, take profit and liquidation, checked against every
 * quote after its last trade and filled at that quote (the bid closes a long, the ask a short)
 * with the desk's slippage and fee. Pure: the tools service publishes what this returns.
 */

import type { TradeCause, TradeExecuted } from "../contracts/ledger.ts";
import type { PriceTick } from "../contracts/market.ts";
import { type Account, exitCallId, type Position, reduction } from "./account.ts";
import { belowMaintenance } from "./margin.ts";
import { bps, Money, moneyString } from "./money.ts";
import { fillPriceOf, type TradeConfig, tradeEventId } from "./trade.ts";

/** Why and at which quote the engine closes a position. */
export interface ExitTrigger {
  /** The exit that fired. */
  cause: Exclude<TradeCause, "agent">;
  /** The quote that crossed it (bid for a long, ask for a short). */
  quote: Money;
}

/**
 * The exit a quote triggers for a position, if any: only quotes later than the position's last
 * trade count, a stale quote triggers nothing, and when several levels are crossed by one quote
 * the stop wins over the target and both over liquidation (the agent's own plan comes first).
 */
export function exitTrigger(position: Position, tick: PriceTick): ExitTrigger | undefined {
  if (tick.stale || tick.productId !== position.productId) return undefined;
  if (!(Date.parse(tick.time) > position.lastTradeTimeMs)) return undefined;
  const long = position.side === "long";
  const quote = new Money(long ? tick.bestBid : tick.bestAsk);
  if (quote.lte(0)) return undefined;
  const { stopLoss, takeProfit } = position;
  if (stopLoss && (long ? quote.lte(stopLoss) : quote.gte(stopLoss))) {
    return { cause: "stop_loss", quote };
  }
  if (takeProfit && (long ? quote.gte(takeProfit) : quote.lte(takeProfit))) {
    return { cause: "take_profit", quote };
  }
  if (belowMaintenance(position, quote)) return { cause: "liquidation", quote };
  return undefined;
}

/**
 * The trade that closes the whole position at the trigger's quote: its tool call id is the
 * position's one exit id, so a second evaluation (a restart, another replica) is a duplicate.
 */
export function exitTrade(
  account: Account,
  position: Position,
  options: { trigger: ExitTrigger; tick: PriceTick; config: TradeConfig },
): TradeExecuted {
  const { trigger, config } = options;
  const side = position.side === "long" ? "sell" : "buy";
  const fillPrice = fillPriceOf(trigger.quote, { side, slippageBps: config.slippageBps });
  const quantity = position.quantity;
  const notional = quantity.times(fillPrice);
  const fee = notional.times(bps(config.takerFeeBps));
  const closed = reduction(position, { quantity, notional, fee });
  const toolCallId = exitCallId(position);
  return {
    v: 1,
    type: "trade_executed",
    eventId: tradeEventId(account.agent, toolCallId),
    agent: account.agent,
    toolCallId,
    productId: position.productId,
    side,
    quantity: moneyString(quantity),
    fillPrice: moneyString(fillPrice),
    quotePrice: moneyString(trigger.quote),
    notional: moneyString(notional),
    fee: moneyString(fee),
    takerFeeBps: config.takerFeeBps,
    slippageBps: config.slippageBps,
    cashAfter: moneyString(account.cash.plus(closed.returned)),
    time: options.tick.time,
    ...(position.side === "short" ? { position: "short" as const } : {}),
    cause: trigger.cause,
    ...(closed.badDebt.isZero() ? {} : { badDebt: moneyString(closed.badDebt) }),
  };
}

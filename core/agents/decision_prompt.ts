/**
 * What an agent's model reads besides its strategy: the protocol instructions (tool loop or one
 * JSON decision) and the portfolio block that opens each decision's user message (before the
 * market block), so a model that wants to hold needs a single call.
 */

import type { DeskTerms } from "../contracts/desk.ts";
import type { MarketSnapshot } from "../contracts/market.ts";
import type { PortfolioView, PositionView } from "../contracts/portfolio.ts";
import { MarketDecimal } from "../market/decimal.ts";
import type { DecisionProtocol } from "./decision.ts";

/** Instructions for the tool loop, appended to the strategy's system prompt. */
export const TOOLS_INSTRUCTIONS =
  `How to trade: your portfolio and the market data are in each update. Place orders with the execute_trade tool (quantity in units of the product, buys fill at the best ask, sells at the best bid, a fee applies); get_portfolio shows your account again and calculator does arithmetic. Call tools through the tool-calling interface, one call per order, e.g. execute_trade with {"product_id": "<a product>", "action": "buy", "quantity": <units>}. When you are done, or to hold, answer without a tool call, ending with "Reasoning:" and one or two sentences.`;

/**
 * Instructions for the one-call JSON protocol on a desk that offers exit plans, appended to the
 * strategy's system prompt.
 */
export const JSON_EXIT_PLAN_INSTRUCTIONS =
  `How to trade: your portfolio and the market data are in each update. Answer with ONE JSON object and nothing else:
{"reasoning": "<one or two sentences>", "decisions": [{"product_id": "<a product from the market data>", "action": "buy" | "sell" | "hold", "quantity": <units of the product, 0 to hold>, "stop_loss": <price or null>, "take_profit": <price or null>, "confidence": <0 to 1 or null>, "reason": "<short>"}]}
Buys fill at the best ask, sells at the best bid, a fee applies to every fill. The engine closes a position when the bid reaches its stop_loss or take_profit. To spend D dollars on a product, buy about D / ask units; you cannot spend more cash than you have (the portfolio says the most you can buy) or sell more than you hold unless the desk allows shorting. Products you leave out are held. The "reasoning" field is your Reasoning section: at most two short sentences; each "reason" is a few words.`;

/**
 * Instructions for the one-call JSON protocol on a spot desk (no exit plan fields: a real 1.5B
 * model filled every optional field of a longer schema with null), appended to the strategy's
 * system prompt.
 */
export const JSON_INSTRUCTIONS =
  `How to trade: your portfolio and the market data are in each update. Answer with ONE JSON object and nothing else:
{"reasoning": "<one or two sentences>", "decisions": [{"product_id": "<a product from the market data>", "action": "buy" | "sell" | "hold", "quantity": <units of the product, 0 to hold>, "reason": "<short>"}]}
Buys fill at the best ask, sells at the best bid, a fee applies to every fill. To spend D dollars on a product, buy about D / ask units; you cannot spend more cash than you have (the portfolio says the most you can buy) or sell more than you hold unless the desk allows shorting. Products you leave out are held. The "reasoning" field is your Reasoning section: at most two short sentences; each "reason" is a few words.`;

/**
 * The json protocol's statement of the desk's terms (its model never reads the `execute_trade`
 * description): the fee, and shorts and leverage when the desk allows them.
 */
export function deskTermsText(desk: DeskTerms): string {
  const fee = desk.takerFeeBps === 0
    ? "There is no trading fee."
    : `The fee is ${desk.takerFeeBps} basis points of each fill's notional.`;
  const slippage = desk.slippageBps > 0 ? ` Fills slip ${desk.slippageBps} bps against you.` : "";
  const shorts = desk.allowShort
    ? " Shorting is allowed: a sell with nothing held opens a short, a buy covers it (one side per product at a time)."
    : "";
  const leverage = desk.maxLeverage > 1
    ? ` An entry may add "leverage": 1 to ${desk.maxLeverage} (margin = notional / leverage; the engine liquidates a position when its margin plus P&L falls to 0.5 % of its notional plus the fee).`
    : "";
  return `Desk: ${fee}${slippage}${shorts}${leverage}`;
}

/**
 * The system prompt of an agent: its strategy, then how to answer in its protocol; the json
 * protocol's instructions name the exit plan fields unless the desk does not offer them, and end
 * with the desk's terms when they are known.
 */
export function systemPromptFor(
  strategyPrompt: string,
  protocol: DecisionProtocol,
  desk?: DeskTerms,
): string {
  if (protocol !== "json") return `${strategyPrompt}\n\n${TOOLS_INSTRUCTIONS}`;
  const terms = desk ? `\n${deskTermsText(desk)}` : "";
  const instructions = desk?.exitPlans === false ? JSON_INSTRUCTIONS : JSON_EXIT_PLAN_INSTRUCTIONS;
  return `${strategyPrompt}\n\n${instructions}${terms}`;
}

function money(value: string): string {
  return new MarketDecimal(value).toFixed(2);
}

function signed(value: string, suffix = ""): string {
  const number = new MarketDecimal(value);
  return `${number.isNegative() ? "" : "+"}${number.toFixed(2)}${suffix}`;
}

/** Share of a buy's notional kept back for the fee when sizing (covers taker fees to 100 bps). */
export const FEE_HEADROOM = 0.01;

/**
 * The most units of a product the cash buys at its ask with {@linkcode FEE_HEADROOM} for the fee,
 * rounded down to 4 significant digits.
 */
export function maxBuyUnits(cash: string, bestAsk: string): string {
  const ask = new MarketDecimal(bestAsk);
  if (!ask.isPositive()) return "0";
  return new MarketDecimal(cash).div(ask.times(1 + FEE_HEADROOM))
    .toSignificantDigits(4, MarketDecimal.ROUND_DOWN).toFixed();
}

/**
 * What the cash buys of each product, in units and what they cost: small models size orders from
 * it instead of guessing (a 1.5B model asked for 100000 BTC with $100,000, taking units for dollars).
 */
function buyingPower(portfolio: PortfolioView, snapshot: MarketSnapshot): string | undefined {
  const parts: string[] = [];
  for (const product of snapshot.products) {
    if (product.stale || !new MarketDecimal(product.ticker.bestAsk).isPositive()) continue;
    const units = maxBuyUnits(portfolio.cash, product.ticker.bestAsk);
    const cost = new MarketDecimal(units).times(product.ticker.bestAsk).toFixed(2);
    parts.push(
      `${product.productId} ${units} units (${units} x ${product.ticker.bestAsk} = ${cost} USD)`,
    );
  }
  return parts.length === 0
    ? undefined
    : `Most you can buy now at the ask, fee included: ${parts.join("; ")}. Quantities are units ` +
      "of the product, never dollars.";
}

/**
 * The portfolio as a few plain lines: cash, equity, return, fees, each open position, and with
 * the snapshot what the cash buys of each product.
 */
export function renderPortfolio(portfolio: PortfolioView, snapshot?: MarketSnapshot): string {
  const lines = [
    `Your portfolio: cash ${money(portfolio.cash)} USD, equity ${money(portfolio.equity)} USD ` +
    `(${signed(portfolio.totalReturnPct, " %")} since start), fees paid ` +
    `${money(portfolio.feesPaid)} USD, ${portfolio.tradeCount} trades.`,
  ];
  const power = snapshot ? buyingPower(portfolio, snapshot) : undefined;
  if (power) lines.push(power);
  if (portfolio.positions.length === 0) {
    lines.push("Open positions: none.");
    return lines.join("\n");
  }
  lines.push("Open positions:");
  for (const position of portfolio.positions) {
    const short = position.side === "short";
    lines.push(
      `- ${position.productId}: ${short ? "short " : ""}${position.quantity} units${
        marginText(position)
      }, average cost ${position.averageCost}, ${short ? "ask" : "bid"} now ${position.price}, ` +
        `unrealized P&L ${signed(position.unrealizedPnl)} USD ` +
        `(${signed(position.unrealizedPnlPct, " %")}), held ${
          Math.round(position.averageHoldMinutes)
        } min${exitPlanText(position)}`,
    );
  }
  return lines.join("\n");
}

/** A short's or leveraged position's leverage and margin; nothing for a spot holding. */
function marginText(position: PositionView): string {
  if (position.side === "long" && position.leverage === 1) return "";
  return ` at ${position.leverage}x (margin ${money(position.margin)} USD)`;
}

/** The position's exit plan and the agent's stated view, when any; nothing otherwise. */
function exitPlanText(position: PositionView): string {
  const levels = [
    position.stopLoss === undefined ? undefined : `stop ${position.stopLoss}`,
    position.takeProfit === undefined ? undefined : `target ${position.takeProfit}`,
    position.liquidationPrice === undefined
      ? undefined
      : `liquidation ${position.liquidationPrice}`,
    position.confidence === undefined ? undefined : `confidence ${position.confidence}`,
    position.invalidation === undefined
      ? undefined
      : `invalid if ${JSON.stringify(position.invalidation)}`,
  ].filter((part) => part !== undefined);
  return levels.length === 0 ? "" : `; ${levels.join(", ")}`;
}

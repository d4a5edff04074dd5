/** The three trading tools every agent shares: execute_trade, get_portfolio and calculator. */

import { z } from "zod";
import type { ToolDefinition } from "../contracts/chat.ts";
import { toolDefinition, type ToolSpec } from "../runtime/tool_spec.ts";
import { MAX_INVALIDATION_LENGTH } from "../contracts/ledger.ts";
import { MAINTENANCE_MARGIN_RATE } from "../ledger/margin.ts";
import {
  DEFAULT_TRADE_CONFIG,
  LEVERAGE_CEILING,
  offersExitPlans,
  type TradeConfig,
} from "../ledger/trade.ts";
import type { LedgerService } from "./ledger_service.ts";
import type { Calculator } from "./calculator.ts";
import { MAX_EXPRESSION_LENGTH } from "./safe_math.ts";

/**
 * An action as the original accepted it: trimmed and lower-cased (`" BUY"` is `buy`). Anything
 * that is not text passes through unchanged for the schema to refuse.
 */
export function normalizeAction(value: unknown): unknown {
  return typeof value === "string" ? value.trim().toLowerCase() : value;
}

/**
 * A number as a model may write it, quoted (`"1"`, `" 0.7 "`): the number. A real 1.5B model sent
 * `"confidence": "1", "leverage": "1"`. Anything else passes through unchanged for the schema to
 * refuse.
 */
export function numberFromText(value: unknown): unknown {
  return typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

/**
 * The error of a field a tool does not take: names the unknown fields and lists the valid ones.
 * Other object-level issues keep zod's message.
 */
export function unknownFieldsError(
  tool: string,
  fields: readonly string[],
): (issue: { code?: string; keys?: readonly string[] }) => string | undefined {
  return (issue) => {
    if (issue.code !== "unrecognized_keys" || !issue.keys) return undefined;
    const names = issue.keys.map((key) => JSON.stringify(key)).join(", ");
    return `Unknown field${issue.keys.length === 1 ? "" : "s"} ${names}: ${tool} takes only ${
      fields.join(", ")
    }`;
  };
}

/** A price the model may send as a number or a numeric string. */
const PRICE_FIELD = z.union([z.number(), z.string().max(64)]);

/**
 * An optional field that also takes `null` as absent: models (small local ones, and any in a
 * strict structured-output mode) write every optional field, null when they mean none. The JSON
 * Schema the model reads is the field's own.
 */
function nullAsAbsent<T extends z.ZodType>(field: T) {
  return z.preprocess((value) => value === null ? undefined : value, field.optional());
}

/** The fields of an order: what the original's execute_trade took. */
const ORDER_FIELDS = {
  product_id: z.string().min(1).max(24).describe(
    "Product to trade, exactly as in the market data",
  ),
  quantity: z.union([z.number(), z.string().max(64)]).describe(
    "Amount of the base currency to buy or sell (not dollars), a positive number such as 0.05; " +
      "fractions allowed down to the product's increment",
  ),
  action: z.preprocess(
    normalizeAction,
    z.enum(["buy", "sell"], {
      error: (issue) =>
        issue.input === undefined
          ? "Action is required: buy or sell"
          : `Action must be buy or sell, got ${JSON.stringify(issue.input)}`,
    }),
  ).describe("buy (fills at the best ask) or sell (fills at the best bid)"),
};

/** The exit plan and stated confidence an order may carry. */
const EXIT_PLAN_FIELDS = {
  stop_loss: nullAsAbsent(PRICE_FIELD).describe("Price closing it at a loss"),
  take_profit: nullAsAbsent(PRICE_FIELD).describe("Price closing it at a profit"),
  invalidation: nullAsAbsent(z.string().max(MAX_INVALIDATION_LENGTH)).describe(
    "What would prove you wrong",
  ),
  confidence: nullAsAbsent(z.preprocess(
    numberFromText,
    z.number({ error: confidenceError }).min(0, { error: confidenceError })
      .max(1, { error: confidenceError }),
  )).describe("Your confidence that it pays"),
};

const EXECUTE_TRADE_FIELDS = { ...ORDER_FIELDS, ...EXIT_PLAN_FIELDS };

function confidenceError(issue: { input?: unknown }): string {
  return `Confidence must be a number from 0 to 1, got ${JSON.stringify(issue.input)}`;
}

/** The `leverage` field of a desk that allows up to `maxLeverage`. */
function leverageField(maxLeverage: number) {
  const error = (issue: { input?: unknown }) =>
    `Leverage must be a whole number from 1 to ${maxLeverage}, got ${JSON.stringify(issue.input)}`;
  return nullAsAbsent(z.preprocess(
    numberFromText,
    z.number({ error }).int({ error }).min(1, { error }).max(maxLeverage, { error }),
  )).describe("Default 1");
}

/**
 * Input of `execute_trade` with every field any desk offers (leverage up to
 * {@linkcode LEVERAGE_CEILING}): the type of what the tool runs with. The model sees the schema of
 * {@linkcode executeTradeInput} for its desk.
 */
export const ExecuteTradeInput = strictInput({
  ...EXECUTE_TRADE_FIELDS,
  leverage: leverageField(LEVERAGE_CEILING),
});
/** Input of `execute_trade`. */
export type ExecuteTradeInput = z.infer<typeof ExecuteTradeInput>;

/**
 * Input of `execute_trade` on a desk (the JSON Schema the model sees is generated from it and
 * still says buy|sell; `action` is accepted in any case with surrounding spaces, as in the
 * original). `leverage` is offered only when the desk allows more than 1. A field it does not
 * know is an error that names it and the valid ones, never silently dropped.
 */
export function executeTradeInput(
  config: TradeConfig = DEFAULT_TRADE_CONFIG,
): z.ZodType<ExecuteTradeInput> {
  const maxLeverage = config.maxLeverage ?? 1;
  return maxLeverage > 1
    ? strictInput({ ...EXECUTE_TRADE_FIELDS, leverage: leverageField(maxLeverage) })
    : strictInput(EXECUTE_TRADE_FIELDS);
}

/**
 * The `execute_trade` schema models are shown: the desk's input, without the exit plan and
 * confidence fields when the desk does not offer them (`offersExitPlans`); they are still
 * accepted.
 */
export function offeredExecuteTradeInput(config: TradeConfig = DEFAULT_TRADE_CONFIG): z.ZodType {
  return offersExitPlans(config) ? executeTradeInput(config) : strictInput(ORDER_FIELDS);
}

function strictInput<T extends z.ZodRawShape>(fields: T) {
  return z.strictObject(fields, {
    error: unknownFieldsError("execute_trade", Object.keys(fields)),
  });
}

/** Input of `get_portfolio`: nothing (the account is the caller's). */
export const GetPortfolioInput = z.object({});
/** Input of `get_portfolio`. */
export type GetPortfolioInput = z.infer<typeof GetPortfolioInput>;

/** Input of `calculator`. */
export const CalculatorInput = z.object({
  expression: z.string().max(MAX_EXPRESSION_LENGTH).describe(
    "A math expression, e.g. (100000 * 0.25) / 4652.69 or round(0.0537, 4) or 15% * 2000",
  ),
});
/** Input of `calculator`. */
export type CalculatorInput = z.infer<typeof CalculatorInput>;

/** What a model is told about a tool (name, description, input schema); no way to run it. */
export type ToolSignature<S extends z.ZodType = z.ZodType> = Omit<ToolSpec<S>, "run">;

/**
 * Name, description and input of `execute_trade`; the description states the fee, slippage,
 * whether shorts are allowed, the highest leverage with the maintenance rule, and the exit plan.
 */
export function executeTradeSignature(
  config: TradeConfig = DEFAULT_TRADE_CONFIG,
): ToolSignature<z.ZodType<ExecuteTradeInput>> {
  const fee = config.takerFeeBps === 0
    ? "There is no trading fee."
    : `Every trade pays a taker fee of ${config.takerFeeBps} basis points (${
      config.takerFeeBps / 100
    }%) of its notional, taken from cash.`;
  const slippage = config.slippageBps > 0
    ? ` Fills also slip ${config.slippageBps} bps against you.`
    : "";
  const maxLeverage = config.maxLeverage ?? 1;
  const sides = config.allowShort
    ? "A buy must be covered by your cash including the fee. Shorts are allowed: a sell with " +
      "nothing held opens a short (its notional locked from cash, plus the fee) and a buy covers " +
      "it; one side per product at a time. "
    : "A buy must be covered by your cash including the fee; you can only sell what you hold " +
      "(no shorting). ";
  const leverage = maxLeverage > 1
    ? `leverage (1 to ${maxLeverage}) locks only notional / leverage from cash as margin; a ` +
      `position whose margin plus P&L falls to ${
        MAINTENANCE_MARGIN_RATE.times(100).toString()
      }% of its notional plus the fee is liquidated. `
    : "";
  const closing = config.allowShort ? "bid; ask for a short" : "bid";
  const exits = offersExitPlans(config)
    ? "The engine closes the whole position at the first quote " +
      `(${closing}) reaching its stop_loss or take_profit. `
    : "";
  return {
    name: "execute_trade",
    description: "Buy or sell a crypto product at the current market price for your own account. " +
      "Buys fill at the best ask, sells at the best bid. " + fee + slippage +
      " quantity is in units of the product (e.g. 0.05 of a coin), not dollars: to spend D " +
      "dollars buy about D / (ask x (1 + fee)). " + sides + leverage +
      "A quantity must be a multiple of the product's increment (a refusal names it). " +
      "Products without a fresh price cannot be traded. " + exits + "Returns the " +
      "fill as JSON, or an error that says what was wrong and what would be valid.",
    input: executeTradeInput(config),
    offered: offeredExecuteTradeInput(config),
  };
}

/** Name, description and input of `get_portfolio`. */
export const GET_PORTFOLIO_SIGNATURE: ToolSignature<typeof GetPortfolioInput> = {
  name: "get_portfolio",
  description:
    "View your account: cash, equity, margin used, total return, realized and unrealized P&L, " +
    "fees paid, trade count, and each open position with side, quantity, average cost, cost " +
    "basis, mark price (the quote that closes it), market value, margin, leverage, unrealized " +
    "P&L, average minutes held and exit plan. Returns JSON; money is in USD as exact decimal " +
    "strings.",
  input: GetPortfolioInput,
};

/** Name, description and input of `calculator`. */
export const CALCULATOR_SIGNATURE: ToolSignature<typeof CalculatorInput> = {
  name: "calculator",
  description: "Evaluate a math expression for position sizing and P&L: + - * / ^ (or **) and " +
    "parentheses, percentages (15% * 2000), sqrt, pow, abs, round(x, digits), floor, ceil, " +
    "min, max, log(x), log(x, base), log10, exp, mean, median, std, sum and constants pi " +
    `and e. At most ${MAX_EXPRESSION_LENGTH} characters; returns the result as text.`,
  input: CalculatorInput,
};

/** The three trading tools' signatures in the order they are offered. */
export function tradingToolSignatures(config: TradeConfig = DEFAULT_TRADE_CONFIG): ToolSignature[] {
  return [executeTradeSignature(config), GET_PORTFOLIO_SIGNATURE, CALCULATOR_SIGNATURE];
}

/**
 * Definitions of execute_trade, get_portfolio and calculator as routers offer them to models,
 * built without a ledger or calculator: the same names, descriptions and schemas the tools serve.
 */
export function tradingToolDefinitions(
  config: TradeConfig = DEFAULT_TRADE_CONFIG,
): ToolDefinition[] {
  return tradingToolSignatures(config).map(toolDefinition);
}

/**
 * Builds `execute_trade`, served against the ledger service; its description and schema state the
 * desk the ledger really runs (fee, slippage, shorts, leverage; `options.config` only for a ledger
 * without one).
 */
export function executeTradeTool(
  ledger: LedgerService,
  options: { config?: TradeConfig } = {},
): ToolSpec<z.ZodType<ExecuteTradeInput>> {
  return {
    ...executeTradeSignature(ledger.config ?? options.config ?? DEFAULT_TRADE_CONFIG),
    run: (input, context) =>
      ledger.trade({
        agent: context.agent,
        toolCallId: context.toolCallId,
        productId: input.product_id.trim().toUpperCase(),
        quantity: input.quantity,
        action: input.action,
        tick: context.tick,
        leverage: input.leverage,
        stopLoss: input.stop_loss,
        takeProfit: input.take_profit,
        invalidation: input.invalidation,
        confidence: input.confidence,
      }),
    onAssigned: () => ledger.markAssigned(),
  };
}

/** Builds `get_portfolio`: the caller's account as PortfolioView JSON. */
export function getPortfolioTool(ledger: LedgerService): ToolSpec<typeof GetPortfolioInput> {
  return {
    ...GET_PORTFOLIO_SIGNATURE,
    run: async (_input, context) => ({
      ok: true,
      content: JSON.stringify(await ledger.portfolio(context.agent)),
    }),
    onAssigned: () => ledger.markAssigned(),
  };
}

/** Builds `calculator` on a worker-backed restricted mathjs. */
export function calculatorTool(calculator: Calculator): ToolSpec<typeof CalculatorInput> {
  return {
    ...CALCULATOR_SIGNATURE,
    run: (input) => calculator.evaluate(input.expression),
  };
}

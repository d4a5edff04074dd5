/** The three trading tools every agent shares: execute_trade, get_portfolio and calculator. */

import { z } from "zod";
import type { ToolDefinition } from "../contracts/chat.ts";
import { toolDefinition, type ToolSpec } from "../runtime/tool_spec.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../ledger/trade.ts";
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

const EXECUTE_TRADE_FIELDS = {
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

/**
 * Input of `execute_trade` (the JSON Schema the model sees is generated from it and still says
 * buy|sell; `action` is accepted in any case with surrounding spaces, as in the original). A
 * field it does not know is an error that names it, never silently dropped.
 */
export const ExecuteTradeInput = z.strictObject(EXECUTE_TRADE_FIELDS, {
  error: unknownFieldsError("execute_trade", Object.keys(EXECUTE_TRADE_FIELDS)),
});
/** Input of `execute_trade`. */
export type ExecuteTradeInput = z.infer<typeof ExecuteTradeInput>;

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

/** Name, description and input of `execute_trade`; the description states the fee and slippage. */
export function executeTradeSignature(
  config: TradeConfig = DEFAULT_TRADE_CONFIG,
): ToolSignature<typeof ExecuteTradeInput> {
  const fee = config.takerFeeBps === 0
    ? "There is no trading fee."
    : `Every trade pays a taker fee of ${config.takerFeeBps} basis points (${
      config.takerFeeBps / 100
    }%) of its notional, taken from cash.`;
  const slippage = config.slippageBps > 0
    ? ` Fills also slip ${config.slippageBps} bps against you.`
    : "";
  return {
    name: "execute_trade",
    description: "Buy or sell a crypto product at the current market price for your own account. " +
      "Buys fill at the best ask, sells at the best bid. " + fee + slippage +
      " quantity is in units of the product (e.g. 0.05 of a coin), not dollars: to spend D " +
      "dollars buy about D / (ask x (1 + fee)). A buy must be covered by your cash including " +
      "the fee; you can only sell what you hold (no shorting). A quantity must be a multiple " +
      "of the product's increment (a refusal names it). " +
      "Products without a fresh price cannot be traded. Returns the fill as JSON, or an error " +
      "that says what was wrong and what would be valid.",
    input: ExecuteTradeInput,
  };
}

/** Name, description and input of `get_portfolio`. */
export const GET_PORTFOLIO_SIGNATURE: ToolSignature<typeof GetPortfolioInput> = {
  name: "get_portfolio",
  description:
    "View your account: cash, equity, total return, realized and unrealized P&L, fees paid, " +
    "trade count, and each open position with quantity, average cost, cost basis, mark price " +
    "(best bid), market value, unrealized P&L and average minutes held. Returns JSON; money " +
    "is in USD as exact decimal strings.",
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
 * Builds `execute_trade`, served against the ledger service; its description states the fee and
 * slippage the ledger really charges (`options.config` only for a ledger without one).
 */
export function executeTradeTool(
  ledger: LedgerService,
  options: { config?: TradeConfig } = {},
): ToolSpec<typeof ExecuteTradeInput> {
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

/** The trading tools as offered to models by routers (definitions only; tool nodes run them). */

import type { ToolDefinition } from "../contracts/chat.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../ledger/trade.ts";
import { tradingToolDefinitions as definitionsFromTools } from "../tools/trading_tools.ts";

/**
 * Definitions of execute_trade, get_portfolio and calculator from the tools' own signatures, so
 * the names, descriptions and JSON Schemas are exactly what the tools service validates. A router
 * only offers tools; tool nodes run them.
 */
export function tradingToolDefinitions(
  config: TradeConfig = DEFAULT_TRADE_CONFIG,
): ToolDefinition[] {
  return definitionsFromTools(config);
}

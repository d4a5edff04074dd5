/**
 * The trading tools as a tools node with given settings describes them (definitions only; tool
 * nodes run them). Routers do not use this: they offer what the serving tools node published on
 * the tool catalog (core/runtime/tool_catalog.ts). It is for offline views such as first-call
 * captures, which must state the same settings as the desk they describe.
 */

import type { ToolDefinition } from "../contracts/chat.ts";
import type { TradeConfig } from "../ledger/trade.ts";
import { tradingToolDefinitions as definitionsFromTools } from "../tools/trading_tools.ts";

/**
 * Definitions of execute_trade, get_portfolio and calculator from the tools' own signatures for
 * a desk with `config` (no default: a description must state the fee really charged).
 */
export function tradingToolDefinitions(config: TradeConfig): ToolDefinition[] {
  return definitionsFromTools(config);
}

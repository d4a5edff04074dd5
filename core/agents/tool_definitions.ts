/** The trading tools as offered to models by routers (definitions only; tool nodes run them). */

import type { ToolDefinition } from "../contracts/chat.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../ledger/trade.ts";
import { toolDefinition, type ToolSpec } from "../runtime/tool_spec.ts";
import type { Calculator } from "../tools/calculator.ts";
import type { LedgerService } from "../tools/ledger_service.ts";
import { calculatorTool, executeTradeTool, getPortfolioTool } from "../tools/trading_tools.ts";

/**
 * Definitions of execute_trade, get_portfolio and calculator from the tools' own specs, so the
 * names, descriptions and JSON Schemas are exactly what the tools service validates. The specs
 * are built over stand-ins that are never run: a router only offers tools, tool nodes run them.
 */
export function tradingToolDefinitions(
  config: TradeConfig = DEFAULT_TRADE_CONFIG,
): ToolDefinition[] {
  const ledger = {} as LedgerService;
  const calculator = {} as Calculator;
  const specs = [
    executeTradeTool(ledger, { config }),
    getPortfolioTool(ledger),
    calculatorTool(calculator),
  ] as ToolSpec[];
  return specs.map(toolDefinition);
}

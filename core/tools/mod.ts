/** Trading tools: the ledger service, the three tool specs, the calculator and serving. */

export * from "./ledger_service.ts";
export * from "./trading_tools.ts";
export * from "./calculator.ts";
export * from "./safe_math.ts";
export * from "./serve.ts";
export * from "./tools_node.ts";

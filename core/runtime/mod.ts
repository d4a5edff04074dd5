/** The agent runtime: chat nodes, agent routers, tool nodes and catalog, model providers. */

export * from "./model_provider.ts";
export * from "./tool_spec.ts";
export * from "./tool_node.ts";
export * from "./tool_catalog.ts";
export * from "./chat_node.ts";
export * from "./agent_router.ts";

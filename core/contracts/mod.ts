/** Every message schema and its inferred type. */

export * from "./common.ts";
export * from "./chat.ts";
export * from "./tools.ts";
export * from "./market.ts";
export * from "./ledger.ts";
export * from "./activity.ts";
export * from "./portfolio.ts";

/** The ledger: exact money, account state from ledger events, trades, portfolio views. */

export * from "./money.ts";
export * from "./account.ts";
export * from "./trade.ts";
export * from "./portfolio.ts";
export * from "./margin.ts";
export * from "./exits.ts";

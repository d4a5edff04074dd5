/** Performance metrics over ledger events and mark prices. */

export * from "./metrics.ts";
export * from "./ledger_report.ts";

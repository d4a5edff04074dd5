/** Performance metrics over ledger events and mark prices. */

export * from "./metrics.ts";

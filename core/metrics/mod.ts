/** Performance metrics over ledger events and mark prices: the one scoring path. */

export * from "./marks.ts";
export * from "./benchmark.ts";
export * from "./metrics.ts";
export * from "./running.ts";
export * from "./ledger_report.ts";
export * from "./calibration.ts";

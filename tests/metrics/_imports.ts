/** Imports shared by the metrics tests. */

export * from "../../core/metrics/mod.ts";
export { Money } from "../../core/ledger/money.ts";

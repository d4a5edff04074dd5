/**
 * The one-call JSON decision protocol: the model answers one object with its reasoning and an
 * action per product, validated by zod; the router turns it into `execute_trade` orders.
 */

import { z } from "zod";
import type { ResponseFormat } from "../contracts/chat.ts";
import { findJsonValues } from "../models/text_tool_calls.ts";

/** How an agent talks to its model: the tool loop (the original's) or one JSON decision per call. */
export const DECISION_PROTOCOLS = ["tools", "json"] as const;

/** A decision protocol. */
export type DecisionProtocol = typeof DECISION_PROTOCOLS[number];

/** Parses a `--protocol` value; throws naming the valid values otherwise. */
export function parseProtocol(value: string): DecisionProtocol {
  if (!(DECISION_PROTOCOLS as readonly string[]).includes(value)) {
    throw new Error(`Protocol must be one of ${DECISION_PROTOCOLS.join(", ")}, got ${value}`);
  }
  return value as DecisionProtocol;
}

/** Longest `reasoning` (characters): bounds what a constrained decoder lets a model ramble. */
export const REASONING_MAX_LENGTH = 400;

/** Longest `reason` per product (characters). */
export const REASON_MAX_LENGTH = 120;

/** The name of the decision's JSON Schema in `response_format`. */
export const DECISION_SCHEMA_NAME = "trading_decision";

/** The schema of one decision, with the product ids the model may name. */
export function decisionSchema(productIds: readonly string[]) {
  const products = productIds.length > 0
    ? z.enum(productIds as [string, ...string[]])
    : z.string().min(1);
  return z.object({
    reasoning: z.string().max(REASONING_MAX_LENGTH).describe(
      "Short reasoning behind the decision",
    ),
    decisions: z.array(
      z.object({
        product_id: products.describe("A product from the market data"),
        action: z.enum(["buy", "sell", "hold"]),
        quantity: z.number().min(0).describe("Units of the product; 0 for hold"),
        reason: z.string().max(REASON_MAX_LENGTH).describe("A few words"),
      }).strict(),
    ).describe("One entry per product you act on; products left out are held"),
  }).strict();
}

/** A validated decision. */
export type TradingDecision = z.infer<ReturnType<typeof decisionSchema>>;

/**
 * The largest quantity worth asking for per product in one decision: what the cash buys at the
 * ask or what is held, whichever is larger. Small models confuse units with dollars (a 1.5B model
 * asked for 100000 BTC with $100,000): a schema maximum lets a constraining server rule that out.
 */
export type QuantityLimits = Readonly<Record<string, number>>;

/** The request schema: like {@linkcode decisionSchema}, with each product's quantity bounded. */
function boundedDecisionSchema(productIds: readonly string[], limits: QuantityLimits) {
  const items = productIds.map((id) =>
    z.object({
      product_id: z.enum([id]),
      action: z.enum(["buy", "sell", "hold"]),
      quantity: z.number().min(0).max(limits[id] ?? Number.MAX_SAFE_INTEGER).describe(
        `Units of ${id}, not dollars; 0 for hold`,
      ),
      reason: z.string().max(REASON_MAX_LENGTH).describe("A few words"),
    }).strict()
  );
  const item = items.length === 1
    ? items[0]!
    : z.union(items as [typeof items[0], ...typeof items]);
  return z.object({
    reasoning: z.string().max(REASONING_MAX_LENGTH).describe(
      "Short reasoning behind the decision",
    ),
    decisions: z.array(item).describe(
      "One entry per product you act on; products left out are held",
    ),
  }).strict();
}

/**
 * The `response_format` asking for a decision about these products (strict JSON Schema); with
 * `limits`, each product's quantity has that maximum.
 */
export function decisionResponseFormat(
  productIds: readonly string[],
  limits?: QuantityLimits,
): ResponseFormat {
  const zodSchema = limits && productIds.length > 0
    ? boundedDecisionSchema(productIds, limits)
    : decisionSchema(productIds);
  const schema = z.toJSONSchema(zodSchema, { target: "draft-7" });
  delete (schema as Record<string, unknown>).$schema;
  return { name: DECISION_SCHEMA_NAME, schema: schema as Record<string, unknown> };
}

/** What {@linkcode parseDecision} found. */
export type DecisionParse =
  | { ok: true; decision: TradingDecision }
  | { ok: false; error: string };

/** Shortens an over-long text field (servers that do not enforce the schema's maxLength). */
function clipText(value: unknown, limit: number): unknown {
  return typeof value === "string" && value.length > limit
    ? `${value.slice(0, limit - 1)}…`
    : value;
}

/**
 * Lenient forms small models write: `"BUY"`, `" buy"`, quantities as numeric strings, a missing
 * `reason`, texts longer than the schema allows (clipped).
 */
function normalise(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (!Array.isArray(record.decisions)) return value;
  return {
    ...record,
    reasoning: clipText(record.reasoning, REASONING_MAX_LENGTH),
    decisions: record.decisions.map((entry) => {
      if (typeof entry !== "object" || entry === null) return entry;
      const item = { ...(entry as Record<string, unknown>) };
      if (typeof item.action === "string") item.action = item.action.trim().toLowerCase();
      if (typeof item.quantity === "string" && /^\s*\d+(\.\d+)?\s*$/.test(item.quantity)) {
        item.quantity = Number(item.quantity);
      }
      item.reason = clipText(item.reason ?? "", REASON_MAX_LENGTH);
      return item;
    }),
  };
}

/**
 * Reads a decision from a reply: the whole text as JSON, else the first JSON object in it (a
 * fenced block or prose around it, from servers that ignore `response_format`). Errors say what
 * is wrong in one line, for the correction message the model gets.
 */
export function parseDecision(text: string | null, productIds: readonly string[]): DecisionParse {
  if (!text || text.trim() === "") return { ok: false, error: "the reply was empty" };
  const sources = [text.trim(), ...findJsonValues(text).filter((value) => value.startsWith("{"))];
  let lastError = "the reply holds no JSON object";
  for (const source of sources) {
    let json: unknown;
    try {
      json = JSON.parse(source);
    } catch {
      continue;
    }
    const parsed = decisionSchema(productIds).safeParse(normalise(json));
    if (parsed.success) return { ok: true, decision: parsed.data };
    const issue = parsed.error.issues[0]!;
    lastError = `${issue.path.join(".") || "the object"}: ${issue.message}`;
  }
  return { ok: false, error: lastError };
}

/** One order to place from a decision. */
export interface DecisionOrder {
  /** Product to trade. */
  productId: string;
  /** Buy or sell. */
  action: "buy" | "sell";
  /** Units of the product, as a decimal string. */
  quantity: string;
}

/** The orders a decision asks for: sells first (they free cash), then buys; holds and zeros skipped. */
export function decisionOrders(decision: TradingDecision): DecisionOrder[] {
  const orders: DecisionOrder[] = [];
  for (const action of ["sell", "buy"] as const) {
    for (const entry of decision.decisions) {
      if (entry.action !== action || !(entry.quantity > 0)) continue;
      orders.push({ productId: entry.product_id, action, quantity: decimalText(entry.quantity) });
    }
  }
  return orders;
}

/** A JSON number as plain decimal text (no exponent), e.g. 1e-7 -> "0.0000001". */
function decimalText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/\.?0+$/, "");
}

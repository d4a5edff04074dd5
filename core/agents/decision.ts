/**
 * The one-call JSON decision protocol: the model answers one object with its reasoning and an
 * action per product, validated by zod; the router turns it into `execute_trade` orders.
 */

import { z } from "zod";
import type { ResponseFormat, ToolDefinition } from "../contracts/chat.ts";
import { LEVERAGE_CEILING } from "../ledger/trade.ts";
import { findJsonValues } from "../models/text_tool_calls.ts";
import { numberFromText } from "../tools/trading_tools.ts";

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

/** What a desk lets a decision ask for beyond spot trades. */
export interface DecisionOptions {
  /** Highest leverage an order may ask for (default 1: the `leverage` field is not offered). */
  maxLeverage?: number;
  /** Whether entries carry the exit plan and confidence (default true; always accepted). */
  exitPlans?: boolean;
}

/**
 * One decision entry. The exit plan and confidence may be absent or null; a request schema makes
 * them `.required()` (still nullable), as strict JSON Schema decoding (OpenAI's) needs every field
 * required.
 */
function decisionItem<P extends z.ZodType, Q extends z.ZodType>(
  fields: { product: P; quantity: Q },
  options: { maxLeverage: number },
) {
  const shape = {
    product_id: fields.product,
    action: z.enum(["buy", "sell", "hold"]),
    quantity: fields.quantity,
    // Explained by the instructions' example: no description, fewer tokens per product.
    stop_loss: z.number().positive().nullish(),
    take_profit: z.number().positive().nullish(),
    confidence: z.number().min(0).max(1).nullish(),
  };
  const reason = z.string().max(REASON_MAX_LENGTH).describe("A few words");
  if (options.maxLeverage <= 1) return z.object({ ...shape, reason }).strict();
  const leverage = z.number().int().min(1).max(options.maxLeverage).nullish()
    .describe(`1 to ${options.maxLeverage}, or null for 1`);
  return z.object({ ...shape, leverage, reason }).strict();
}

/** The decision's envelope around its entries. */
function decisionObject<I extends z.ZodType>(item: I) {
  return z.object({
    reasoning: z.string().max(REASONING_MAX_LENGTH).describe(
      "Short reasoning behind the decision",
    ),
    decisions: z.array(item).describe(
      "One entry per product you act on; products left out are held",
    ),
  }).strict();
}

/** The widest decision (any product, leverage up to the ceiling): the type of a parsed one. */
const AnyDecision = decisionObject(decisionItem({
  product: z.string().min(1),
  quantity: z.number().min(0),
}, { maxLeverage: LEVERAGE_CEILING }));

/** A validated decision. */
export type TradingDecision = z.infer<typeof AnyDecision>;

/**
 * The schema of one decision, with the product ids the model may name; `leverage` only when the
 * desk allows more than 1.
 */
export function decisionSchema(
  productIds: readonly string[],
  options: DecisionOptions = {},
): z.ZodType<TradingDecision> {
  return decisionObject(productsItem(productIds, options.maxLeverage ?? 1));
}

/** An entry naming any of the products (any product id when none are given). */
function productsItem(productIds: readonly string[], maxLeverage: number) {
  const product = productIds.length > 0
    ? z.enum(productIds as [string, ...string[]])
    : z.string().min(1);
  return decisionItem({
    product: product.describe("A product from the market data"),
    quantity: z.number().min(0).describe("Units of the product; 0 for hold"),
  }, { maxLeverage });
}

/** An entry without the exit plan and confidence, for a desk that does not offer them. */
function withoutExitPlan(item: z.ZodObject): z.ZodObject {
  return item.omit({ stop_loss: true, take_profit: true, confidence: true });
}

/**
 * The largest quantity worth asking for per product in one decision: what the cash buys at the
 * ask or what is held, whichever is larger. Small models confuse units with dollars (a 1.5B model
 * asked for 100000 BTC with $100,000): a schema maximum lets a constraining server rule that out.
 */
export type QuantityLimits = Readonly<Record<string, number>>;

/**
 * The request schema: every field required (the exit plan nullable); with `limits`, one entry
 * shape per product with its own quantity maximum.
 */
function requestSchema(
  productIds: readonly string[],
  options: { limits?: QuantityLimits; maxLeverage: number; exitPlans?: boolean },
) {
  const limits = options.limits;
  if (!limits || productIds.length === 0) {
    const item = productsItem(productIds, options.maxLeverage).required();
    return decisionObject(options.exitPlans === false ? withoutExitPlan(item) : item);
  }
  const items = productIds.map((id) => {
    const item = decisionItem({
      product: z.enum([id]),
      quantity: z.number().min(0).max(limits[id] ?? Number.MAX_SAFE_INTEGER).describe(
        `Units of ${id}, not dollars; 0 for hold`,
      ),
    }, { maxLeverage: options.maxLeverage }).required();
    return options.exitPlans === false ? withoutExitPlan(item) : item;
  });
  return decisionObject(
    items.length === 1 ? items[0]! : z.union(items as [typeof items[0], ...typeof items]),
  );
}

/**
 * The `response_format` asking for a decision about these products (strict JSON Schema: every
 * field required, the exit plan nullable); with `limits`, each product's quantity has that
 * maximum; `leverage` is asked for only when `maxLeverage` is above 1.
 */
export function decisionResponseFormat(
  productIds: readonly string[],
  limits?: QuantityLimits,
  options: DecisionOptions = {},
): ResponseFormat {
  const zodSchema = requestSchema(productIds, {
    limits,
    maxLeverage: options.maxLeverage ?? 1,
    exitPlans: options.exitPlans,
  });
  const schema = z.toJSONSchema(zodSchema, { target: "draft-7" });
  delete (schema as Record<string, unknown>).$schema;
  return { name: DECISION_SCHEMA_NAME, schema: schema as Record<string, unknown> };
}

/**
 * The highest leverage the served `execute_trade` offers (the maximum of its `leverage` field),
 * or 1 when it has none: what a JSON decision may ask for.
 */
export function offeredMaxLeverage(tools: readonly ToolDefinition[]): number {
  const trade = tools.find((tool) => tool.name === "execute_trade");
  const properties = trade?.parameters.properties as
    | Record<string, { maximum?: unknown }>
    | undefined;
  const maximum = properties?.leverage?.maximum;
  return typeof maximum === "number" && Number.isInteger(maximum) && maximum > 1 ? maximum : 1;
}

/** Whether the served `execute_trade` offers the exit plan (its schema has `stop_loss`). */
export function offeredExitPlans(tools: readonly ToolDefinition[]): boolean {
  const trade = tools.find((tool) => tool.name === "execute_trade");
  const properties = trade?.parameters.properties as Record<string, unknown> | undefined;
  return properties !== undefined && "stop_loss" in properties;
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
 * Lenient forms small models write: `"BUY"`, `" buy"`, numbers as numeric strings, a stop or
 * target of 0 for none, a missing `reason`, texts longer than the schema allows (clipped).
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
      for (const field of ["quantity", "stop_loss", "take_profit", "confidence", "leverage"]) {
        if (field in item) item[field] = numberFromText(item[field]);
      }
      // "0 for none", as for a hold's quantity.
      if (item.stop_loss === 0) item.stop_loss = null;
      if (item.take_profit === 0) item.take_profit = null;
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
export function parseDecision(
  text: string | null,
  productIds: readonly string[],
  options: DecisionOptions = {},
): DecisionParse {
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
    const parsed = decisionSchema(productIds, options).safeParse(normalise(json));
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
  /** Stop-loss price for the position, as a decimal string. */
  stopLoss?: string;
  /** Take-profit price for the position, as a decimal string. */
  takeProfit?: string;
  /** The model's confidence from 0 to 1. */
  confidence?: number;
  /** Leverage of an opening order. */
  leverage?: number;
}

/** The orders a decision asks for: sells first (they free cash), then buys; holds and zeros skipped. */
export function decisionOrders(decision: TradingDecision): DecisionOrder[] {
  const orders: DecisionOrder[] = [];
  for (const action of ["sell", "buy"] as const) {
    for (const entry of decision.decisions) {
      if (entry.action !== action || !(entry.quantity > 0)) continue;
      const leverage = "leverage" in entry && typeof entry.leverage === "number"
        ? entry.leverage
        : undefined;
      orders.push({
        productId: entry.product_id,
        action,
        quantity: decimalText(entry.quantity),
        ...(entry.stop_loss == null ? {} : { stopLoss: decimalText(entry.stop_loss) }),
        ...(entry.take_profit == null ? {} : { takeProfit: decimalText(entry.take_profit) }),
        ...(entry.confidence == null ? {} : { confidence: entry.confidence }),
        ...(leverage === undefined ? {} : { leverage }),
      });
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

/** Chat requests to a chat node and its replies. */

import { z } from "zod";
import { AgentName, Timestamp, Version } from "./common.ts";
import { DeskTerms } from "./desk.ts";
import { MarketSnapshot } from "./market.ts";
import { PortfolioView } from "./portfolio.ts";

/** A tool call proposed by the model; `arguments` is raw JSON text and may be invalid. */
export const ToolCall = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
/** A tool call proposed by the model. */
export type ToolCall = z.infer<typeof ToolCall>;

/** The assistant's turn: text, tool calls, or both. */
export const AssistantMessage = z.object({
  role: z.literal("assistant"),
  content: z.string().nullable(),
  toolCalls: z.array(ToolCall).default([]),
  /** True when the tool calls were written as text in `content` and parsed from it. */
  textCalls: z.boolean().optional(),
  /** Why `content` looks like a tool call that does not parse (a broken call). */
  brokenCall: z.string().optional(),
  /** True when the model stopped at its token limit (the reply may be cut short). */
  truncated: z.boolean().optional(),
});
/** The assistant's turn. */
export type AssistantMessage = z.infer<typeof AssistantMessage>;

/** One message of a conversation. */
export const ChatMessage = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: z.string() }),
  z.object({ role: z.literal("user"), content: z.string() }),
  AssistantMessage,
  z.object({ role: z.literal("tool"), toolCallId: z.string().min(1), content: z.string() }),
]);
/** One message of a conversation. */
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A tool offered to the model; `parameters` is JSON Schema generated from the zod input. */
export const ToolDefinition = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});
/** A tool offered to the model. */
export type ToolDefinition = z.infer<typeof ToolDefinition>;

/** Token counts of one model call. */
export const TokenUsage = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
/** Token counts of one model call. */
export type TokenUsage = z.infer<typeof TokenUsage>;

/** A JSON Schema the reply must follow (`response_format: json_schema`), for one-call decisions. */
export const ResponseFormat = z.object({
  /** Schema name, letters, digits, `_` and `-`. */
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  /** The JSON Schema. */
  schema: z.record(z.string(), z.unknown()),
});
/** A JSON Schema the reply must follow. */
export type ResponseFormat = z.infer<typeof ResponseFormat>;

/** A conversation sent to a chat node (topic `ai_prompted[.<name>]`). */
export const ChatRequest = z.object({
  v: Version,
  correlationId: z.string().min(1),
  replyTo: z.string().min(1),
  agent: AgentName,
  /** Market tick this decision belongs to, when known. */
  tick: z.number().int().nonnegative().optional(),
  messages: z.array(ChatMessage).min(1),
  tools: z.array(ToolDefinition),
  /** The structured snapshot behind the prompt, for offline models (LLM providers ignore it). */
  snapshot: MarketSnapshot.optional(),
  /** The portfolio shown in the prompt, for offline models (LLM providers ignore it). */
  portfolio: PortfolioView.optional(),
  /** The offline rules policy that plays the agent's strategy (no regex over the prompt). */
  rulesPolicy: z.string().min(1).max(64).optional(),
  /** The terms the serving tools node fills on, for offline models (from the tool catalog). */
  desk: DeskTerms.optional(),
  /** Ask for one JSON object following this schema (the one-call decision protocol). */
  responseFormat: ResponseFormat.optional(),
  /** Wall-clock time after which the caller stops waiting; a chat node skips the model call. */
  expiresAt: Timestamp.optional(),
});
/** A conversation sent to a chat node. */
export type ChatRequest = z.infer<typeof ChatRequest>;

/** A chat node's answer: the assistant message, or an error after retries ran out. */
export const ChatReply = z.discriminatedUnion("ok", [
  z.object({
    v: Version,
    ok: z.literal(true),
    correlationId: z.string().min(1),
    agent: AgentName,
    model: z.string(),
    message: AssistantMessage,
    usage: TokenUsage,
  }),
  z.object({
    v: Version,
    ok: z.literal(false),
    correlationId: z.string().min(1),
    agent: AgentName,
    model: z.string(),
    error: z.string(),
  }),
]);
/** A chat node's answer. */
export type ChatReply = z.infer<typeof ChatReply>;

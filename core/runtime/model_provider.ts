/** The interface every model (OpenAI-compatible LLM, rules model, scripted test model) implements. */

import type {
  AssistantMessage,
  ChatMessage,
  ResponseFormat,
  TokenUsage,
  ToolDefinition,
} from "../contracts/chat.ts";
import type { DeskTerms } from "../contracts/desk.ts";
import type { MarketSnapshot } from "../contracts/market.ts";
import type { PortfolioView } from "../contracts/portfolio.ts";

/** Values of `tool_choice`: let the model choose, require a call, or forbid calls. */
export const TOOL_CHOICES = ["auto", "required", "none"] as const;

/** A `tool_choice` value. */
export type ToolChoice = typeof TOOL_CHOICES[number];

/** Sampling and length controls sent with every request (server defaults when absent). */
export interface RequestControls {
  /** Sampling temperature (llama.cpp defaults to 0.8; 0 for reproducible runs). */
  temperature?: number;
  /** Sampling seed, for servers that honour it. */
  seed?: number;
  /** Most completion tokens per reply; a reply cut there is marked `truncated`. */
  maxTokens?: number;
  /** `tool_choice` when tools are offered. */
  toolChoice?: ToolChoice;
}

/** What a chat node asks a model. */
export interface ModelRequest {
  /** Agent whose conversation this is. */
  agent: string;
  /** The conversation so far, system prompt first. */
  messages: ChatMessage[];
  /** Tools the model may call. */
  tools: ToolDefinition[];
  /** Structured market data behind the prompt (used by offline models only). */
  snapshot?: MarketSnapshot;
  /** The portfolio shown in the prompt (used by offline models only). */
  portfolio?: PortfolioView;
  /** The offline rules policy that plays the agent's strategy (used by offline models only). */
  rulesPolicy?: string;
  /** The terms the serving tools node fills on (used by offline models only). */
  desk?: DeskTerms;
  /** Answer one JSON object following this schema (the one-call decision protocol). */
  responseFormat?: ResponseFormat;
}

/** What a model answers. */
export interface ModelResponse {
  /** The assistant turn: text and/or tool calls. */
  message: AssistantMessage;
  /** Tokens used by this call (estimated for models that do not report them). */
  usage: TokenUsage;
  /** The model id as it should appear on dashboards (`rules` for the offline model). */
  model: string;
}

/** A model behind a chat node. */
export interface ModelProvider {
  /** The model id, e.g. `gpt-5-nano` or `rules`. */
  readonly model: string;
  /** Runs one completion; throws when the model finally fails (after its own retries). */
  complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelResponse>;
}

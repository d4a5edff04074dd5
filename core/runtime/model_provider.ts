/** The interface every model (OpenAI-compatible LLM, rules model, scripted test model) implements. */

import type {
  AssistantMessage,
  ChatMessage,
  TokenUsage,
  ToolDefinition,
} from "../contracts/chat.ts";
import type { MarketSnapshot } from "../contracts/market.ts";

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

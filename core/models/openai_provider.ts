/**
 * A ModelProvider for any OpenAI-compatible chat completions server (OpenAI, DeepSeek,
 * OpenRouter, Ollama, vLLM, LM Studio: only the base URL differs), through npm:openai.
 *
 * The client's own retries are off (`maxRetries: 0`); this module retries 429, 408, 409, 5xx,
 * timeouts and connection errors itself with capped exponential backoff and jitter, honouring
 * `Retry-After`, within a cap on attempts and on total time. A request that finally fails throws
 * an error naming the model, the attempts and the last cause, never the API key. A timed-out
 * request to a server on this machine is not retried: the server keeps computing the abandoned
 * one, so a retry would only queue behind it.
 *
 * Small local models often write tool calls as text; a reply without `tool_calls` whose content
 * holds calls (core/models/text_tool_calls.ts) gets them as tool calls marked `textCalls`, or is
 * marked `brokenCall` when it looks like a call that does not parse. A one-call JSON decision is
 * requested with `response_format: json_schema` (strict), and without it, once and from then on,
 * from a server that rejects it (the router then parses JSON from the plain text).
 */

import OpenAI from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import type { AssistantMessage, ChatMessage, ToolCall, ToolDefinition } from "../contracts/chat.ts";
import type { Logger } from "../log.ts";
import { parseTextToolCalls } from "./text_tool_calls.ts";
import { backoffDelay } from "../backoff.ts";
import { sanitizeErrorText } from "../runtime/chat_node.ts";
import type {
  ModelProvider,
  ModelRequest,
  ModelResponse,
  RequestControls,
} from "../runtime/model_provider.ts";

/** Reasoning effort values accepted by reasoning models. */
export const REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh"] as const;

/** A reasoning effort value. */
export type ReasoningEffort = typeof REASONING_EFFORTS[number];

/** Options for {@linkcode OpenAIProvider}. */
export interface OpenAIProviderOptions {
  /** Model id sent to the server, e.g. `gpt-5-nano` or `deepseek-chat`. */
  model: string;
  /** API key (servers that need none, such as Ollama, accept any non-empty text). */
  apiKey: string;
  /** Base URL of an OpenAI-compatible server, e.g. `http://localhost:11434/v1`; default OpenAI. */
  baseURL?: string;
  /** Sent as `reasoning_effort` when given (reasoning models only). */
  reasoningEffort?: ReasoningEffort;
  /** Temperature, seed, token limit and tool choice. */
  controls?: RequestControls;
  /** Retry timed-out requests (default: not for a server on this machine, see the module doc). */
  retryTimeouts?: boolean;
  /** Timeout of one HTTP attempt in milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Most attempts per completion, the first included (default 5). */
  maxAttempts?: number;
  /** No new attempt starts after this many milliseconds since the first (default 120 000). */
  maxTotalMs?: number;
  /** Backoff before the second attempt in milliseconds; doubles per attempt (default 500). */
  baseDelayMs?: number;
  /** Longest wait between attempts in milliseconds, Retry-After included (default 20 000). */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1) (default Math.random; tests pass a constant). */
  random?: () => number;
  /** Where retries are logged (the key is never logged). */
  log?: Logger;
}

/** Maps our conversation to chat completions messages. */
export function toOpenAIMessages(messages: ChatMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content };
      case "user":
        return { role: "user", content: message.content };
      case "tool":
        return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
      case "assistant": {
        const toolCalls = message.toolCalls ?? [];
        if (toolCalls.length === 0) return { role: "assistant", content: message.content ?? "" };
        return {
          role: "assistant",
          content: message.content,
          tool_calls: toolCalls.map((call) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: call.arguments },
          })),
        };
      }
    }
  });
}

/** Maps our tool definitions to chat completions function tools. */
export function toOpenAITools(tools: ToolDefinition[]): ChatCompletionTool[] {
  return tools.map((tool) => ({
    type: "function" as const,
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

/**
 * Maps a chat completion's first choice to our assistant message. With `toolNames` (the tools
 * offered), calls written as text in a reply without native calls become tool calls.
 */
export function fromOpenAICompletion(
  completion: ChatCompletion,
  toolNames: readonly string[] = [],
): AssistantMessage {
  const choice = completion.choices?.[0];
  if (!choice) throw new Error("Model reply had no choices, expected at least one");
  const truncated = choice.finish_reason === "length" ? { truncated: true } : {};
  const toolCalls: ToolCall[] = [];
  for (const call of choice.message.tool_calls ?? []) {
    if (call.type !== "function") continue;
    toolCalls.push({
      // Some servers omit ids; a fresh one keeps the ledger's per-call deduplication correct.
      id: call.id || `call_${crypto.randomUUID()}`,
      name: call.function.name,
      arguments: call.function.arguments ?? "",
    });
  }
  const content = choice.message.content ?? null;
  if (toolCalls.length > 0 || toolNames.length === 0) {
    return { role: "assistant", content, toolCalls, ...truncated };
  }
  const parsed = parseTextToolCalls(content, toolNames);
  if (parsed.broken !== undefined) {
    return { role: "assistant", content, toolCalls, brokenCall: parsed.broken, ...truncated };
  }
  if (parsed.calls.length === 0) return { role: "assistant", content, toolCalls, ...truncated };
  return {
    role: "assistant",
    content,
    toolCalls: parsed.calls.map((call) => ({ id: `call_text_${crypto.randomUUID()}`, ...call })),
    textCalls: true,
    ...truncated,
  };
}

/** Whether a base URL points at this machine (a local server computes one request at a time). */
export function isLocalBaseUrl(baseURL: string | undefined): boolean {
  if (!baseURL) return false;
  try {
    const host = new URL(baseURL).hostname;
    return host === "localhost" || host === "[::1]" || host.startsWith("127.");
  } catch {
    return false;
  }
}

/** Whether an error says the server does not accept `response_format` (so retry without it). */
function rejectsResponseFormat(error: unknown): boolean {
  if (!(error instanceof OpenAI.APIError) || error.status === undefined) return false;
  if (![400, 404, 415, 422, 501].includes(error.status)) return false;
  return /response_format|json_schema|schema|grammar|structured/i.test(error.message);
}

/** Whether an error from npm:openai is worth another attempt. */
function isRetryable(error: unknown, retryTimeouts: boolean): boolean {
  if (error instanceof OpenAI.APIUserAbortError) return false;
  if (error instanceof OpenAI.APIConnectionTimeoutError) return retryTimeouts;
  if (error instanceof OpenAI.APIConnectionError) return true;
  if (error instanceof OpenAI.APIError) {
    const status = error.status;
    return status === undefined || status === 408 || status === 409 || status === 429 ||
      status >= 500;
  }
  return false;
}

/** The wait a server asked for through `retry-after-ms` or `Retry-After`, in milliseconds. */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A short description of an npm:openai error: status and message. */
function describe(error: unknown): string {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return "request timed out";
  if (error instanceof OpenAI.APIConnectionError) {
    return `connection error: ${error.message}`;
  }
  if (error instanceof OpenAI.APIError) {
    return error.status === undefined ? error.message : `HTTP ${error.status}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Waits `ms` milliseconds unless the signal aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** An OpenAI-compatible chat completions model with our retry policy. */
export class OpenAIProvider implements ModelProvider {
  /** The model id sent to the server and shown on dashboards. */
  readonly model: string;
  #client: OpenAI;
  #apiKey: string;
  #reasoningEffort?: ReasoningEffort;
  #controls: RequestControls;
  #local: boolean;
  #retryTimeouts: boolean;
  #responseFormatRejected = false;
  #timeoutMs: number;
  #maxAttempts: number;
  #maxTotalMs: number;
  #baseDelayMs: number;
  #maxDelayMs: number;
  #random: () => number;
  #log?: Logger;

  /** Builds the client; throws when the key or model is missing. */
  constructor(options: OpenAIProviderOptions) {
    if (!options.model) throw new Error("Model id must be a non-empty string, e.g. gpt-5-nano");
    if (!options.apiKey) {
      throw new Error("API key must be given (--api-key or OPENAI_API_KEY), got nothing");
    }
    this.model = options.model;
    this.#apiKey = options.apiKey;
    this.#reasoningEffort = options.reasoningEffort;
    this.#controls = options.controls ?? {};
    this.#local = isLocalBaseUrl(options.baseURL);
    this.#retryTimeouts = options.retryTimeouts ?? !this.#local;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#maxTotalMs = options.maxTotalMs ?? 120_000;
    this.#baseDelayMs = options.baseDelayMs ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 20_000;
    this.#random = options.random ?? Math.random;
    this.#log = options.log;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) {
      throw new Error(`Max attempts must be a positive integer, got ${this.#maxAttempts}`);
    }
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: 0,
      timeout: this.#timeoutMs,
    });
  }

  /** Runs one chat completion with retries; throws a sanitised error when it finally fails. */
  async complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelResponse> {
    const body = this.#body(request);
    const toolNames = request.tools.map((tool) => tool.name);

    const started = Date.now();
    let attempt = 0;
    while (true) {
      attempt++;
      try {
        const completion = await this.#client.chat.completions.create(body, {
          signal,
          timeout: this.#timeoutMs,
        });
        return {
          message: fromOpenAICompletion(completion, request.responseFormat ? [] : toolNames),
          usage: {
            promptTokens: completion.usage?.prompt_tokens ?? 0,
            completionTokens: completion.usage?.completion_tokens ?? 0,
          },
          model: this.model,
        };
      } catch (error) {
        const cause = this.#clean(describe(error));
        if (signal?.aborted) throw new Error(`Model ${this.model} call was cancelled`);
        if (body.response_format && rejectsResponseFormat(error)) {
          this.#responseFormatRejected = true;
          delete body.response_format;
          this.#log?.warn("The server rejects response_format; asking for plain JSON text", {
            model: this.model,
            error: cause,
          });
          attempt--;
          continue;
        }
        if (!isRetryable(error, this.#retryTimeouts)) {
          throw new Error(`Model ${this.model} request failed (not retried): ${cause}`);
        }
        const elapsed = Date.now() - started;
        const asked = error instanceof OpenAI.APIError ? retryAfterMs(error.headers) : undefined;
        const backoff = { initialMs: this.#baseDelayMs, maxMs: this.#maxDelayMs, jitter: 0.5 };
        const delay = asked !== undefined
          ? Math.min(asked, this.#maxDelayMs)
          : backoffDelay(attempt - 1, backoff, this.#random);
        if (attempt >= this.#maxAttempts || elapsed + delay >= this.#maxTotalMs) {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          throw new Error(
            `Model ${this.model} failed after ${attempt} attempts in ${seconds} s: ${cause}`,
          );
        }
        this.#log?.warn("Model call failed, retrying", {
          model: this.model,
          agent: request.agent,
          attempt,
          delayMs: delay,
          error: cause,
        });
        await sleep(delay, signal);
      }
    }
  }

  /** The request body: messages, tools or a response format, and the request controls. */
  #body(request: ModelRequest): ChatCompletionCreateParamsNonStreaming {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: toOpenAIMessages(request.messages),
    };
    const controls = this.#controls;
    if (request.responseFormat) {
      if (!this.#responseFormatRejected) {
        body.response_format = {
          type: "json_schema",
          json_schema: {
            name: request.responseFormat.name,
            schema: request.responseFormat.schema,
            strict: true,
          },
        };
      }
    } else if (request.tools.length > 0) {
      body.tools = toOpenAITools(request.tools);
      if (controls.toolChoice) body.tool_choice = controls.toolChoice;
    }
    if (this.#reasoningEffort) body.reasoning_effort = this.#reasoningEffort;
    if (controls.temperature !== undefined) body.temperature = controls.temperature;
    if (controls.seed !== undefined) body.seed = controls.seed;
    if (controls.maxTokens !== undefined) {
      // OpenAI's reasoning models accept only max_completion_tokens; other servers read max_tokens.
      if (this.#local || this.#client.baseURL !== "https://api.openai.com/v1") {
        body.max_tokens = controls.maxTokens;
      } else {
        body.max_completion_tokens = controls.maxTokens;
      }
    }
    return body;
  }

  #clean(text: string): string {
    return sanitizeErrorText(text, [this.#apiKey]);
  }
}

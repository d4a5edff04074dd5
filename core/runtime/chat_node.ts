/** ChatNode: answers chat requests on `ai_prompted[.<name>]` with a model provider. */

import type { Bus, Subscription, TopicSpec } from "../bus/bus.ts";
import { serveRequests } from "../bus/request_reply.ts";
import { arenaTopics, CHAT_TOPIC, CHAT_TOPIC_PARTITIONS } from "../bus/topics.ts";
import type { ActivityEvent } from "../contracts/activity.ts";
import { type ChatReply, ChatRequest, type TokenUsage } from "../contracts/chat.ts";
import type { Logger } from "../log.ts";
import type { ModelProvider } from "./model_provider.ts";
import { EXPIRY_GRACE_MS, isExpired } from "./_expiry.ts";

/** Default bound on concurrent model calls of one chat node (the original's `max_workers`). */
export const DEFAULT_MAX_WORKERS = 10;

/** Requests a chat node takes at once (each waits for a worker before its model call). */
const REQUESTS_IN_HAND = 256;

/** Partitions of a chat request topic (stated once, in core/bus/topics.ts). */
export { CHAT_TOPIC_PARTITIONS };

/** Longest error text sent back to an agent, in characters. */
const ERROR_TEXT_LIMIT = 500;

/** Price of one model in USD per million tokens. */
export interface ModelPrice {
  /** USD per million prompt (input) tokens. */
  input: number;
  /** USD per million completion (output) tokens. */
  output: number;
}

/** Prices per model id; a model id also matches a longer dated id such as `gpt-5-nano-2025-08-07`. */
export type PriceTable = Record<string, ModelPrice>;

/** List prices (USD per million tokens, standard tier, uncached input) used for cost estimates. */
export const DEFAULT_PRICE_TABLE: Readonly<PriceTable> = Object.freeze({
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "deepseek-chat": { input: 0.28, output: 0.42 },
  "rules": { input: 0, output: 0 },
});

/** Finds a model's price: exact id first, then the longest table id the model id starts with. */
function priceOf(model: string, table: Readonly<PriceTable>): ModelPrice | undefined {
  const exact = table[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const id of Object.keys(table)) {
    if (model.startsWith(`${id}-`) && (best === undefined || id.length > best.length)) best = id;
  }
  return best === undefined ? undefined : table[best];
}

/** Estimated cost in USD of one model call; 0 for the `rules` model and models not in the table. */
export function estimateCostUsd(
  model: string,
  usage: TokenUsage,
  table: Readonly<PriceTable> = DEFAULT_PRICE_TABLE,
): number {
  const price = priceOf(model, table);
  if (!price) return 0;
  const cost = (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1e6;
  return Math.round(cost * 1e9) / 1e9;
}

/** Replaces API keys, bearer tokens and given secrets in an error text and shortens it. */
export function sanitizeErrorText(text: string, secrets: string[] = []): string {
  let clean = text.split("\n", 1)[0] ?? "";
  for (const secret of secrets) {
    if (secret.length >= 4) clean = clean.replaceAll(secret, "[redacted]");
  }
  clean = clean
    .replace(/\bsk-[A-Za-z0-9_-]{6,}/g, "[redacted]")
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]")
    .replace(
      /((?:api[_-]?key|token|secret|password)["']?\s*[:=]\s*["']?)[^\s"',&]+/gi,
      "$1[redacted]",
    );
  clean = clean.trim() || "Model call failed";
  return clean.length <= ERROR_TEXT_LIMIT ? clean : `${clean.slice(0, ERROR_TEXT_LIMIT - 1)}…`;
}

/**
 * The topic spec of a chat request topic (created by whichever side starts first, with the same
 * partition count: `arenaTopics(prefix).chat(name)`).
 */
export function chatTopicSpec(name?: string, topicPrefix = ""): TopicSpec {
  return arenaTopics(topicPrefix).chat(name);
}

/** Options for {@linkcode startChatNode}. */
export interface ChatNodeOptions {
  /** The model behind this node. */
  provider: ModelProvider;
  /** Node name: consumes `ai_prompted.<name>`; without it the shared `ai_prompted`. */
  name?: string;
  /** Bound on concurrent model calls (default 10). */
  maxWorkers?: number;
  /** Where requests and failures are logged. */
  log: Logger;
  /** Prices per model id merged over {@linkcode DEFAULT_PRICE_TABLE} (USD per million tokens). */
  costPerMillionTokens?: PriceTable;
  /** Strings (such as the API key) that must never appear in an error reply. */
  secrets?: string[];
  /** Consumer group shared by the replicas of this node (default `chat_node.<name>`). */
  groupId?: string;
  /** Prefix of every topic name (isolated arenas and tests; default none). */
  topicPrefix?: string;
}

/** Counters of a running chat node. */
export interface ChatNodeStats {
  /** Requests answered with a model reply. */
  answered: number;
  /** Requests answered with an error reply. */
  failed: number;
  /** Requests skipped because their caller had stopped waiting (`expiresAt` passed). */
  expired: number;
  /** Model calls running right now. */
  inFlight: number;
  /** Most model calls that ran at once. */
  peakInFlight: number;
}

/** A running chat node. */
export interface ChatNodeHandle {
  /** The request topic consumed. */
  readonly topic: string;
  /** The model id of the provider. */
  readonly model: string;
  /** A copy of the node's counters. */
  stats(): ChatNodeStats;
  /** Stops consuming after in-flight requests are answered. */
  stop(): Promise<void>;
}

/** Bounds how many tasks run at once; waiters start in arrival order. */
class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

/** The `ok: false` answer to a request: the agent reads `error` and ends that decision. */
function failedReply(
  request: ChatRequest,
  failure: { model: string; error: string },
): ChatReply {
  return {
    v: 1,
    ok: false,
    correlationId: request.correlationId,
    agent: request.agent,
    model: failure.model,
    error: failure.error,
  };
}

/**
 * Starts a chat node. Each request is answered on its reply-to topic (ChatReply, keyed by agent)
 * before its offset commits, and a `usage` activity event with tokens and estimated cost is
 * published for every successful model call. A provider that throws yields an `ok: false` reply
 * with a sanitised message, so the agent ends that decision visibly instead of hanging. A request
 * past its `expiresAt` (a backlog after downtime) is answered without calling the model.
 */
export async function startChatNode(bus: Bus, options: ChatNodeOptions): Promise<ChatNodeHandle> {
  const maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
  if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
    throw new Error(`Max workers must be a positive integer, got ${maxWorkers}`);
  }
  const prefix = options.topicPrefix ?? "";
  const provider = options.provider;
  const log = options.log;
  const table: PriceTable = { ...DEFAULT_PRICE_TABLE, ...options.costPerMillionTokens };
  const secrets = options.secrets ?? [];
  const topics = arenaTopics(prefix);
  const spec = topics.chat(options.name);
  const activityTopic = topics.activity.topic;
  await bus.ensureTopics([spec, topics.activity, topics.deadLetter]);
  const workers = new Semaphore(maxWorkers);
  const stats: ChatNodeStats = {
    answered: 0,
    failed: 0,
    expired: 0,
    inFlight: 0,
    peakInFlight: 0,
  };

  /** The reply to a request that expired before its model call, which is not made. */
  const expiredReply = (request: ChatRequest, when: string): { reply: ChatReply } => {
    stats.expired++;
    log.warn("Skipping an expired chat request", {
      agent: request.agent,
      expiresAt: request.expiresAt,
    });
    return {
      reply: failedReply(request, {
        model: provider.model,
        error: `Request expired at ${request.expiresAt} ${when}; the model was not called`,
      }),
    };
  };

  /** The reply, and the usage event of a model call that answered (published with it). */
  const answer = async (
    request: ChatRequest,
  ): Promise<{ reply: ChatReply; usage?: ActivityEvent }> => {
    if (isExpired(request.expiresAt)) {
      return expiredReply(request, "before the chat node received it");
    }
    await workers.acquire();
    // Requests are taken ahead of free workers: one may have expired while it waited.
    if (isExpired(request.expiresAt)) {
      workers.release();
      return expiredReply(request, `while it waited for one of ${maxWorkers} workers`);
    }
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    // Abort the model call once the caller has stopped waiting (no tokens spent for nobody).
    const abort = new AbortController();
    const expiry = request.expiresAt === undefined ? undefined : setTimeout(
      () => abort.abort(new Error(`Request expired at ${request.expiresAt}`)),
      Math.max(0, Date.parse(request.expiresAt) + EXPIRY_GRACE_MS - Date.now()),
    );
    try {
      const response = await provider.complete({
        agent: request.agent,
        messages: request.messages,
        tools: request.tools,
        snapshot: request.snapshot,
        portfolio: request.portfolio,
        rulesPolicy: request.rulesPolicy,
        desk: request.desk,
        responseFormat: request.responseFormat,
      }, abort.signal);
      stats.answered++;
      const usage: ActivityEvent = {
        v: 1,
        kind: "usage",
        agent: request.agent,
        time: request.snapshot?.time ?? new Date().toISOString(),
        tick: request.tick,
        model: response.model,
        promptTokens: response.usage.promptTokens,
        completionTokens: response.usage.completionTokens,
        costUsd: estimateCostUsd(response.model, response.usage, table),
      };
      return {
        reply: {
          v: 1,
          ok: true,
          correlationId: request.correlationId,
          agent: request.agent,
          model: response.model,
          message: { ...response.message, toolCalls: response.message.toolCalls ?? [] },
          usage: response.usage,
        },
        usage,
      };
    } catch (error) {
      stats.failed++;
      const raw = error instanceof Error ? error.message : String(error);
      const message = sanitizeErrorText(raw, secrets);
      log.warn("Model call failed", {
        agent: request.agent,
        model: provider.model,
        error: message,
      });
      return { reply: failedReply(request, { model: provider.model, error: message }) };
    } finally {
      clearTimeout(expiry);
      stats.inFlight--;
      workers.release();
    }
  };

  const subscription: Subscription = await serveRequests(bus, {
    groupId: options.groupId ?? `chat_node.${options.name ?? CHAT_TOPIC}`,
    topic: spec.topic,
    schema: ChatRequest,
    log,
    // Requests of different agents are taken at once; the workers bound the model calls only,
    // so a request whose reply waits for its acknowledgement does not hold a model slot.
    concurrency: Math.max(maxWorkers, REQUESTS_IN_HAND),
    handle: async (request) => {
      const { reply, usage } = await answer(request);
      return {
        replyTo: request.replyTo,
        key: request.agent,
        reply,
        alongside: usage ? [{ topic: activityTopic, key: request.agent, message: usage }] : [],
      };
    },
  });
  log.info("Chat node started", { topic: spec.topic, model: provider.model, maxWorkers });

  let stopped: Promise<void> | undefined;
  return {
    topic: spec.topic,
    model: provider.model,
    stats: () => ({ ...stats }),
    stop: () => stopped ??= subscription.close(),
  };
}

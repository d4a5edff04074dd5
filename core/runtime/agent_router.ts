/**
 * AgentRouter: one trading agent. It reads market snapshots in its own consumer group, sends the
 * conversation to its chat node, routes tool calls to tool nodes (all calls of one model reply
 * concurrently), loops until the model answers without tool calls or the step limit, and keeps a
 * short summary of its last decisions as memory.
 */

import type { Bus, Subscription, TopicSpec } from "../bus/bus.ts";
import { publishMessages, subscribeMessages } from "../bus/messages.ts";
import { ReplyInbox } from "../bus/request_reply.ts";
import {
  ACTIVITY_TOPIC,
  AGENT_INPUT_TOPIC,
  agentPrivateTopic,
  ARENA_TOPICS,
  dynamicTopic,
  toolRequestTopic,
} from "../bus/topics.ts";
import type { ActivityEvent } from "../contracts/activity.ts";
import { AgentName } from "../contracts/common.ts";
import {
  type AssistantMessage,
  type ChatMessage,
  ChatReply,
  type ChatRequest,
  type ToolCall,
  type ToolDefinition,
} from "../contracts/chat.ts";
import { MarketSnapshot } from "../contracts/market.ts";
import { ToolCallResult } from "../contracts/tools.ts";
import type { ToolCallRequest } from "../contracts/tools.ts";
import type { Logger } from "../log.ts";
import { chatTopicSpec } from "./chat_node.ts";
import { expiresIn } from "./_expiry.ts";

/** Default bound on model calls per decision. */
export const DEFAULT_MAX_STEPS = 8;
/** Default number of past decisions summarised in the prompt. */
export const DEFAULT_MEMORY_DECISIONS = 5;
/** Default bound on the wait for one chat reply or one round of tool results. */
export const DEFAULT_REPLY_TIMEOUT_MS = 60_000;

/** How a decision ended (the `outcome` of its `decision` activity event). */
export type DecisionOutcome = "answered" | "step_limit" | "model_error" | "timeout";

/** Options for {@linkcode AgentRouter.start}. */
export interface AgentRouterOptions {
  /** Agent name: identity, consumer group on the market topic and private topic suffix. */
  agent: string;
  /** The strategy's system prompt. */
  systemPrompt: string;
  /** Chat node to talk to: `ai_prompted.<name>`; without it the shared `ai_prompted`. */
  chatNodeName?: string;
  /** Tools offered to the model; the tool nodes serving them run elsewhere. */
  tools: ToolDefinition[];
  /** Renders a snapshot as the user prompt (e.g. `renderSnapshotPrompt` from core/market). */
  renderPrompt: (snapshot: MarketSnapshot) => string;
  /** Bound on model calls per decision (default 8). */
  maxSteps?: number;
  /** Past decisions summarised in the prompt (default 5). */
  memoryDecisions?: number;
  /** Bound on the wait for a chat reply or tool results (default 60 s); ends the decision. */
  replyTimeoutMs?: number;
  /** Where the agent's progress and failures are logged. */
  log: Logger;
  /** Consumer group on the market topic (default the agent name). */
  groupId?: string;
  /** Read snapshots published before a new consumer group joined (default false). */
  fromBeginning?: boolean;
  /** Prefix of every topic name (isolated arenas and tests; default none). */
  topicPrefix?: string;
}

/** One tool call as remembered: name, shortened arguments and result. */
export interface RememberedToolCall {
  /** Tool name. */
  tool: string;
  /** The model's arguments, shortened. */
  arguments: string;
  /** Whether the tool succeeded. */
  ok: boolean;
  /** The result the model read, shortened. */
  result: string;
}

/** A short record of one decision, kept as memory for the next ones. */
export interface DecisionMemory {
  /** Market tick decided on. */
  tick: number;
  /** Market-clock time of the tick. */
  time: string;
  /** How the decision ended. */
  outcome: DecisionOutcome;
  /** The model's last words (its reasoning or conclusion), shortened. */
  summary: string;
  /** Tool calls made, at most a few. */
  toolCalls: RememberedToolCall[];
  /** Tool calls left out of `toolCalls`. */
  omittedToolCalls: number;
}

/** Counters of a running agent. */
export interface AgentRouterStats {
  /** Decisions completed (one per snapshot decided on). */
  decisions: number;
  /** Snapshots replaced by newer ones while the agent was busy. */
  skippedTicks: number;
  /** Model calls made, over all decisions. */
  steps: number;
  /** Decisions per outcome. */
  outcomes: Record<DecisionOutcome, number>;
  /** Tick of the last decision, 0 before the first. */
  lastTick: number;
}

const SUMMARY_LIMIT = 240;
const ARGUMENTS_LIMIT = 120;
const RESULT_LIMIT = 160;
const REMEMBERED_CALLS = 4;

/** Shortens a text to one line of at most `limit` characters. */
function clip(text: string, limit: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= limit ? line : `${line.slice(0, limit - 1)}…`;
}

/** Renders the memory block: a few lines per past decision, oldest first. */
export function renderMemory(entries: readonly DecisionMemory[]): string {
  const lines = [`Your last ${entries.length} decisions (oldest first):`];
  for (const entry of entries) {
    lines.push(`- Tick ${entry.tick} at ${entry.time} (${entry.outcome}): ${entry.summary || "-"}`);
    for (const call of entry.toolCalls) {
      lines.push(
        `  ${call.tool}(${call.arguments}) -> ${call.ok ? "ok" : "error"}: ${call.result}`,
      );
    }
    if (entry.omittedToolCalls > 0) lines.push(`  (+${entry.omittedToolCalls} more tool calls)`);
  }
  return lines.join("\n");
}

/** Builds the messages of a decision's first model call: system prompt, memory, market prompt. */
export function buildMessages(
  systemPrompt: string,
  options: { memory: readonly DecisionMemory[]; prompt: string },
): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: "system", content: systemPrompt }];
  if (options.memory.length > 0) {
    messages.push({ role: "system", content: renderMemory(options.memory) });
  }
  messages.push({ role: "user", content: options.prompt });
  return messages;
}

/** Why a decision stopped early. */
class DecisionStop extends Error {
  constructor(readonly outcome: DecisionOutcome, message: string) {
    super(message);
  }
}

/** A running agent router; see the module doc. */
export class AgentRouter {
  readonly #bus: Bus;
  readonly #agent: string;
  readonly #systemPrompt: string;
  readonly #tools: ToolDefinition[];
  readonly #toolNames: Set<string>;
  readonly #renderPrompt: (snapshot: MarketSnapshot) => string;
  readonly #maxSteps: number;
  readonly #memorySize: number;
  readonly #replyTimeoutMs: number;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #chatTopic: string;
  readonly #replyTopic: string;
  readonly #activityTopic: string;
  readonly #memory: DecisionMemory[] = [];
  readonly #stats: AgentRouterStats = {
    decisions: 0,
    skippedTicks: 0,
    steps: 0,
    outcomes: { answered: 0, step_limit: 0, model_error: 0, timeout: 0 },
    lastTick: 0,
  };
  #inbox?: ReplyInbox;
  #input?: Subscription;
  #pending: MarketSnapshot | undefined;
  #wake: (() => void) | undefined;
  #stopping = false;
  #loop: Promise<void> = Promise.resolve();
  #stopped: Promise<void> | undefined;
  #decisionSeq = 0;

  private constructor(bus: Bus, options: AgentRouterOptions) {
    this.#bus = bus;
    this.#agent = options.agent;
    this.#systemPrompt = options.systemPrompt;
    this.#tools = [...options.tools];
    this.#toolNames = new Set(options.tools.map((tool) => tool.name));
    this.#renderPrompt = options.renderPrompt;
    this.#maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.#memorySize = options.memoryDecisions ?? DEFAULT_MEMORY_DECISIONS;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.#log = options.log;
    this.#prefix = options.topicPrefix ?? "";
    this.#chatTopic = chatTopicSpec(options.chatNodeName, this.#prefix).topic;
    this.#replyTopic = this.#prefix + agentPrivateTopic(options.agent);
    this.#activityTopic = this.#prefix + ACTIVITY_TOPIC;
  }

  /**
   * Starts an agent: opens its reply inbox, then joins its consumer group on the market topic.
   * Snapshots are handed to the decision loop at once (their offsets commit right away): a
   * snapshot is transient market data, and after a crash the next snapshot, not a stale one, is
   * what the agent should decide on, so at-least-once delivery of old snapshots is not wanted.
   */
  static async start(bus: Bus, options: AgentRouterOptions): Promise<AgentRouter> {
    if (!AgentName.safeParse(options.agent).success) {
      throw new Error(
        `Agent name must be 1-64 letters, digits, '.', '_' or '-' starting with a letter or ` +
          `digit, got ${JSON.stringify(options.agent)}`,
      );
    }
    if (!Number.isInteger(options.maxSteps ?? 1) || (options.maxSteps ?? 1) < 1) {
      throw new Error(`Max steps must be a positive integer, got ${options.maxSteps}`);
    }
    if (!Number.isInteger(options.memoryDecisions ?? 0) || (options.memoryDecisions ?? 0) < 0) {
      throw new Error(
        `Memory decisions must be a non-negative integer, got ${options.memoryDecisions}`,
      );
    }
    const router = new AgentRouter(bus, options);
    return await router.#start(options);
  }

  /** The agent's name. */
  get agent(): string {
    return this.#agent;
  }

  /** A copy of the agent's counters. */
  get stats(): AgentRouterStats {
    return { ...this.#stats, outcomes: { ...this.#stats.outcomes } };
  }

  /** The summaries of the last decisions, oldest first. */
  get memory(): readonly DecisionMemory[] {
    return this.#memory.map((entry) => ({ ...entry, toolCalls: [...entry.toolCalls] }));
  }

  /** Stops reading snapshots, finishes the decision in flight (not the pending one), then closes. */
  stop(): Promise<void> {
    return this.#stopped ??= (async () => {
      this.#stopping = true;
      await this.#input?.close();
      this.#wake?.();
      await this.#loop;
      await this.#inbox?.close();
    })();
  }

  async #start(options: AgentRouterOptions): Promise<AgentRouter> {
    const bus = this.#bus;
    const inputTopic = this.#prefix + AGENT_INPUT_TOPIC;
    const inputSpec: TopicSpec = {
      ...(ARENA_TOPICS.find((spec) => spec.topic === AGENT_INPUT_TOPIC) ??
        dynamicTopic(AGENT_INPUT_TOPIC, 1)),
      topic: inputTopic,
    };
    await bus.ensureTopics([
      inputSpec,
      dynamicTopic(this.#replyTopic),
      chatTopicSpec(options.chatNodeName, this.#prefix),
    ]);
    this.#inbox = await ReplyInbox.open(bus, {
      replyTopic: this.#replyTopic,
      groupId: `agent_router.${this.#agent}.replies.${crypto.randomUUID().slice(0, 8)}`,
      log: this.#log,
    });
    this.#loop = this.#run();
    try {
      this.#input = await subscribeMessages(bus, {
        groupId: options.groupId ?? this.#agent,
        topics: [inputTopic],
        schema: MarketSnapshot,
        log: this.#log,
        fromBeginning: options.fromBeginning ?? false,
        handler: (snapshot) => {
          this.#offer(snapshot);
          return Promise.resolve();
        },
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#log.info("Agent started", {
      agent: this.#agent,
      chatTopic: this.#chatTopic,
      tools: [...this.#toolNames],
    });
    return this;
  }

  /** Latest-only: a newer snapshot replaces the pending one, which counts as skipped. */
  #offer(snapshot: MarketSnapshot): void {
    if (this.#stopping) return;
    if (this.#pending) {
      this.#stats.skippedTicks++;
      this.#log.debug("Skipping a tick the agent had no time for", {
        agent: this.#agent,
        skipped: this.#pending.tick,
        next: snapshot.tick,
      });
    }
    this.#pending = snapshot;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (!this.#pending) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      // Let a burst of queued snapshots (a backlog after a restart) arrive, so only the latest
      // of them is decided on.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const snapshot = this.#pending;
      this.#pending = undefined;
      if (!snapshot || this.#stopping) continue;
      try {
        await this.#decide(snapshot);
      } catch (error) {
        // Unexpected (e.g. the prompt renderer threw): still end the tick visibly, so lockstep
        // replays and dashboards never wait for a decision that will not come.
        const message = `Decision failed: ${(error as Error)?.message ?? String(error)}`;
        this.#log.error("Decision failed", { agent: this.#agent, tick: snapshot.tick, error });
        this.#stats.decisions++;
        this.#stats.outcomes.model_error++;
        this.#stats.lastTick = snapshot.tick;
        const base = {
          v: 1 as const,
          agent: this.#agent,
          time: snapshot.time,
          tick: snapshot.tick,
        };
        await this.#publish([
          { ...base, kind: "error", message },
          {
            ...base,
            kind: "decision",
            steps: 0,
            outcome: "model_error",
            skippedTicks: this.#stats.skippedTicks,
          },
        ]);
      }
    }
  }

  async #publish(events: ActivityEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await publishMessages(
        this.#bus,
        this.#activityTopic,
        events.map((message) => ({ key: this.#agent, message })),
      );
    } catch (error) {
      this.#log.warn("Could not publish activity", { agent: this.#agent, error });
    }
  }

  async #decide(snapshot: MarketSnapshot): Promise<void> {
    const decisionId = `${this.#agent}.${snapshot.tick}.${++this.#decisionSeq}.${
      crypto.randomUUID().slice(0, 8)
    }`;
    const base = { v: 1 as const, agent: this.#agent, time: snapshot.time, tick: snapshot.tick };
    const messages = buildMessages(this.#systemPrompt, {
      memory: this.#memory,
      prompt: this.#renderPrompt(snapshot),
    });
    const calls: RememberedToolCall[] = [];
    let callCount = 0;
    let summary = "";
    let steps = 0;
    let outcome: DecisionOutcome = "step_limit";
    // Activity waiting to be published together with the next batch (fewer producer round trips).
    let reasoning: ActivityEvent[] = [];
    try {
      for (let step = 1; step <= this.#maxSteps; step++) {
        const reply = await this.#chat(snapshot, messages, `${decisionId}.s${step}`);
        steps = step;
        this.#stats.steps++;
        const message: AssistantMessage = reply;
        messages.push(message);
        if (message.content && message.content.trim() !== "") {
          summary = message.content;
          reasoning = [{ ...base, kind: "reasoning", text: message.content }];
        }
        if (message.toolCalls.length === 0) {
          outcome = "answered";
          break;
        }
        const results = await this.#runTools(snapshot, message.toolCalls, {
          correlationBase: `${decisionId}.s${step}`,
          before: reasoning,
        });
        reasoning = [];
        for (const [index, call] of message.toolCalls.entries()) {
          const result = results[index]!;
          messages.push({ role: "tool", toolCallId: call.id, content: result.content });
          callCount++;
          if (calls.length < REMEMBERED_CALLS) {
            calls.push({
              tool: call.name,
              arguments: clip(call.arguments, ARGUMENTS_LIMIT),
              ok: result.ok,
              result: clip(result.content, RESULT_LIMIT),
            });
          }
        }
        const timedOut = results.filter((result) => result.timedOut);
        if (timedOut.length > 0) {
          throw new DecisionStop(
            "timeout",
            `No result from ${
              timedOut.map((result) => result.tool).join(", ")
            } within ${this.#replyTimeoutMs} ms`,
          );
        }
      }
    } catch (error) {
      if (!(error instanceof DecisionStop)) throw error;
      outcome = error.outcome;
      summary = `${error.outcome === "timeout" ? "Timed out" : "Model error"}: ${error.message}`;
      reasoning.push({ ...base, kind: "error", message: error.message });
    }
    if (outcome === "step_limit") {
      reasoning.push({
        ...base,
        kind: "error",
        message: `Step limit of ${this.#maxSteps} model calls reached before a final answer`,
      });
    }
    this.#remember({
      tick: snapshot.tick,
      time: snapshot.time,
      outcome,
      summary: clip(summary, SUMMARY_LIMIT),
      toolCalls: calls,
      omittedToolCalls: callCount - calls.length,
    });
    this.#stats.decisions++;
    this.#stats.outcomes[outcome]++;
    this.#stats.lastTick = snapshot.tick;
    await this.#publish([...reasoning, {
      ...base,
      kind: "decision",
      steps,
      outcome,
      skippedTicks: this.#stats.skippedTicks,
    }]);
    this.#log.debug("Decision complete", {
      agent: this.#agent,
      tick: snapshot.tick,
      outcome,
      steps,
    });
  }

  #remember(entry: DecisionMemory): void {
    if (this.#memorySize === 0) return;
    this.#memory.push(entry);
    while (this.#memory.length > this.#memorySize) this.#memory.shift();
  }

  /** Sends the conversation to the chat node and returns the assistant message. */
  async #chat(
    snapshot: MarketSnapshot,
    messages: ChatMessage[],
    correlationId: string,
  ): Promise<AssistantMessage> {
    const inbox = this.#inbox!;
    const request: ChatRequest = {
      v: 1,
      correlationId,
      replyTo: this.#replyTopic,
      agent: this.#agent,
      tick: snapshot.tick,
      messages,
      tools: this.#tools,
      snapshot,
      expiresAt: expiresIn(this.#replyTimeoutMs),
    };
    const waiting = inbox.expect(correlationId, this.#replyTimeoutMs);
    waiting.catch(() => {});
    try {
      // No key: requests spread over the chat node's partitions (one agent has one in flight).
      await publishMessages(this.#bus, this.#chatTopic, [{ message: request }]);
    } catch (error) {
      throw new DecisionStop(
        "model_error",
        `Could not send the chat request to ${this.#chatTopic}: ${(error as Error).message}`,
      );
    }
    let raw: unknown;
    try {
      raw = await waiting;
    } catch {
      throw new DecisionStop(
        "timeout",
        `No reply from chat node ${this.#chatTopic} within ${this.#replyTimeoutMs} ms`,
      );
    }
    const parsed = ChatReply.safeParse(raw);
    if (!parsed.success) {
      throw new DecisionStop("model_error", "Chat node sent a reply that is not a valid ChatReply");
    }
    const reply = parsed.data;
    if (!reply.ok) throw new DecisionStop("model_error", `Model ${reply.model}: ${reply.error}`);
    return {
      role: "assistant",
      content: reply.message.content,
      toolCalls: reply.message.toolCalls,
    };
  }

  /** Runs every tool call of one model reply at once; results come back in call order. */
  async #runTools(
    snapshot: MarketSnapshot,
    toolCalls: ToolCall[],
    options: { correlationBase: string; before: ActivityEvent[] },
  ): Promise<{ tool: string; ok: boolean; content: string; timedOut: boolean }[]> {
    const correlationBase = options.correlationBase;
    const base = { v: 1 as const, agent: this.#agent, time: snapshot.time, tick: snapshot.tick };
    await this.#publish([
      ...options.before,
      ...toolCalls.map((call) => ({
        ...base,
        kind: "tool_call" as const,
        tool: call.name,
        toolCallId: call.id,
        arguments: call.arguments,
      })),
    ]);
    const results = await Promise.all(
      toolCalls.map((call, index) =>
        this.#runTool(snapshot, call, `${correlationBase}.t${index + 1}`)
      ),
    );
    await this.#publish(toolCalls.map((call, index) => ({
      ...base,
      kind: "tool_result" as const,
      tool: call.name,
      toolCallId: call.id,
      ok: results[index]!.ok,
      content: results[index]!.content,
    })));
    return results;
  }

  async #runTool(
    snapshot: MarketSnapshot,
    call: ToolCall,
    correlationId: string,
  ): Promise<{ tool: string; ok: boolean; content: string; timedOut: boolean }> {
    if (!this.#toolNames.has(call.name)) {
      const available = [...this.#toolNames].join(", ") || "none";
      return {
        tool: call.name,
        ok: false,
        content: `Unknown tool ${call.name}; available tools: ${available}`,
        timedOut: false,
      };
    }
    const inbox = this.#inbox!;
    const topic = this.#prefix + toolRequestTopic(call.name);
    const request: ToolCallRequest = {
      v: 1,
      correlationId,
      replyTo: this.#replyTopic,
      tool: call.name,
      arguments: call.arguments,
      context: {
        agent: this.#agent,
        toolCallId: call.id,
        correlationId,
        tick: snapshot.tick,
      },
      expiresAt: expiresIn(this.#replyTimeoutMs),
    };
    const waiting = inbox.expect(correlationId, this.#replyTimeoutMs);
    waiting.catch(() => {});
    try {
      await publishMessages(this.#bus, topic, [{ key: this.#agent, message: request }]);
    } catch (error) {
      return {
        tool: call.name,
        ok: false,
        content: `Tool ${call.name} could not be reached: ${(error as Error).message}`,
        timedOut: false,
      };
    }
    let raw: unknown;
    try {
      raw = await waiting;
    } catch {
      return {
        tool: call.name,
        ok: false,
        content: `Tool ${call.name} did not answer within ${this.#replyTimeoutMs} ms`,
        timedOut: true,
      };
    }
    const parsed = ToolCallResult.safeParse(raw);
    if (!parsed.success) {
      return {
        tool: call.name,
        ok: false,
        content: `Tool ${call.name} sent a result that is not a valid ToolCallResult`,
        timedOut: false,
      };
    }
    return { tool: call.name, ok: parsed.data.ok, content: parsed.data.content, timedOut: false };
  }
}

/**
 * AgentRouter: one trading agent. It takes market snapshots from its router process's host (one
 * market subscription, reply inbox and activity publisher shared by every agent of the process,
 * see core/runtime/router_host.ts), sends the conversation to its chat node, routes tool calls to
 * tool nodes (all calls of one model reply concurrently), loops until the model answers without
 * tool calls or the step limit, and keeps a short summary of its last decisions as memory.
 * Activity is queued, never awaited on the decision path; the prompt is rendered only when read.
 */

import type { Bus } from "../bus/bus.ts";
import { publishMessages } from "../bus/messages.ts";
import type { ReplyInbox } from "../bus/request_reply.ts";
import { arenaTopics } from "../bus/topics.ts";
import type { ActivityEvent, DecisionOutcome } from "../contracts/activity.ts";
import { AgentName } from "../contracts/common.ts";
import {
  type AssistantMessage,
  type ChatMessage,
  ChatReply,
  type ChatRequest,
  type ResponseFormat,
  type ToolCall,
  type ToolDefinition,
} from "../contracts/chat.ts";
import type { DeskTerms } from "../contracts/desk.ts";
import type { MarketSnapshot } from "../contracts/market.ts";
import { PortfolioView } from "../contracts/portfolio.ts";
import { ToolCallResult } from "../contracts/tools.ts";
import type { ToolCallRequest } from "../contracts/tools.ts";
import {
  decisionOrders,
  type DecisionProtocol,
  decisionResponseFormat,
  offeredExitPlans,
  offeredMaxLeverage,
  parseDecision,
  type QuantityLimits,
} from "../agents/decision.ts";
import { MarketDecimal } from "../market/decimal.ts";
import { maxBuyUnits, renderPortfolio } from "../agents/decision_prompt.ts";
import { orderReminder, statedOrders } from "../agents/stated_orders.ts";
import { formatMarketTime } from "../market/clock.ts";
import type { Logger } from "../log.ts";
import { chatTopicSpec } from "./chat_node.ts";
import { expiresIn } from "./_expiry.ts";
import { type HostedAgent, RouterHost, routerHostName } from "./router_host.ts";
import type { OfferedTools } from "./tool_catalog.ts";

export type { DecisionOutcome };

/** Default bound on model calls per decision. */
export const DEFAULT_MAX_STEPS = 8;
/** Default number of past decisions summarised in the prompt. */
export const DEFAULT_MEMORY_DECISIONS = 5;
/** Default bound on the wait for one chat reply or one round of tool results. */
export const DEFAULT_REPLY_TIMEOUT_MS = 60_000;

/** Where a tool call came from: native tool calls, calls written as text, or a JSON decision. */
export type CallSource = "native" | "text" | "json";

/** What the model is remembered as saying when its reply could not be used. */
export const INVALID_REPLY_SUMMARY = "invalid reply";

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
  /** Renders a snapshot as the market block of the prompt (e.g. `renderMarket` of core/market). */
  renderPrompt: (snapshot: MarketSnapshot) => string;
  /** Tool loop (default, the original's) or one JSON decision per model call. */
  protocol?: DecisionProtocol;
  /** Rules policy sent with chat requests, so an offline model plays the agent's strategy. */
  rulesPolicy?: string;
  /** The terms the serving tools node fills on, sent to the chat node for offline models. */
  desk?: DeskTerms;
  /** Part of every decision, order and correlation id; random per router when absent. */
  runId?: string;
  /** Bound on model calls per decision (default 8). */
  maxSteps?: number;
  /** Past decisions summarised in the prompt (default 5). */
  memoryDecisions?: number;
  /** Bound on the wait for a chat reply or tool results (default 60 s); ends the decision. */
  replyTimeoutMs?: number;
  /** Where the agent's progress and failures are logged. */
  log: Logger;
  /** Consumer group on the market topic (default the agent name); ignored with `host`. */
  groupId?: string;
  /** Read snapshots published before a new consumer group joined (default false); ignored with `host`. */
  fromBeginning?: boolean;
  /**
   * The router process's shared market input, reply inbox and activity publisher (see
   * {@linkcode startAgentRouters}); without it the agent opens its own.
   */
  host?: RouterHost;
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
  /** Market-clock time of the tick as shown to the model (relative when the run is masked). */
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
  /** Tool calls made, by where they came from. */
  calls: Record<CallSource, number>;
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

/**
 * A user message whose text is rendered on first read, then kept: read by JSON encoding (on a
 * broker) and by models that read text; an offline policy model deciding from the request's
 * structured snapshot and portfolio never reads it, so in one process it is never rendered.
 */
export function lazyUserMessage(render: () => string): ChatMessage {
  let text: string | undefined;
  return {
    role: "user",
    get content(): string {
      return text ??= render();
    },
  };
}

/**
 * Builds the messages of a decision's first model call: system prompt, memory, user prompt (a
 * text, or a function that renders it on first read, see {@linkcode lazyUserMessage}).
 */
export function buildMessages(
  systemPrompt: string,
  options: { memory: readonly DecisionMemory[]; prompt: string | (() => string) },
): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: "system", content: systemPrompt }];
  if (options.memory.length > 0) {
    messages.push({ role: "system", content: renderMemory(options.memory) });
  }
  messages.push(
    typeof options.prompt === "string"
      ? { role: "user", content: options.prompt }
      : lazyUserMessage(options.prompt),
  );
  return messages;
}

/** One tool call's result as the router saw it. */
interface ToolRunResult {
  tool: string;
  ok: boolean;
  content: string;
  timedOut: boolean;
}

/** The state of one decision in progress. */
interface DecisionRun {
  snapshot: MarketSnapshot;
  decisionId: string;
  base: { v: 1; agent: string; time: string; tick: number };
  messages: ChatMessage[];
  portfolio?: PortfolioView;
  calls: RememberedToolCall[];
  callCount: number;
  summary: string;
  steps: number;
  /** Activity waiting to be published with the next batch (fewer producer round trips). */
  pending: ActivityEvent[];
}

/** Why a tool-loop reply cannot be used, or undefined when it can. */
function unusableReply(message: AssistantMessage): string | undefined {
  if (message.brokenCall !== undefined) {
    return `a tool call that does not parse (${message.brokenCall})`;
  }
  if (message.truncated && message.toolCalls.length === 0) {
    return "the reply was cut at the token limit";
  }
  return undefined;
}

/**
 * Per product, what the cash buys at the ask (times the highest leverage offered) or what is held,
 * whichever is larger.
 */
function quantityLimits(run: DecisionRun, maxLeverage: number): QuantityLimits | undefined {
  if (!run.portfolio) return undefined;
  const limits: Record<string, number> = {};
  for (const product of run.snapshot.products) {
    const buyable = new MarketDecimal(maxBuyUnits(run.portfolio.cash, product.ticker.bestAsk))
      .times(maxLeverage);
    const held = new MarketDecimal(
      run.portfolio.positions.find((position) => position.productId === product.productId)
        ?.quantity ?? "0",
    );
    limits[product.productId] = MarketDecimal.max(buyable, held)
      .toDecimalPlaces(8, MarketDecimal.ROUND_DOWN).toNumber();
  }
  return limits;
}

/** What a model reads instead of a result when it repeats a call it made in this decision. */
export const REPEATED_CALL_NOTE =
  "You already made this call with these arguments in this decision; its result is above. " +
  "Now call execute_trade to trade, or answer without a tool call to hold.";

/** A call's name and arguments, with JSON arguments in one canonical spelling. */
function callSignature(call: ToolCall): string {
  try {
    return `${call.name}(${JSON.stringify(JSON.parse(call.arguments))})`;
  } catch {
    return `${call.name}(${call.arguments})`;
  }
}

/** The one short correction a model gets after an unusable tool-loop reply. */
export function toolCorrection(problem: string): string {
  // No numbers in the example: small models copy an example quantity.
  return `Your last reply could not be used: ${problem}. Call a tool with valid JSON arguments, ` +
    `e.g. execute_trade with {"product_id": "...", "action": "...", "quantity": ...}, or answer ` +
    "in plain text to hold. Keep it short.";
}

/** The one short correction a model gets after an invalid JSON decision. */
export function jsonCorrection(problem: string): string {
  return `Your reply was not a valid decision: ${problem}. Answer with only the JSON object ` +
    "described in the instructions, and keep it short.";
}

/** Throws a clear error when an agent's name, step limit, memory size or tools are invalid. */
function checkRouterOptions(options: AgentRouterOptions): void {
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
  if (options.protocol === "json") {
    const missing = missingJsonTools(options.tools);
    if (missing.length > 0) {
      throw new Error(
        `The json protocol places orders through execute_trade and reads get_portfolio; ` +
          `the tools lack ${missing.join(" and ")}`,
      );
    }
  }
}

/** The tools the json protocol needs (it trades and reads the account) that `tools` lacks. */
function missingJsonTools(tools: readonly ToolDefinition[]): string[] {
  const offered = new Set(tools.map((tool) => tool.name));
  return ["execute_trade", "get_portfolio"].filter((tool) => !offered.has(tool));
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
  #tools: ToolDefinition[];
  #toolNames: Set<string>;
  readonly #renderPrompt: (snapshot: MarketSnapshot) => string;
  readonly #protocol: DecisionProtocol;
  readonly #rulesPolicy?: string;
  #desk?: DeskTerms;
  readonly #runId: string;
  readonly #maxSteps: number;
  readonly #memorySize: number;
  readonly #replyTimeoutMs: number;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #chatTopic: string;
  readonly #memory: DecisionMemory[] = [];
  readonly #stats: AgentRouterStats = {
    decisions: 0,
    skippedTicks: 0,
    steps: 0,
    outcomes: { answered: 0, invalid: 0, step_limit: 0, model_error: 0, timeout: 0 },
    calls: { native: 0, text: 0, json: 0 },
    lastTick: 0,
  };
  #host!: RouterHost;
  #inbox!: ReplyInbox;
  #replyTopic = "";
  readonly #hosted: HostedAgent = {
    offer: (snapshot) => this.#offer(snapshot),
    wake: () => this.#wake?.(),
    updateTools: (offered) => this.#updateTools(offered),
  };
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
    this.#protocol = options.protocol ?? "tools";
    this.#rulesPolicy = options.rulesPolicy;
    this.#desk = options.desk;
    this.#runId = options.runId ?? crypto.randomUUID().slice(0, 8);
    this.#maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.#memorySize = options.memoryDecisions ?? DEFAULT_MEMORY_DECISIONS;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.#log = options.log;
    this.#prefix = options.topicPrefix ?? "";
    this.#chatTopic = chatTopicSpec(options.chatNodeName, this.#prefix).topic;
  }

  /**
   * Starts an agent on `options.host` (see {@linkcode startAgentRouters}), or on a host of its own:
   * its reply inbox, then its consumer group on the market topic (group id = agent name).
   * Snapshots are handed to the decision loop at once (their offsets commit right away): a
   * snapshot is transient market data, and after a crash the next snapshot, not a stale one, is
   * what the agent should decide on, so at-least-once delivery of old snapshots is not wanted.
   */
  static async start(bus: Bus, options: AgentRouterOptions): Promise<AgentRouter> {
    checkRouterOptions(options);
    const router = new AgentRouter(bus, options);
    return await router.#start(options);
  }

  /** The agent's name. */
  get agent(): string {
    return this.#agent;
  }

  /** A copy of the agent's counters. */
  get stats(): AgentRouterStats {
    return {
      ...this.#stats,
      outcomes: { ...this.#stats.outcomes },
      calls: { ...this.#stats.calls },
    };
  }

  /** The summaries of the last decisions, oldest first. */
  get memory(): readonly DecisionMemory[] {
    return this.#memory.map((entry) => ({ ...entry, toolCalls: [...entry.toolCalls] }));
  }

  /**
   * Offers the tools a republished catalog describes from the next decision on; a catalog that
   * lacks a tool the json protocol needs is logged and the current tools are kept.
   */
  #updateTools(offered: OfferedTools): void {
    const tools = offered.tools;
    const missing = this.#protocol === "json" ? missingJsonTools(tools) : [];
    if (missing.length > 0) {
      this.#log.warn("Keeping the current tools: the new catalog lacks what json needs", {
        missing,
      });
      return;
    }
    this.#tools = [...tools];
    this.#toolNames = new Set(tools.map((tool) => tool.name));
    this.#desk = offered.desk;
  }

  /**
   * Stops taking snapshots, finishes the decision in flight (not the pending one), hands its
   * activity to the publisher, then lets go of the host (the last agent closes it).
   */
  stop(): Promise<void> {
    return this.#stopped ??= (async () => {
      this.#stopping = true;
      await this.#host?.leave(this.#hosted);
      this.#wake?.();
      await this.#loop;
      await this.#host?.release();
    })();
  }

  async #start(options: AgentRouterOptions): Promise<AgentRouter> {
    const bus = this.#bus;
    const ownHost = options.host === undefined;
    try {
      this.#host = options.host ?? await RouterHost.open(bus, {
        name: this.#agent,
        groupId: options.groupId,
        fromBeginning: options.fromBeginning,
        topicPrefix: this.#prefix,
        log: this.#log,
      });
    } catch (error) {
      this.#stopped = Promise.resolve();
      throw error;
    }
    this.#host.join(this.#hosted);
    this.#inbox = this.#host.inbox;
    this.#replyTopic = this.#host.replyTopic;
    this.#loop = this.#run();
    try {
      if (ownHost) {
        await bus.ensureTopics([chatTopicSpec(options.chatNodeName, this.#prefix)]);
        await this.#host.listen();
      }
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
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (!this.#pending) {
        // The host wakes the agent once a burst of snapshots (a backlog after a restart) was
        // offered whole, so only the latest of them is decided on.
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
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
        this.#publish([
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

  /** Queues activity on the host's publisher: off the decision path, in order, never awaited. */
  #publish(events: ActivityEvent[]): void {
    this.#host.activity.publish(events);
  }

  async #decide(snapshot: MarketSnapshot): Promise<void> {
    const decisionId = `${this.#agent}.${this.#runId}.${snapshot.tick}.${++this.#decisionSeq}`;
    const base = { v: 1 as const, agent: this.#agent, time: snapshot.time, tick: snapshot.tick };
    const run: DecisionRun = {
      snapshot,
      decisionId,
      base,
      messages: [],
      calls: [],
      callCount: 0,
      summary: "",
      steps: 0,
      pending: [],
    };
    const portfolio = await this.#readPortfolio(run);
    const renderMarket = this.#renderPrompt;
    // Rendered only when read: a model that decides from the structured snapshot never reads it.
    const prompt = () => {
      const market = renderMarket(snapshot);
      return portfolio === undefined ? market : `${portfolio.text()}\n\n${market}`;
    };
    run.portfolio = portfolio?.view;
    run.messages = buildMessages(this.#systemPrompt, { memory: this.#memory, prompt });
    let outcome: DecisionOutcome;
    try {
      outcome = this.#protocol === "json"
        ? await this.#decideJson(run)
        : await this.#decideTools(run);
    } catch (error) {
      if (!(error instanceof DecisionStop)) {
        this.#publish(run.pending.splice(0));
        throw error;
      }
      outcome = error.outcome;
      run.summary = `${
        error.outcome === "timeout" ? "Timed out" : "Model error"
      }: ${error.message}`;
      run.pending.push({ ...base, kind: "error", message: error.message });
    }
    if (outcome === "step_limit") {
      run.pending.push({
        ...base,
        kind: "error",
        message: run.steps < this.#maxSteps
          ? `No final answer: a call repeated after the note, ended at model call ${run.steps} ` +
            `of ${this.#maxSteps}`
          : `Step limit of ${this.#maxSteps} model calls reached before a final answer`,
      });
    }
    this.#remember({
      tick: snapshot.tick,
      time: formatMarketTime(snapshot.time, snapshot.masked ?? false),
      outcome,
      summary: clip(outcome === "invalid" ? INVALID_REPLY_SUMMARY : run.summary, SUMMARY_LIMIT),
      toolCalls: run.calls,
      omittedToolCalls: run.callCount - run.calls.length,
    });
    this.#stats.decisions++;
    this.#stats.outcomes[outcome]++;
    this.#stats.lastTick = snapshot.tick;
    this.#publish([...run.pending, {
      ...base,
      kind: "decision",
      steps: run.steps,
      outcome,
      skippedTicks: this.#stats.skippedTicks,
    }]);
    this.#log.debug("Decision complete", {
      agent: this.#agent,
      tick: snapshot.tick,
      outcome,
      steps: run.steps,
    });
  }

  /**
   * Reads the agent's portfolio through get_portfolio (same ToolContext path as the model's own
   * calls) for the prompt; undefined when the tool is not offered. A failure is shown in the
   * prompt instead of the portfolio, and the decision goes on.
   */
  async #readPortfolio(
    run: DecisionRun,
  ): Promise<{ text: () => string; view?: PortfolioView } | undefined> {
    if (!this.#toolNames.has("get_portfolio")) return undefined;
    const call: ToolCall = {
      id: `${run.decisionId}.portfolio`,
      name: "get_portfolio",
      arguments: "{}",
    };
    const result = await this.#runTool(run.snapshot, call, `${run.decisionId}.portfolio`);
    if (result.ok) {
      try {
        const view = PortfolioView.parse(JSON.parse(result.content));
        return { text: () => renderPortfolio(view, run.snapshot), view };
      } catch {
        return {
          text: () => "Your portfolio could not be read (get_portfolio sent no portfolio).",
        };
      }
    }
    const problem = `Your portfolio could not be read (${clip(result.content, 200)}).`;
    return { text: () => problem };
  }

  /** The tool loop: model calls until an answer without tool calls, or the step limit. */
  async #decideTools(run: DecisionRun): Promise<DecisionOutcome> {
    let corrected = false;
    let reminded = false;
    let told = false;
    const made = new Set<string>();
    for (let step = 1; step <= this.#maxSteps; step++) {
      const message = await this.#step(run, step, undefined);
      run.messages.push(message);
      const stated = reminded || message.brokenCall !== undefined || message.toolCalls.length > 0 ||
          [...made].some((signature) => signature.startsWith("execute_trade("))
        ? []
        : statedOrders(message.content ?? "", run.snapshot.products.map((p) => p.productId));
      if (stated.length > 0) {
        // Small models often write their order as prose; remind once that text trades nothing.
        reminded = true;
        run.pending.push({
          ...run.base,
          kind: "error",
          message: `Order stated in text, not placed: ${
            stated.map((order) => `${order.action} ${order.productId}`).join(", ")
          }`,
        });
        run.messages.push({ role: "user", content: orderReminder(stated) });
        continue;
      }
      const problem = unusableReply(message);
      if (problem !== undefined) {
        run.pending.push({ ...run.base, kind: "error", message: `Unusable reply: ${problem}` });
        if (corrected) return "invalid";
        corrected = true;
        run.messages.push({ role: "user", content: toolCorrection(problem) });
        continue;
      }
      if (message.content && message.content.trim() !== "") {
        run.summary = message.content;
        run.pending.push({ ...run.base, kind: "reasoning", text: message.content });
      }
      if (message.toolCalls.length === 0) return "answered";
      const signatures = message.toolCalls.map(callSignature);
      if (signatures.every((signature) => made.has(signature))) {
        // A small model at temperature 0 can repeat its last call forever: the result is already
        // in the conversation, so say so instead of running it again.
        run.pending.push({
          ...run.base,
          kind: "error",
          message: `Repeated tool call: ${signatures.join(", ")}`,
        });
        // Told once and repeating again: more calls would only repeat (a real 1.5B model looped
        // to the step limit, about 5,000 prompt tokens a call), so the decision ends here.
        if (told) return "step_limit";
        told = true;
        for (const call of message.toolCalls) {
          run.messages.push({ role: "tool", toolCallId: call.id, content: REPEATED_CALL_NOTE });
        }
        continue;
      }
      for (const signature of signatures) made.add(signature);
      const source: CallSource = message.textCalls ? "text" : "native";
      const results = await this.#runTools(run, message.toolCalls, {
        correlationBase: `${run.decisionId}.s${step}`,
        source,
      });
      for (const [index, call] of message.toolCalls.entries()) {
        run.messages.push({ role: "tool", toolCallId: call.id, content: results[index]!.content });
      }
    }
    return "step_limit";
  }

  /** The JSON protocol: one model call (plus one correction) and the orders it asks for. */
  async #decideJson(run: DecisionRun): Promise<DecisionOutcome> {
    const products = run.snapshot.products.map((product) => product.productId);
    const maxLeverage = offeredMaxLeverage(this.#tools);
    const format = decisionResponseFormat(products, quantityLimits(run, maxLeverage), {
      maxLeverage,
      exitPlans: offeredExitPlans(this.#tools),
    });
    for (let step = 1; step <= 2; step++) {
      const message = await this.#step(run, step, format);
      run.messages.push(message);
      const parsed = parseDecision(message.content, products, { maxLeverage });
      if (!parsed.ok) {
        const problem = message.truncated
          ? `cut at the token limit (${parsed.error})`
          : parsed.error;
        run.pending.push({ ...run.base, kind: "error", message: `Invalid decision: ${problem}` });
        if (step === 2) return "invalid";
        run.messages.push({ role: "user", content: jsonCorrection(problem) });
        continue;
      }
      const decision = parsed.decision;
      run.summary = decision.reasoning;
      run.pending.push({ ...run.base, kind: "reasoning", text: decision.reasoning });
      const orders = decisionOrders(decision);
      // Sells first, one at a time, so a sale's cash is there for the buys after it.
      for (const [index, order] of orders.entries()) {
        const call: ToolCall = {
          id: `${run.decisionId}.order${index + 1}`,
          name: "execute_trade",
          arguments: JSON.stringify({
            product_id: order.productId,
            action: order.action,
            quantity: order.quantity,
            stop_loss: order.stopLoss,
            take_profit: order.takeProfit,
            confidence: order.confidence,
            leverage: order.leverage,
          }),
        };
        await this.#runTools(run, [call], {
          correlationBase: `${run.decisionId}.o${index + 1}`,
          source: "json",
        });
      }
      return "answered";
    }
    return "invalid";
  }

  /** One model call of a decision; counts it and records its usage step. */
  async #step(
    run: DecisionRun,
    step: number,
    responseFormat: ResponseFormat | undefined,
  ): Promise<AssistantMessage> {
    const message = await this.#chat(run, `${run.decisionId}.s${step}`, responseFormat);
    run.steps = step;
    this.#stats.steps++;
    return message;
  }

  #remember(entry: DecisionMemory): void {
    if (this.#memorySize === 0) return;
    this.#memory.push(entry);
    while (this.#memory.length > this.#memorySize) this.#memory.shift();
  }

  /** Sends the conversation to the chat node and returns the assistant message. */
  async #chat(
    run: DecisionRun,
    correlationId: string,
    responseFormat: ResponseFormat | undefined,
  ): Promise<AssistantMessage> {
    const inbox = this.#inbox;
    const request: ChatRequest = {
      v: 1,
      correlationId,
      replyTo: this.#replyTopic,
      agent: this.#agent,
      tick: run.snapshot.tick,
      // A copy: the conversation grows after this request, which may be read later in-process.
      messages: [...run.messages],
      tools: responseFormat ? [] : this.#tools,
      snapshot: run.snapshot,
      portfolio: run.portfolio,
      rulesPolicy: this.#rulesPolicy,
      desk: this.#desk,
      responseFormat,
      expiresAt: expiresIn(this.#replyTimeoutMs),
    };
    const waiting = inbox.expect(correlationId, this.#replyTimeoutMs);
    waiting.catch(() => {});
    try {
      // Keyed by agent: chat nodes run requests of different agents at once (per key), and an
      // agent has one request in flight, so its key never queues behind itself.
      const sent = publishMessages(this.#bus, this.#chatTopic, [{
        key: this.#agent,
        message: request,
      }]);
      this.#publish(run.pending.splice(0));
      await sent;
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
    return reply.message;
  }

  /**
   * Runs every tool call of one reply at once; results come back in call order. The calls and
   * results are published as activity (after anything pending) and remembered.
   */
  async #runTools(
    run: DecisionRun,
    toolCalls: ToolCall[],
    options: { correlationBase: string; source: CallSource },
  ): Promise<ToolRunResult[]> {
    const { snapshot, base } = run;
    this.#publish([
      ...run.pending.splice(0),
      ...toolCalls.map((call) => ({
        ...base,
        kind: "tool_call" as const,
        tool: call.name,
        toolCallId: call.id,
        arguments: call.arguments,
        source: options.source,
      })),
    ]);
    this.#stats.calls[options.source] += toolCalls.length;
    const results = await Promise.all(
      toolCalls.map((call, index) =>
        this.#runTool(snapshot, call, `${options.correlationBase}.t${index + 1}`)
      ),
    );
    // Held until the next chat request or the decision event, and published with it: one
    // produce request, so the next request never waits behind these events' own.
    run.pending.push(...toolCalls.map((call, index) => ({
      ...base,
      kind: "tool_result" as const,
      tool: call.name,
      toolCallId: call.id,
      ok: results[index]!.ok,
      content: results[index]!.content,
    })));
    for (const [index, call] of toolCalls.entries()) {
      const result = results[index]!;
      run.callCount++;
      if (run.calls.length < REMEMBERED_CALLS) {
        run.calls.push({
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
    return results;
  }

  async #runTool(
    snapshot: MarketSnapshot,
    call: ToolCall,
    correlationId: string,
  ): Promise<ToolRunResult> {
    if (!this.#toolNames.has(call.name)) {
      const available = [...this.#toolNames].join(", ") || "none";
      return {
        tool: call.name,
        ok: false,
        content: `Unknown tool ${call.name}; available tools: ${available}`,
        timedOut: false,
      };
    }
    const inbox = this.#inbox;
    const topic = arenaTopics(this.#prefix).toolRequest(call.name).topic;
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

/** Options for {@linkcode startAgentRouters}. */
export interface StartAgentRoutersOptions {
  /** Prefix of the consumer group on the market topic (default none: the host name). */
  groupIdPrefix?: string;
  /** Read snapshots published before a new consumer group joined (default false). */
  fromBeginning?: boolean;
  /** Prefix of every topic name (isolated arenas and tests; default none). */
  topicPrefix?: string;
  /** Follow the tool catalog: a republished one replaces every agent's tools (default false). */
  followToolCatalog?: boolean;
  /** Where the shared host logs. */
  log: Logger;
}

/**
 * Starts the agents of one router process on one shared {@linkcode RouterHost}: one market
 * subscription in one consumer group (named by {@linkcode routerHostName}), one reply inbox and
 * one activity publisher for all of them. Stopping every router closes the host. On a failure the
 * routers already started are stopped and the error is thrown.
 */
export async function startAgentRouters(
  bus: Bus,
  agents: Omit<AgentRouterOptions, "host" | "groupId" | "fromBeginning" | "topicPrefix">[],
  options: StartAgentRoutersOptions,
): Promise<AgentRouter[]> {
  for (const agent of agents) checkRouterOptions(agent);
  const names = agents.map((agent) => agent.agent);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw new Error(`Agent names must be unique in one router, got ${duplicate} twice`);
  }
  if (agents.length === 0) return [];
  const name = routerHostName(names);
  const host = await RouterHost.open(bus, {
    name,
    groupId: `${options.groupIdPrefix ?? ""}${name}`,
    fromBeginning: options.fromBeginning,
    topicPrefix: options.topicPrefix,
    followToolCatalog: options.followToolCatalog,
    log: options.log,
  });
  const routers: AgentRouter[] = [];
  try {
    const chatTopics = new Set(agents.map((agent) => agent.chatNodeName));
    await bus.ensureTopics(
      [...chatTopics].map((chatNode) => chatTopicSpec(chatNode, options.topicPrefix)),
    );
    for (const agent of agents) {
      routers.push(
        await AgentRouter.start(bus, { ...agent, host, topicPrefix: options.topicPrefix }),
      );
    }
    await host.listen();
  } catch (error) {
    await Promise.allSettled(routers.map((router) => router.stop()));
    await host.close();
    throw error;
  }
  return routers;
}

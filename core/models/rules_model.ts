/**
 * The offline `rules` model: a deterministic ModelProvider that plays a strategy's rules policy
 * (core/agents/rules.ts) through the same protocols as an LLM. It is labelled `rules` wherever it
 * appears and is never presented as an LLM.
 *
 * Tool protocol, per decision (the messages after the last user message):
 * 1. with the portfolio in the request (the router puts it in the prompt): call `execute_trade`
 *    once per order, or answer when there is none; without it, call `get_portfolio` first;
 * 2. after the trade results: answer with the reasoning and the fills.
 * JSON protocol (a request with a response format): one JSON decision in the reply's text.
 *
 * The policy is the request's `rulesPolicy` (sent by the router), else a custom prompt's rules
 * marker or a built-in prompt's `Your strategy:` line, else the agent name, else momentum. Token
 * usage is an ESTIMATE (characters / 4 of the prompt and of the answer), so prompt-size charts
 * work offline; the price table charges the `rules` model nothing.
 */

import type { AssistantMessage, ChatMessage, ToolCall } from "../contracts/chat.ts";
import type { MarketSnapshot } from "../contracts/market.ts";
import { PortfolioView } from "../contracts/portfolio.ts";
import { decideRules, type RulesDecision } from "../agents/rules.ts";
import { isRulesPolicyId, rulesForAgent, type RulesPolicyId } from "../agents/strategies.ts";
import type { TradingDecision } from "../agents/decision.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../runtime/model_provider.ts";

/** The model id of the offline rules model. */
export const RULES_MODEL_ID = "rules";

/** Estimated tokens of a text: characters / 4, rounded up (an estimate, not a tokenizer). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function messageText(message: ChatMessage): string {
  if (message.role === "assistant") {
    return (message.content ?? "") +
      (message.toolCalls ?? []).map((call) => call.name + call.arguments).join("");
  }
  return message.content;
}

/**
 * A tool call id: run, agent, tick, market time and a step label. The run id keeps a second
 * replay of the same data onto a durable ledger from being taken for redelivered trades.
 */
function callId(run: string, agent: string, snapshot: MarketSnapshot, label: string): string {
  const seconds = Math.floor(Date.parse(snapshot.time) / 1000);
  return `rules_${run}_${agent}_${snapshot.tick}_${seconds}_${label}`;
}

/** Whether a trade result is an executed fill (JSON with `status: "executed"`). */
function executed(result: string): boolean {
  try {
    const json = JSON.parse(result) as { status?: unknown };
    return json?.status === "executed";
  } catch {
    return false;
  }
}

/** Options for {@linkcode RulesModel}. */
export interface RulesModelOptions {
  /** Plays this policy for every agent instead of choosing by prompt and name. */
  strategy?: RulesPolicyId;
  /** Part of every tool call id, unique per run (default: random per model instance). */
  runId?: string;
  /** Quantity increments by product, e.g. a masked replay's (default the ledger's). */
  increments?: Readonly<Record<string, string>>;
  /** The desk's taker fee in basis points, so the policies clear the round trip (default 60). */
  takerFeeBps?: number;
}

/** The offline rules model. */
export class RulesModel implements ModelProvider {
  /** Always `rules`. */
  readonly model: string = RULES_MODEL_ID;
  #strategy?: RulesPolicyId;
  #runId: string;
  #increments?: Readonly<Record<string, string>>;
  #takerFeeBps?: number;

  /** Creates the model; without a fixed strategy the policy is chosen per request. */
  constructor(options: RulesModelOptions = {}) {
    this.#strategy = options.strategy;
    this.#runId = options.runId ?? crypto.randomUUID().slice(0, 8);
    this.#increments = options.increments;
    this.#takerFeeBps = options.takerFeeBps;
  }

  /** Answers one step of the decision protocol; deterministic for the same request. */
  complete(request: ModelRequest): Promise<ModelResponse> {
    const message = this.#answer(request);
    const prompt = request.messages.map(messageText).join("\n");
    return Promise.resolve({
      message,
      usage: {
        promptTokens: estimateTokens(prompt),
        completionTokens: estimateTokens(messageText(message)),
      },
      model: RULES_MODEL_ID,
    });
  }

  #answer(request: ModelRequest): AssistantMessage {
    const snapshot = request.snapshot;
    const text = (content: string): AssistantMessage => ({
      role: "assistant",
      content,
      toolCalls: [],
    });
    const system = request.messages.find((message) => message.role === "system")?.content ?? "";
    const policy = this.#strategy ??
      (request.rulesPolicy !== undefined && isRulesPolicyId(request.rulesPolicy)
        ? request.rulesPolicy
        : rulesForAgent(system, request.agent));
    if (request.responseFormat) return text(JSON.stringify(this.#jsonDecision(policy, request)));
    if (!snapshot) return text("rules: no structured market snapshot in the request, holding");
    const toolNames = new Set(request.tools.map((tool) => tool.name));

    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    const turn = request.messages.slice(lastUser + 1);
    const assistants = turn.filter((message) => message.role === "assistant");
    const results = new Map<string, string>();
    for (const message of turn) {
      if (message.role === "tool") results.set(message.toolCallId, message.content);
    }

    let portfolioText: string | undefined;
    if (request.portfolio) {
      portfolioText = JSON.stringify(request.portfolio);
    } else {
      const portfolioCall = assistants
        .flatMap((message) => message.toolCalls ?? [])
        .find((call) => call.name === "get_portfolio");
      if (!portfolioCall) {
        if (!toolNames.has("get_portfolio")) {
          return text(`rules (${policy}): get_portfolio is not offered, holding`);
        }
        return {
          role: "assistant",
          content: null,
          toolCalls: [{
            id: callId(this.#runId, request.agent, snapshot, "portfolio"),
            name: "get_portfolio",
            arguments: "{}",
          }],
        };
      }
      portfolioText = results.get(portfolioCall.id);
    }

    const decision = this.#decide(policy, snapshot, portfolioText);
    if (typeof decision === "string") return text(decision);
    const tradeCalls = assistants
      .flatMap((message) => message.toolCalls ?? [])
      .filter((call) => call.name === "execute_trade");
    if (tradeCalls.length === 0 && decision.orders.length > 0) {
      if (!toolNames.has("execute_trade")) {
        return text(`${decision.summary} (execute_trade is not offered, no orders placed)`);
      }
      const calls: ToolCall[] = decision.orders.map((order, index) => ({
        id: callId(this.#runId, request.agent, snapshot, `trade${index + 1}`),
        name: "execute_trade",
        arguments: JSON.stringify({
          product_id: order.productId,
          quantity: order.quantity,
          action: order.action,
        }),
      }));
      return { role: "assistant", content: decision.summary, toolCalls: calls };
    }
    if (tradeCalls.length === 0) return text(decision.summary);
    const outcomes = tradeCalls.map((call) => {
      const result = results.get(call.id) ?? "no result";
      return executed(result)
        ? `${call.arguments} filled`
        : `${call.arguments} failed: ${result.slice(0, 160)}`;
    });
    return text(`${decision.summary}. Results: ${outcomes.join("; ")}`);
  }

  /** The policy's decision in the JSON protocol's shape (holds when it cannot decide). */
  #jsonDecision(policy: RulesPolicyId, request: ModelRequest): TradingDecision {
    if (!request.snapshot || !request.portfolio) {
      return {
        reasoning: `rules (${policy}): no structured snapshot or portfolio in the request, holding`,
        decisions: [],
      };
    }
    const decision = decideRules(policy, {
      snapshot: request.snapshot,
      portfolio: request.portfolio,
      increments: this.#increments,
      takerFeeBps: this.#takerFeeBps,
    });
    return {
      reasoning: decision.summary,
      decisions: decision.orders.map((order) => ({
        product_id: order.productId,
        action: order.action,
        quantity: Number(order.quantity),
        reason: order.reason,
      })),
    };
  }

  #decide(
    strategy: RulesPolicyId,
    snapshot: MarketSnapshot,
    portfolioText: string | undefined,
  ): RulesDecision | string {
    if (portfolioText === undefined) return `rules (${strategy}): no portfolio result, holding`;
    let json: unknown;
    try {
      json = JSON.parse(portfolioText);
    } catch {
      return `rules (${strategy}): get_portfolio failed (${portfolioText.slice(0, 160)}), holding`;
    }
    const portfolio = PortfolioView.safeParse(json);
    if (!portfolio.success) {
      return `rules (${strategy}): portfolio result was not a PortfolioView, holding`;
    }
    return decideRules(strategy, {
      snapshot,
      portfolio: portfolio.data,
      increments: this.#increments,
      takerFeeBps: this.#takerFeeBps,
    });
  }
}

/**
 * The offline `rules` model: a deterministic ModelProvider that plays a strategy's rules policy
 * (core/agents/rules.ts) through the same tool-calling protocol as an LLM. It is labelled `rules`
 * wherever it appears and is never presented as an LLM.
 *
 * Protocol per decision (the messages after the last user message):
 * 1. nothing yet: call `get_portfolio`;
 * 2. after the portfolio result: call `execute_trade` once per order (or answer when none);
 * 3. after the trade results: answer with the reasoning and the fills.
 *
 * The policy is chosen from the system prompt (a built-in prompt's `Your strategy:` line or a
 * custom strategy's rules marker), else from the agent name, else momentum. Token usage is an
 * ESTIMATE (characters / 4 of the prompt and of the answer), so prompt-size charts work offline;
 * the price table charges the `rules` model nothing.
 */

import type { AssistantMessage, ChatMessage, ToolCall } from "../contracts/chat.ts";
import type { MarketSnapshot } from "../contracts/market.ts";
import { PortfolioView } from "../contracts/portfolio.ts";
import { decideRules, type RulesDecision } from "../agents/rules.ts";
import { rulesForAgent, type StrategyId } from "../agents/strategies.ts";
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
  strategy?: StrategyId;
  /** Part of every tool call id, unique per run (default: random per model instance). */
  runId?: string;
}

/** The offline rules model. */
export class RulesModel implements ModelProvider {
  /** Always `rules`. */
  readonly model: string = RULES_MODEL_ID;
  #strategy?: StrategyId;
  #runId: string;

  /** Creates the model; without a fixed strategy the policy is chosen per request. */
  constructor(options: RulesModelOptions = {}) {
    this.#strategy = options.strategy;
    this.#runId = options.runId ?? crypto.randomUUID().slice(0, 8);
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
    if (!snapshot) return text("rules: no structured market snapshot in the request, holding");
    const system = request.messages.find((message) => message.role === "system")?.content ?? "";
    const strategy = this.#strategy ?? rulesForAgent(system, request.agent);
    const toolNames = new Set(request.tools.map((tool) => tool.name));

    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    const turn = request.messages.slice(lastUser + 1);
    const assistants = turn.filter((message) => message.role === "assistant");
    const results = new Map<string, string>();
    for (const message of turn) {
      if (message.role === "tool") results.set(message.toolCallId, message.content);
    }

    const portfolioCall = assistants
      .flatMap((message) => message.toolCalls ?? [])
      .find((call) => call.name === "get_portfolio");
    if (!portfolioCall) {
      if (!toolNames.has("get_portfolio")) {
        return text(`rules (${strategy}): get_portfolio is not offered, holding`);
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

    const decision = this.#decide(strategy, snapshot, results.get(portfolioCall.id));
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

  #decide(
    strategy: StrategyId,
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
    return decideRules(strategy, { snapshot, portfolio: portfolio.data });
  }
}

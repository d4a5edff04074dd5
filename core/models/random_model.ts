/**
 * The offline `random` model: a seeded ModelProvider that plays the random policy
 * (core/agents/random_policy.ts) through the same tool-calling protocol, tools and ledger as every
 * other model: `get_portfolio`, then one `execute_trade` per order, then a one-line answer.
 * Each agent it serves has its own target (trades and turnover to match) and seed; an agent
 * without a target holds. Used by tournaments as the luck baseline; never presented as an LLM.
 */

import type { AssistantMessage, ToolCall } from "../contracts/chat.ts";
import type { MarketSnapshot } from "../contracts/market.ts";
import { PortfolioView } from "../contracts/portfolio.ts";
import type { TradingDecision } from "../agents/decision.ts";
import { decideRandom, type RandomTarget } from "../agents/random_policy.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../runtime/model_provider.ts";
import { estimateTokens } from "./rules_model.ts";

/** The model id of the random baseline model. */
export const RANDOM_MODEL_ID = "random";

/** Options for {@linkcode RandomModel}. */
export interface RandomModelOptions {
  /** Target (trades, notional, ticks, seed) per agent name. */
  targets: ReadonlyMap<string, RandomTarget>;
  /** Taker fee in basis points of the desk (default 60). */
  takerFeeBps?: number;
  /** Part of every tool call id, unique per run (default: random per model instance). */
  runId?: string;
}

function parseJson(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return undefined;
  }
}

function text(content: string): AssistantMessage {
  return { role: "assistant", content, toolCalls: [] };
}

function callId(run: string, agent: string, snapshot: MarketSnapshot, label: string): string {
  const seconds = Math.floor(Date.parse(snapshot.time) / 1000);
  return `random_${run}_${agent}_${snapshot.tick}_${seconds}_${label}`;
}

/** The random baseline model. */
export class RandomModel implements ModelProvider {
  /** Always `random`. */
  readonly model: string = RANDOM_MODEL_ID;
  #targets: ReadonlyMap<string, RandomTarget>;
  #takerFeeBps: number | undefined;
  #runId: string;

  /** Creates the model for the agents of `options.targets`. */
  constructor(options: RandomModelOptions) {
    this.#targets = options.targets;
    this.#takerFeeBps = options.takerFeeBps;
    this.#runId = options.runId ?? crypto.randomUUID().slice(0, 8);
  }

  /** Answers one step of the decision protocol; deterministic for the same request. */
  complete(request: ModelRequest): Promise<ModelResponse> {
    const message = this.#answer(request);
    return Promise.resolve({
      message,
      usage: {
        promptTokens: estimateTokens(request.messages.map((m) => m.content ?? "").join("\n")),
        completionTokens: estimateTokens(message.content ?? ""),
      },
      model: RANDOM_MODEL_ID,
    });
  }

  #answer(request: ModelRequest): AssistantMessage {
    const snapshot = request.snapshot;
    const target = this.#targets.get(request.agent);
    if (request.responseFormat) {
      return text(JSON.stringify(this.#jsonDecision(request, target)));
    }
    if (!snapshot || !target) return text("random: no snapshot or no target, holding");
    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    const turn = request.messages.slice(lastUser + 1);
    const calls = turn.flatMap((message) =>
      message.role === "assistant" ? message.toolCalls ?? [] : []
    );
    if (calls.some((call) => call.name === "execute_trade")) return text("random: done");
    let portfolio: PortfolioView | undefined = request.portfolio;
    if (!portfolio) {
      const portfolioCall = calls.find((call) => call.name === "get_portfolio");
      if (!portfolioCall) {
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
      const result = turn.find((message) =>
        message.role === "tool" && message.toolCallId === portfolioCall.id
      );
      const parsed = PortfolioView.safeParse(parseJson(result?.content ?? ""));
      if (!parsed.success) return text("random: no readable portfolio, holding");
      portfolio = parsed.data;
    }
    const decision = decideRandom({ snapshot, portfolio }, {
      target,
      takerFeeBps: this.#takerFeeBps,
    });
    if (decision.orders.length === 0) return text(decision.summary);
    const toolCalls: ToolCall[] = decision.orders.map((order, index) => ({
      id: callId(this.#runId, request.agent, snapshot, `trade${index + 1}`),
      name: "execute_trade",
      arguments: JSON.stringify({
        product_id: order.productId,
        quantity: order.quantity,
        action: order.action,
      }),
    }));
    return { role: "assistant", content: decision.summary, toolCalls };
  }

  #jsonDecision(request: ModelRequest, target: RandomTarget | undefined): TradingDecision {
    if (!request.snapshot || !request.portfolio || !target) {
      return { reasoning: "random: no snapshot, portfolio or target, holding", decisions: [] };
    }
    const decision = decideRandom({ snapshot: request.snapshot, portfolio: request.portfolio }, {
      target,
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
}

/**
 * How an offline policy (the rules model, the random baseline) answers an agent in either
 * decision protocol, through the same tools and ledger as an LLM.
 *
 * Tool protocol, per decision (the messages after the last user message):
 * 1. with the portfolio in the request (the router puts it in the prompt): call `execute_trade`
 *    once per order, or answer when there is none; without it, call `get_portfolio` first;
 * 2. after the trade results: answer with the summary and the fills.
 * JSON protocol (a request with a response format): one JSON decision in the reply's text.
 *
 * Token usage is an ESTIMATE (characters / 4 of the prompt and of the answer), so prompt-size
 * charts work offline; the price table charges offline models nothing. The user prompt (portfolio
 * and market block) is estimated from the structured snapshot and portfolio it shows, never read:
 * in one process it is then never rendered (see `lazyUserMessage` in core/runtime/agent_router.ts).
 */

import type { AssistantMessage, ChatMessage, ToolCall } from "../contracts/chat.ts";
import type { MarketSnapshot } from "../contracts/market.ts";
import { PortfolioView } from "../contracts/portfolio.ts";
import type { TradingDecision } from "../agents/decision.ts";
import type { RulesDecision } from "../agents/rules.ts";
import type { ModelRequest, ModelResponse } from "../runtime/model_provider.ts";

/** What a policy sees: the market and the agent's portfolio. */
export interface PolicyInput {
  /** The snapshot decided on. */
  snapshot: MarketSnapshot;
  /** The agent's portfolio. */
  portfolio: PortfolioView;
}

/** How one offline model answers with its policy. */
export interface PolicyProtocolOptions {
  /** Model label used in call ids and texts, e.g. `rules`. */
  label: string;
  /** Part of every tool call id, unique per run. */
  runId: string;
  /** The policy's decision, or a text saying why it holds. */
  decide: (input: PolicyInput) => RulesDecision | string;
}

/** Estimated tokens of a text: characters / 4, rounded up (an estimate, not a tokenizer). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Characters of the market block per product and per candle, about (compact layout). */
const MARKET_CHARS_PER_PRODUCT = 120;
const MARKET_CHARS_PER_CANDLE = 26;
/** Characters of the portfolio block, about: header and per position. */
const PORTFOLIO_CHARS = 240;
const PORTFOLIO_CHARS_PER_POSITION = 110;

/** Estimated characters of a user prompt that shows this snapshot and portfolio. */
function promptChars(snapshot: MarketSnapshot, portfolio: PortfolioView | undefined): number {
  let chars = portfolio
    ? PORTFOLIO_CHARS + PORTFOLIO_CHARS_PER_POSITION * portfolio.positions.length
    : 0;
  for (const product of snapshot.products) {
    const candles = product.candles.m15.length + product.candles.m5.length +
      product.candles.m1.length;
    chars += MARKET_CHARS_PER_PRODUCT + MARKET_CHARS_PER_CANDLE * candles;
  }
  return chars;
}

/**
 * Estimated prompt tokens of a request: characters / 4 of its messages, the user prompt estimated
 * from the structured snapshot and portfolio when the request has a snapshot (not read).
 */
export function estimatePromptTokens(request: ModelRequest): number {
  let chars = 0;
  for (const message of request.messages) {
    chars += message.role === "user" && request.snapshot
      ? promptChars(request.snapshot, request.portfolio)
      : messageText(message).length + 1;
  }
  return Math.ceil(chars / 4);
}

function messageText(message: ChatMessage): string {
  if (message.role === "assistant") {
    return (message.content ?? "") +
      (message.toolCalls ?? []).map((call) => call.name + call.arguments).join("");
  }
  return message.content;
}

function text(content: string): AssistantMessage {
  return { role: "assistant", content, toolCalls: [] };
}

/**
 * A tool call id: label, run, agent, tick, market time and a step label. The run id keeps a second
 * replay of the same data onto a durable ledger from being taken for redelivered trades.
 */
function callId(
  options: PolicyProtocolOptions,
  agent: string,
  snapshot: MarketSnapshot,
  step: string,
): string {
  const seconds = Math.floor(Date.parse(snapshot.time) / 1000);
  return `${options.label}_${options.runId}_${agent}_${snapshot.tick}_${seconds}_${step}`;
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

/** A portfolio from a get_portfolio result, or why it could not be read. */
function portfolioFrom(result: string | undefined, label: string): PortfolioView | string {
  if (result === undefined) return `${label}: no portfolio result, holding`;
  let json: unknown;
  try {
    json = JSON.parse(result);
  } catch {
    return `${label}: get_portfolio failed (${result.slice(0, 160)}), holding`;
  }
  const parsed = PortfolioView.safeParse(json);
  return parsed.success
    ? parsed.data
    : `${label}: portfolio result was not a PortfolioView, holding`;
}

/** The policy's decision in the JSON protocol's shape (holds when it cannot decide). */
function jsonDecision(request: ModelRequest, options: PolicyProtocolOptions): TradingDecision {
  if (!request.snapshot || !request.portfolio) {
    return {
      reasoning: `${options.label}: no structured snapshot or portfolio in the request, holding`,
      decisions: [],
    };
  }
  const decision = options.decide({ snapshot: request.snapshot, portfolio: request.portfolio });
  if (typeof decision === "string") return { reasoning: decision, decisions: [] };
  return {
    reasoning: decision.summary,
    decisions: decision.orders.map((order) => ({
      product_id: order.productId,
      action: order.action,
      quantity: Number(order.quantity),
      ...(order.leverage === undefined ? {} : { leverage: order.leverage }),
      stop_loss: order.stopLoss === undefined ? null : Number(order.stopLoss),
      take_profit: order.takeProfit === undefined ? null : Number(order.takeProfit),
      confidence: order.confidence ?? null,
      reason: order.reason,
    })),
  };
}

/** One step of the decision protocol played by a policy; deterministic for the same request. */
export function policyAnswer(
  request: ModelRequest,
  options: PolicyProtocolOptions,
): AssistantMessage {
  if (request.responseFormat) return text(JSON.stringify(jsonDecision(request, options)));
  const snapshot = request.snapshot;
  if (!snapshot) {
    return text(`${options.label}: no structured market snapshot in the request, holding`);
  }
  const toolNames = new Set(request.tools.map((tool) => tool.name));
  const lastUser = request.messages.findLastIndex((message) => message.role === "user");
  const turn = request.messages.slice(lastUser + 1);
  const calls = turn.flatMap((message) =>
    message.role === "assistant" ? message.toolCalls ?? [] : []
  );
  const results = new Map<string, string>();
  for (const message of turn) {
    if (message.role === "tool") results.set(message.toolCallId, message.content);
  }

  let portfolio: PortfolioView | string;
  if (request.portfolio) {
    portfolio = request.portfolio;
  } else {
    const portfolioCall = calls.find((call) => call.name === "get_portfolio");
    if (!portfolioCall) {
      if (!toolNames.has("get_portfolio")) {
        return text(`${options.label}: get_portfolio is not offered, holding`);
      }
      return {
        role: "assistant",
        content: null,
        toolCalls: [{
          id: callId(options, request.agent, snapshot, "portfolio"),
          name: "get_portfolio",
          arguments: "{}",
        }],
      };
    }
    portfolio = portfolioFrom(results.get(portfolioCall.id), options.label);
  }
  if (typeof portfolio === "string") return text(portfolio);

  const decision = options.decide({ snapshot, portfolio });
  if (typeof decision === "string") return text(decision);
  const tradeCalls = calls.filter((call) => call.name === "execute_trade");
  if (tradeCalls.length === 0 && decision.orders.length > 0) {
    if (!toolNames.has("execute_trade")) {
      return text(`${decision.summary} (execute_trade is not offered, no orders placed)`);
    }
    const toolCalls: ToolCall[] = decision.orders.map((order, index) => ({
      id: callId(options, request.agent, snapshot, `trade${index + 1}`),
      name: "execute_trade",
      arguments: JSON.stringify({
        product_id: order.productId,
        quantity: order.quantity,
        action: order.action,
        leverage: order.leverage,
        stop_loss: order.stopLoss,
        take_profit: order.takeProfit,
        confidence: order.confidence,
      }),
    }));
    return { role: "assistant", content: decision.summary, toolCalls };
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

/** A response with the answer and its estimated usage. */
export function policyResponse(
  request: ModelRequest,
  message: AssistantMessage,
  model: string,
): ModelResponse {
  return {
    message,
    usage: {
      promptTokens: estimatePromptTokens(request),
      completionTokens: estimateTokens(messageText(message)),
    },
    model,
  };
}

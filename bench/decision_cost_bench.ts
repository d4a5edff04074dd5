/**
 * Decision cost bench: model calls and prompt tokens (o200k, messages and tool definitions) per
 * decision for a scripted model that trades once per tick, and for one that holds, on the bundled
 * replay in memory. The model reads the portfolio from the prompt when it is there and calls
 * get_portfolio otherwise, so the same file measures an older tree (portfolio not in the prompt)
 * and this one side by side.
 *
 * Run: `deno task bench decision-cost`.
 */

import { countTokens } from "gpt-tokenizer";
import { defaultAgents } from "../core/agents/strategies.ts";
import { runArena } from "../core/arena/arena.ts";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import type { AssistantMessage } from "../core/contracts/chat.ts";
import { createLogger } from "../core/log.ts";
import { lockstepReplay } from "../tests/arena/_replay.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../core/runtime/model_provider.ts";

const TICKS = 12;

/** A model that trades (or holds) in as few calls as the prompt allows, counting what it reads. */
class ScriptedTrader implements ModelProvider {
  readonly model = "scripted";
  calls = 0;
  promptTokens = 0;
  readonly #trades: boolean;

  constructor(trades: boolean) {
    this.#trades = trades;
  }

  complete(request: ModelRequest): Promise<ModelResponse> {
    this.calls++;
    const sent = request.messages.map((message) =>
      (message.content ?? "") +
      (message.role === "assistant" ? JSON.stringify(message.toolCalls ?? []) : "")
    ).join("\n") + JSON.stringify(request.tools);
    this.promptTokens += countTokens(sent);
    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    const prompt = String(request.messages[lastUser]?.content ?? "");
    const turn = request.messages.slice(lastUser + 1);
    const called = turn.flatMap((message) =>
      message.role === "assistant" ? (message.toolCalls ?? []).map((call) => call.name) : []
    );
    const call = (name: string, args: string): AssistantMessage => ({
      role: "assistant",
      content: null,
      toolCalls: [{
        id: `${request.agent}.${request.snapshot?.tick}.${name}`,
        name,
        arguments: args,
      }],
    });
    let message: AssistantMessage;
    if (!prompt.includes("Your portfolio") && !called.includes("get_portfolio")) {
      message = call("get_portfolio", "{}");
    } else if (this.#trades && !called.includes("execute_trade")) {
      message = call(
        "execute_trade",
        JSON.stringify({ product_id: "BTC-USD", action: "buy", quantity: "0.001" }),
      );
    } else {
      message = { role: "assistant", content: "Reasoning: done for this tick.", toolCalls: [] };
    }
    return Promise.resolve({
      message,
      usage: { promptTokens: 0, completionTokens: 0 },
      model: "x",
    });
  }
}

console.log("## Decision cost (tool protocol, scripted model, 3 agents x " + TICKS + " ticks)\n");
console.log("| decision | model calls / decision | prompt tokens / decision (o200k) |");
console.log("| --- | ---: | ---: |");
for (const trades of [true, false]) {
  const model = new ScriptedTrader(trades);
  const bus = new MemoryBus();
  await runArena(bus, {
    agents: defaultAgents(),
    models: [{ provider: model }],
    market: await lockstepReplay("main", { maxTicks: TICKS }),
    log: createLogger("bench.decision_cost", { level: "error" }),
  });
  await bus.close();
  const decisions = TICKS * 3;
  console.log(
    `| ${trades ? "one trade" : "hold"} | ${(model.calls / decisions).toFixed(2)} | ${
      Math.round(model.promptTokens / decisions).toLocaleString("en-US")
    } |`,
  );
}

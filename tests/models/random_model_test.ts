import assert from "node:assert/strict";
import type { ChatMessage } from "../../core/contracts/chat.ts";
import { RandomModel } from "../../core/models/random_model.ts";
import { randomSchedule } from "../../core/agents/random_policy.ts";
import { portfolio, product, rising, snapshot } from "../agents/_snapshots.ts";

const target = { trades: 3, notional: "30000", ticks: 4, seed: 9 };
const tools = [
  { name: "get_portfolio", description: "", parameters: {} },
  { name: "execute_trade", description: "", parameters: {} },
];

Deno.test("the random model asks for the portfolio, then places its scheduled trades", async () => {
  const model = new RandomModel({ targets: new Map([["r1", target]]), runId: "t" });
  const tick = randomSchedule(target).findIndex((count) => count > 0) + 1;
  const market = snapshot([product("BTC-USD", rising(4000))], tick);
  const messages: ChatMessage[] = [{ role: "system", content: "x" }, {
    role: "user",
    content: "market",
  }];
  const first = await model.complete({ agent: "r1", messages, tools, snapshot: market });
  assert.equal(first.model, "random");
  assert.equal(first.message.toolCalls?.[0]?.name, "get_portfolio");
  const call = first.message.toolCalls![0]!;
  messages.push(first.message, {
    role: "tool",
    toolCallId: call.id,
    content: JSON.stringify(portfolio("100000")),
  });
  const second = await model.complete({ agent: "r1", messages, tools, snapshot: market });
  const trades = second.message.toolCalls ?? [];
  assert.equal(trades.length, randomSchedule(target)[tick - 1]);
  assert.ok(trades.every((trade) => trade.name === "execute_trade"));
  assert.equal(JSON.parse(trades[0]!.arguments).action, "buy");
});

Deno.test("the random model holds for agents without a target and answers JSON decisions", async () => {
  const model = new RandomModel({ targets: new Map([["r1", target]]) });
  const market = snapshot([product("BTC-USD", rising(4000))], 1);
  const none = await model.complete({
    agent: "other",
    messages: [{ role: "user", content: "m" }],
    tools,
    snapshot: market,
    portfolio: portfolio("100000"),
  });
  assert.equal(none.message.toolCalls?.length ?? 0, 0);
  assert.match(none.message.content ?? "", /no target/);
  const json = await model.complete({
    agent: "r1",
    messages: [{ role: "user", content: "m" }],
    tools: [],
    snapshot: market,
    portfolio: portfolio("100000"),
    responseFormat: { name: "trading_decision", schema: {} },
  });
  const decision = JSON.parse(json.message.content!);
  assert.equal(decision.decisions.length, randomSchedule(target)[0]);
  assert.match(decision.reasoning, /^random:/);
});

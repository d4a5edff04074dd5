import assert from "node:assert/strict";
import type { ChatMessage, ToolDefinition } from "../../core/contracts/chat.ts";
import type { ModelRequest, ModelResponse } from "../../core/runtime/model_provider.ts";
import { decisionOrders, parseDecision } from "../../core/agents/decision.ts";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import { estimateTokens } from "../../core/models/policy_protocol.ts";
import { portfolio, product, rising, snapshot } from "../agents/_snapshots.ts";

const TOOLS: ToolDefinition[] = [
  { name: "get_portfolio", description: "", parameters: { type: "object" } },
  { name: "execute_trade", description: "", parameters: { type: "object" } },
];

const MARKET = snapshot([product("BTC-USD", rising(4000))], 7);

function start(prompt = STRATEGIES.momentum.prompt): ChatMessage[] {
  return [{ role: "system", content: prompt }, { role: "user", content: "market data" }];
}

Deno.test("rules model plays get_portfolio, execute_trade, then a labelled answer", async () => {
  const model = new RulesModel({ runId: "run1" });
  assert.equal(model.model, "rules");
  const messages = start();
  const first = await model.complete({
    agent: "momentum",
    messages,
    tools: TOOLS,
    snapshot: MARKET,
  });
  assert.equal(first.model, "rules");
  assert.deepEqual(first.message.toolCalls.map((call) => [call.name, call.arguments]), [
    ["get_portfolio", "{}"],
  ]);
  messages.push(first.message, {
    role: "tool",
    toolCallId: first.message.toolCalls[0]!.id,
    content: JSON.stringify(portfolio("100000")),
  });
  const second = await model.complete({
    agent: "momentum",
    messages,
    tools: TOOLS,
    snapshot: MARKET,
  });
  assert.equal(second.message.toolCalls.length, 1);
  const trade = second.message.toolCalls[0]!;
  assert.equal(trade.name, "execute_trade");
  const args = JSON.parse(trade.arguments);
  assert.equal(args.product_id, "BTC-USD");
  assert.equal(args.action, "buy");
  assert.match(args.quantity, /^\d+\.\d{1,8}$/);
  assert.match(trade.id, /^rules_run1_momentum_7_\d+_trade1$/);
  messages.push(second.message, {
    role: "tool",
    toolCallId: trade.id,
    content: JSON.stringify({ status: "executed", quantity: args.quantity }),
  });
  const third = await model.complete({
    agent: "momentum",
    messages,
    tools: TOOLS,
    snapshot: MARKET,
  });
  assert.deepEqual(third.message.toolCalls, []);
  assert.match(
    third.message.content ?? "",
    /^rules \(momentum\): buy .*momentum up on 3 timeframes.*filled/,
  );
  assert.ok(third.usage.promptTokens > second.usage.promptTokens, "usage is estimated from text");
});

/**
 * Plays the model's first step (a get_portfolio call), answers the call with `content` (default
 * a fresh 100,000 USD portfolio) and returns the model's next step.
 */
async function afterPortfolio(
  model: RulesModel,
  request: ModelRequest,
  content: string = JSON.stringify(portfolio("100000")),
): Promise<ModelResponse> {
  const first = await model.complete(request);
  request.messages.push(first.message, {
    role: "tool",
    toolCallId: first.message.toolCalls[0]!.id,
    content,
  });
  return await model.complete(request);
}

Deno.test("rules model reports a refused trade in its answer", async () => {
  const model = new RulesModel();
  const request = { agent: "m", messages: start(), tools: TOOLS, snapshot: MARKET };
  const second = await afterPortfolio(model, request);
  request.messages.push(second.message, {
    role: "tool",
    toolCallId: second.message.toolCalls[0]!.id,
    content: "Insufficient cash: buy at most 1 BTC-USD",
  });
  const third = await model.complete(request);
  assert.match(third.message.content ?? "", /failed: Insufficient cash/);
});

Deno.test("rules model plays the request's rulesPolicy, never reading the prompt", async () => {
  // A momentum prompt: the policy comes from rulesPolicy alone.
  const second = await afterPortfolio(new RulesModel(), {
    agent: "x",
    messages: start(STRATEGIES.momentum.prompt),
    tools: TOOLS,
    snapshot: MARKET,
    rulesPolicy: "brainrot",
  });
  assert.match(second.message.content ?? "", /^rules \(brainrot\): buy .* \(sending it/);
});

Deno.test("rules model holds without a snapshot or when the portfolio call failed", async () => {
  const model = new RulesModel();
  const none = await model.complete({ agent: "m", messages: start(), tools: TOOLS });
  assert.match(none.message.content ?? "", /^rules: no structured market snapshot/);
  const second = await afterPortfolio(
    model,
    { agent: "m", messages: start(), tools: TOOLS, snapshot: MARKET },
    "Tool get_portfolio did not answer within 100 ms",
  );
  assert.deepEqual(second.message.toolCalls, []);
  assert.match(second.message.content ?? "", /get_portfolio failed.*holding/);
});

Deno.test("rules model's execute_trade calls carry the policy's exit plan and confidence", async () => {
  const market = snapshot([
    product("BTC-USD", { m15: [1], m5: [1], m1: [4000, 4004, 4008] }, { bid: 4007.9, ask: 4008.1 }),
  ]);
  const second = await afterPortfolio(new RulesModel({ strategy: "scalper" }), {
    agent: "scalper",
    messages: start(STRATEGIES.scalper.prompt),
    tools: TOOLS,
    snapshot: market,
  });
  const { quantity, ...plan } = JSON.parse(second.message.toolCalls[0]!.arguments);
  assert.match(quantity, /^1\.\d+$/);
  // 4008.1 x 1.015 and x 0.99 to 6 significant digits; a 0.2 % rise over three closes.
  assert.deepEqual(
    plan,
    {
      product_id: "BTC-USD",
      action: "buy",
      stop_loss: "3968.02",
      take_profit: "4068.22",
      confidence: 0.66,
    },
  );
});

Deno.test("a rules model without a fee of its own sizes exits with the desk's fee from the request", async () => {
  const market = snapshot([
    product("BTC-USD", { m15: [1], m5: [1], m1: [4000, 4004, 4008] }, { bid: 4007.9, ask: 4008.1 }),
  ]);
  const plan = async (model: RulesModel, desk?: ModelRequest["desk"]) => {
    const second = await afterPortfolio(model, {
      agent: "scalper",
      messages: start(STRATEGIES.scalper.prompt),
      tools: TOOLS,
      snapshot: market,
      desk,
    });
    const { stop_loss, take_profit } = JSON.parse(second.message.toolCalls[0]!.arguments);
    return { stop_loss, take_profit };
  };
  const frictionless = { takerFeeBps: 0, slippageBps: 0, allowShort: false, maxLeverage: 1 };
  // A chat node of its own has no fee flag: the request's desk terms say there is no fee.
  const fromRequest = await plan(new RulesModel({ strategy: "scalper" }), frictionless);
  assert.deepEqual(
    fromRequest,
    await plan(new RulesModel({ strategy: "scalper", takerFeeBps: 0 })),
  );
  assert.deepEqual(fromRequest, { stop_loss: "4000.08", take_profit: "4020.12" });
  assert.notDeepEqual(fromRequest, await plan(new RulesModel({ strategy: "scalper" })));
});

Deno.test("rules model only looks at the current decision, not remembered ones", async () => {
  const model = new RulesModel();
  const messages: ChatMessage[] = [
    { role: "system", content: STRATEGIES.momentum.prompt },
    { role: "system", content: "Your last 1 decisions: get_portfolio() -> ok" },
    { role: "user", content: "market data" },
  ];
  const first = await model.complete({ agent: "m", messages, tools: TOOLS, snapshot: MARKET });
  assert.equal(first.message.toolCalls[0]?.name, "get_portfolio");
});

Deno.test("token estimate is characters over four, rounded up", () => {
  assert.equal(estimateTokens(""), 0);
  assert.equal(estimateTokens("abcde"), 2);
});

Deno.test("rules model tool call ids differ between runs so a second replay is not a redelivery", async () => {
  const request = { agent: "momentum", messages: start(), tools: TOOLS, snapshot: MARKET };
  const first = await new RulesModel().complete(request);
  const again = await new RulesModel().complete(request);
  assert.notEqual(first.message.toolCalls[0]!.id, again.message.toolCalls[0]!.id);
  const model = new RulesModel({ runId: "fixed" });
  assert.equal(
    (await model.complete(request)).message.toolCalls[0]!.id,
    (await model.complete(request)).message.toolCalls[0]!.id,
  );
});

Deno.test("rules model's JSON decisions carry the exit plan the decision schema accepts", async () => {
  const market = snapshot([
    product("BTC-USD", { m15: [1], m5: [1], m1: [4000, 4004, 4008] }, { bid: 4007.9, ask: 4008.1 }),
  ]);
  const reply = await new RulesModel({ strategy: "scalper" }).complete({
    agent: "scalper",
    messages: start(STRATEGIES.scalper.prompt),
    tools: [],
    snapshot: market,
    portfolio: portfolio("100000"),
    responseFormat: { name: "trading_decision", schema: {} },
  });
  const parsed = parseDecision(reply.message.content, ["BTC-USD"]);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const [order] = decisionOrders(parsed.decision);
  assert.equal(order!.stopLoss, "3968.02");
  assert.equal(order!.takeProfit, "4068.22");
  assert.equal(order!.confidence, 0.66);
});

Deno.test("on a margin desk from the request the rules model sells short with leverage, in both protocols", async () => {
  const falling = snapshot([
    product("BTC-USD", { m15: [4400, 4200, 4000], m5: [4100, 4050, 4000], m1: [4020, 4010, 4000] }),
  ]);
  const desk = { takerFeeBps: 60, slippageBps: 0, allowShort: true, maxLeverage: 10 };
  const request = {
    agent: "momentum",
    messages: start(),
    tools: TOOLS,
    snapshot: falling,
    portfolio: portfolio("100000"),
  };
  const spot = await new RulesModel().complete(request);
  assert.deepEqual(spot.message.toolCalls, [], "no short on a spot desk");
  const margin = await new RulesModel().complete({ ...request, desk });
  const args = JSON.parse(margin.message.toolCalls[0]!.arguments);
  assert.equal(args.action, "sell");
  assert.equal(args.leverage, 2);
  assert.equal(args.stop_loss, "4080");
  const json = await new RulesModel().complete({
    ...request,
    desk,
    responseFormat: { name: "trading_decision", schema: {} },
  });
  const parsed = parseDecision(json.message.content, ["BTC-USD"], { maxLeverage: 10 });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const [order] = decisionOrders(parsed.decision);
  assert.equal(order!.action, "sell");
  assert.equal(order!.leverage, 2);
  assert.equal(order!.quantity, args.quantity);
});

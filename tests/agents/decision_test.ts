import assert from "node:assert/strict";
import {
  decisionOrders,
  decisionResponseFormat,
  offeredMaxLeverage,
  parseDecision,
  parseProtocol,
  REASON_MAX_LENGTH,
  REASONING_MAX_LENGTH,
} from "../../core/agents/decision.ts";
import {
  FEE_HEADROOM,
  JSON_EXIT_PLAN_INSTRUCTIONS,
  JSON_INSTRUCTIONS,
  maxBuyUnits,
  renderPortfolio,
  systemPromptFor,
  TOOLS_INSTRUCTIONS,
} from "../../core/agents/decision_prompt.ts";
import type { PortfolioView, PositionView } from "../../core/contracts/portfolio.ts";
import { tradingToolDefinitions } from "../../core/tools/trading_tools.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import { MarketDecimal } from "../../core/market/decimal.ts";
import { mainFixture } from "../market/_fixtures.ts";

const PRODUCTS = ["BTC-USD", "ETH-USD"];

Deno.test("a valid decision parses, lenient on action case and numeric strings", () => {
  const parsed = parseDecision(
    JSON.stringify({
      reasoning: "BTC trends up",
      decisions: [
        { product_id: "BTC-USD", action: " BUY", quantity: "0.5", reason: "trend" },
        { product_id: "ETH-USD", action: "hold", quantity: 0, reason: "flat" },
      ],
    }),
    PRODUCTS,
  );
  assert.ok(parsed.ok);
  assert.equal(parsed.decision.decisions[0]!.action, "buy");
  assert.equal(parsed.decision.decisions[0]!.quantity, 0.5);
});

Deno.test("a decision is found inside a fenced block or prose (servers without json_schema)", () => {
  const text = 'Here is my decision:\n```json\n{"reasoning": "hold", "decisions": []}\n```';
  const parsed = parseDecision(text, PRODUCTS);
  assert.ok(parsed.ok);
  assert.equal(parsed.decision.reasoning, "hold");
});

Deno.test("decisions failing the schema get a one-line reason naming the field", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["I think we should buy", /no JSON object/],
    [
      '{"reasoning": "x", "decisions": [{"product_id": "DOGE-USD", "action": "buy", ' +
      '"quantity": 1, "reason": ""}]}',
      /decisions\.0\.product_id/,
    ],
    [
      '{"reasoning": "x", "decisions": [{"product_id": "BTC-USD", "action": "short", ' +
      '"quantity": 1, "reason": ""}]}',
      /decisions\.0\.action/,
    ],
    [
      '{"reasoning": "x", "decisions": [{"product_id": "BTC-USD", "action": "buy", ' +
      '"quantity": -1, "reason": ""}]}',
      /decisions\.0\.quantity/,
    ],
    ['{"reasoning": "x", "decisions": [], "leverage": 5}', /leverage|Unrecognized/i],
  ];
  for (const [text, pattern] of cases) {
    const parsed = parseDecision(text, PRODUCTS);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) {
      assert.match(parsed.error, pattern, text);
      assert.ok(!parsed.error.includes("\n"), "the reason is one line");
    }
  }
});

Deno.test("orders put sells before buys and skip holds and zero quantities", () => {
  const parsed = parseDecision(
    JSON.stringify({
      reasoning: "rotate",
      decisions: [
        { product_id: "BTC-USD", action: "buy", quantity: 1e-7, reason: "" },
        { product_id: "ETH-USD", action: "sell", quantity: 2, reason: "" },
        { product_id: "ETH-USD", action: "buy", quantity: 0, reason: "" },
        { product_id: "BTC-USD", action: "hold", quantity: 3, reason: "" },
      ],
    }),
    PRODUCTS,
  );
  assert.ok(parsed.ok);
  assert.deepEqual(decisionOrders(parsed.decision), [
    { productId: "ETH-USD", action: "sell", quantity: "2" },
    { productId: "BTC-USD", action: "buy", quantity: "0.0000001" },
  ]);
});

Deno.test("the response format is a strict JSON Schema naming the products", () => {
  const format = decisionResponseFormat(PRODUCTS);
  assert.equal(format.name, "trading_decision");
  const schema = format.schema as {
    additionalProperties: boolean;
    required: string[];
    properties: { decisions: { items: { properties: { product_id: { enum: string[] } } } } };
  };
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required, ["reasoning", "decisions"]);
  assert.deepEqual(schema.properties.decisions.items.properties.product_id.enum, PRODUCTS);
  assert.equal("$schema" in schema, false);
});

Deno.test("--protocol accepts tools and json only", () => {
  assert.equal(parseProtocol("json"), "json");
  assert.throws(() => parseProtocol("xml"), /Protocol must be one of tools, json, got xml/);
});

const PORTFOLIO: PortfolioView = {
  agent: "momentum",
  time: "2017-09-03T04:00:00.000Z",
  startingCash: "100000",
  cash: "95462.5",
  equity: "100010.123",
  marginUsed: "4510",
  totalReturnPct: "0.01",
  realizedPnl: "0",
  unrealizedPnl: "10.123",
  feesPaid: "27.5",
  tradeCount: 1,
  positions: [{
    productId: "BTC-USD",
    quantity: "1",
    averageCost: "4510",
    costBasis: "4510",
    price: "4520.12",
    marketValue: "4520.12",
    unrealizedPnl: "10.12",
    unrealizedPnlPct: "0.22",
    averageHoldMinutes: 35.4,
    side: "long",
    margin: "4510",
    leverage: 1,
  }],
};

Deno.test("the portfolio reads as plain lines with cash, equity, fees and each position", () => {
  const text = renderPortfolio(PORTFOLIO);
  assert.match(text, /cash 95462\.50 USD, equity 100010\.12 USD \(\+0\.01 % since start\)/);
  assert.match(text, /fees paid 27\.50 USD, 1 trades/);
  assert.match(
    text,
    /- BTC-USD: 1 units, average cost 4510, bid now 4520\.12, unrealized P&L \+10\.12 USD \(\+0\.22 %\), held 35 min/,
  );
  assert.match(renderPortfolio({ ...PORTFOLIO, positions: [] }), /Open positions: none\./);
});

Deno.test("each protocol appends its own instructions to the strategy prompt", () => {
  assert.ok(systemPromptFor("Be bold.", "tools").endsWith(TOOLS_INSTRUCTIONS));
  assert.ok(systemPromptFor("Be bold.", "json").endsWith(JSON_EXIT_PLAN_INSTRUCTIONS));
  assert.match(JSON_EXIT_PLAN_INSTRUCTIONS, /"decisions".*"stop_loss"/);
});

Deno.test("a desk without exit plans gets the json instructions and schema without them", () => {
  const terms = {
    takerFeeBps: 60,
    slippageBps: 0,
    allowShort: false,
    maxLeverage: 1,
    exitPlans: false,
  };
  const prompt = systemPromptFor("Be bold.", "json", terms);
  assert.ok(prompt.includes(JSON_INSTRUCTIONS));
  assert.doesNotMatch(prompt, /stop_loss|confidence/);
  const item = (format: ReturnType<typeof decisionResponseFormat>) =>
    // deno-lint-ignore no-explicit-any
    (format.schema as any).properties.decisions.items.properties as Record<string, unknown>;
  const spot = item(decisionResponseFormat(["BTC-USD"], { "BTC-USD": 2 }, { exitPlans: false }));
  assert.deepEqual(Object.keys(spot).sort(), ["action", "product_id", "quantity", "reason"]);
  const planned = item(decisionResponseFormat(["BTC-USD"], { "BTC-USD": 2 }));
  assert.ok("stop_loss" in planned && "confidence" in planned);
  // Entries that carry them anyway are still understood.
  const parsed = parseDecision(
    '{"reasoning":"r","decisions":[{"product_id":"BTC-USD","action":"buy","quantity":1,' +
      '"stop_loss":4000,"take_profit":null,"confidence":0.6,"reason":"x"}]}',
    ["BTC-USD"],
  );
  assert.ok(parsed.ok);
});

Deno.test("the json protocol's system prompt states the desk's fee, shorts and leverage", () => {
  const spot = systemPromptFor("Be bold.", "json", {
    takerFeeBps: 60,
    slippageBps: 0,
    allowShort: false,
    maxLeverage: 1,
  });
  assert.ok(spot.endsWith("Desk: The fee is 60 basis points of each fill's notional."));
  assert.doesNotMatch(spot, /Shorting|leverage"/);
  const margin = systemPromptFor("Be bold.", "json", {
    takerFeeBps: 0,
    slippageBps: 2,
    allowShort: true,
    maxLeverage: 10,
  });
  assert.match(margin, /Desk: There is no trading fee\. Fills slip 2 bps against you\./);
  assert.match(margin, /Shorting is allowed: a sell with nothing held opens a short/);
  assert.match(margin, /"leverage": 1 to 10/);
  // The tool loop reads the terms in execute_trade's description instead.
  assert.equal(
    systemPromptFor("Be bold.", "tools", {
      takerFeeBps: 60,
      slippageBps: 0,
      allowShort: true,
      maxLeverage: 5,
    }),
    systemPromptFor("Be bold.", "tools"),
  );
});

Deno.test("with the snapshot, the portfolio says the most each product's cash buys at the ask", () => {
  const snapshot = new CsvMarket(mainFixture()).tick(1).snapshot;
  const text = renderPortfolio(PORTFOLIO, snapshot);
  for (const product of snapshot.products) {
    const units = new MarketDecimal(PORTFOLIO.cash).div(
      new MarketDecimal(product.ticker.bestAsk).times(1 + FEE_HEADROOM),
    ).toSignificantDigits(4, MarketDecimal.ROUND_DOWN).toFixed();
    assert.equal(maxBuyUnits(PORTFOLIO.cash, product.ticker.bestAsk), units);
    assert.ok(text.includes(`${product.productId} ${units} units (${units} x `), units);
    // What the line offers is affordable at a 60 bps fee.
    const cost = new MarketDecimal(units).times(product.ticker.bestAsk).times(1.006);
    assert.ok(cost.lte(PORTFOLIO.cash), `${cost} > ${PORTFOLIO.cash}`);
  }
  assert.match(text, /Most you can buy now at the ask, fee included: BTC-USD \d/);
  assert.match(text, /never dollars/);
});

Deno.test("decisions with over-long texts are clipped, not refused (servers without maxLength)", () => {
  const parsed = parseDecision(
    JSON.stringify({
      reasoning: "x".repeat(1000),
      decisions: [{ product_id: "BTC-USD", action: "hold", quantity: 0, reason: "y".repeat(500) }],
    }),
    PRODUCTS,
  );
  assert.ok(parsed.ok);
  assert.equal(parsed.decision.reasoning.length, REASONING_MAX_LENGTH);
  assert.equal(parsed.decision.decisions[0]!.reason.length, REASON_MAX_LENGTH);
  const schema = JSON.stringify(decisionResponseFormat(PRODUCTS).schema);
  assert.ok(schema.includes(`"maxLength":${REASONING_MAX_LENGTH}`));
});

Deno.test("with limits, each product's quantity has its own maximum in the schema", () => {
  const schema = decisionResponseFormat(PRODUCTS, { "BTC-USD": 1.14, "ETH-USD": 27.5 }).schema as {
    properties: {
      decisions: {
        items: {
          anyOf: {
            properties: { product_id: { enum: string[] }; quantity: { maximum: number } };
          }[];
        };
      };
    };
  };
  const items = schema.properties.decisions.items.anyOf;
  assert.deepEqual(
    items.map((item) => [item.properties.product_id.enum[0], item.properties.quantity.maximum]),
    [["BTC-USD", 1.14], ["ETH-USD", 27.5]],
  );
});

Deno.test("an entry's exit plan, confidence and leverage become the order's terms", () => {
  const parsed = parseDecision(
    JSON.stringify({
      reasoning: "breakout",
      decisions: [
        {
          product_id: "BTC-USD",
          action: "buy",
          quantity: 0.5,
          stop_loss: "4500.5",
          take_profit: 5000,
          confidence: 0.7,
          leverage: 3,
          reason: "trend",
        },
        {
          product_id: "ETH-USD",
          action: "sell",
          quantity: 2,
          stop_loss: 0,
          take_profit: null,
          confidence: null,
          reason: "",
        },
      ],
    }),
    PRODUCTS,
    { maxLeverage: 5 },
  );
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  assert.deepEqual(decisionOrders(parsed.decision), [
    { productId: "ETH-USD", action: "sell", quantity: "2" },
    {
      productId: "BTC-USD",
      action: "buy",
      quantity: "0.5",
      stopLoss: "4500.5",
      takeProfit: "5000",
      confidence: 0.7,
      leverage: 3,
    },
  ]);
});

Deno.test("leverage is refused where the desk offers none or above its maximum", () => {
  const entry = { product_id: "BTC-USD", action: "buy", quantity: 1, reason: "" };
  const text = (extra: Record<string, unknown>) =>
    JSON.stringify({ reasoning: "x", decisions: [{ ...entry, ...extra }] });
  const spot = parseDecision(text({ leverage: 2 }), PRODUCTS);
  assert.ok(!spot.ok && /decisions\.0/.test(spot.error) && /leverage/.test(spot.error));
  const over = parseDecision(text({ leverage: 6 }), PRODUCTS, { maxLeverage: 5 });
  assert.ok(!over.ok && /decisions\.0\.leverage/.test(over.error));
  const sure = parseDecision(text({ confidence: 1.5 }), PRODUCTS);
  assert.ok(!sure.ok && /decisions\.0\.confidence/.test(sure.error));
});

Deno.test("the bounded response format requires the exit plan as nullable fields (strict mode)", () => {
  type Item = {
    required: string[];
    additionalProperties: boolean;
    properties: Record<string, { anyOf?: { type: string; maximum?: number }[] }>;
  };
  const spot = decisionResponseFormat(PRODUCTS, { "BTC-USD": 1, "ETH-USD": 2 }).schema as {
    properties: { decisions: { items: { anyOf: Item[] } } };
  };
  for (const item of spot.properties.decisions.items.anyOf) {
    assert.deepEqual(item.required, [
      "product_id",
      "action",
      "quantity",
      "stop_loss",
      "take_profit",
      "confidence",
      "reason",
    ]);
    assert.equal(item.additionalProperties, false);
    assert.deepEqual(item.properties.stop_loss!.anyOf!.map((branch) => branch.type), [
      "number",
      "null",
    ]);
  }
  const margin = decisionResponseFormat(["BTC-USD"], { "BTC-USD": 1 }, { maxLeverage: 5 })
    .schema as { properties: { decisions: { items: Item } } };
  const item = margin.properties.decisions.items;
  assert.ok(item.required.includes("leverage"));
  assert.equal(item.properties.leverage!.anyOf![0]!.maximum, 5);
});

Deno.test("the leverage a JSON decision may ask for is the served execute_trade's maximum", () => {
  const desk = { takerFeeBps: 60, slippageBps: 0 };
  assert.equal(offeredMaxLeverage(tradingToolDefinitions(desk)), 1);
  assert.equal(offeredMaxLeverage(tradingToolDefinitions({ ...desk, maxLeverage: 20 })), 20);
  assert.equal(offeredMaxLeverage([]), 1);
});

Deno.test("a short, leveraged position with an exit plan shows all of it; a spot one nothing new", () => {
  const spot = PORTFOLIO.positions[0]!;
  const short: PositionView = {
    ...spot,
    side: "short",
    leverage: 5,
    margin: "902",
    price: "4530",
    liquidationPrice: "5386.06965174",
    stopLoss: "4700",
    takeProfit: "4300",
    confidence: 0.65,
    invalidation: "BTC reclaims 4600",
  };
  const text = renderPortfolio({ ...PORTFOLIO, positions: [short] });
  assert.match(
    text,
    /- BTC-USD: short 1 units at 5x \(margin 902\.00 USD\), average cost 4510, ask now 4530, /,
  );
  assert.match(
    text,
    /held 35 min; stop 4700, target 4300, liquidation 5386\.06965174, confidence 0\.65, invalid if "BTC reclaims 4600"$/,
  );
  const plain = renderPortfolio(PORTFOLIO);
  assert.doesNotMatch(plain, /short|margin|stop|target|liquidation|confidence|invalid/);
  assert.match(plain, /held 35 min$/);
});

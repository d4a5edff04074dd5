import assert from "node:assert/strict";
import { orderReminder, statedOrders } from "../../core/agents/stated_orders.ts";

const PRODUCTS = ["BTC-USD", "ETH-USD"];

Deno.test("statedOrders finds orders announced in words", () => {
  assert.deepEqual(
    statedOrders("Reasoning: I decided to buy BTC-USD at the ask price.", PRODUCTS),
    [{ action: "buy", productId: "BTC-USD" }],
  );
  assert.deepEqual(
    statedOrders("Selling ETH-USD now. The buy order for btc-usd fills at the ask.", PRODUCTS),
    [{ action: "sell", productId: "ETH-USD" }, { action: "buy", productId: "BTC-USD" }],
  );
});

Deno.test("statedOrders keeps a sentence whole across decimals in it", () => {
  assert.deepEqual(
    statedOrders(
      "I decided to execute a buy order for 0.05 units of BTC-USD at the best ask price of 87677.5 USD.",
      PRODUCTS,
    ),
    [{ action: "buy", productId: "BTC-USD" }],
  );
});

Deno.test("statedOrders ignores denied, hypothetical and product-less orders", () => {
  for (
    const text of [
      "I decided not to buy BTC-USD: the trend is flat.",
      "I won't sell ETH-USD yet.",
      "If BTC-USD breaks out I will buy it.",
      "I would buy BTC-USD but the spread is wide.",
      "Holding BTC-USD; no trade this tick.",
      "I decided to buy more coins.",
      "I decided to buy BTC-USDT.",
    ]
  ) {
    assert.deepEqual(statedOrders(text, PRODUCTS), [], text);
  }
});

Deno.test("statedOrders keeps the first order stated per product", () => {
  assert.deepEqual(
    statedOrders("I buy BTC-USD. Later I sell BTC-USD.", PRODUCTS),
    [{ action: "buy", productId: "BTC-USD" }],
  );
});

Deno.test("orderReminder names the stated orders and suggests no quantity", () => {
  const text = orderReminder([{ action: "sell", productId: "ETH-USD" }]);
  assert.match(text, /^You wrote that you decided to sell ETH-USD, but no order was placed/);
  assert.match(text, /<tool_call>\{"name": "execute_trade"/);
  assert.doesNotMatch(text, /\d/);
});

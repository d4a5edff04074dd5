/**
 * Orders a model announced in words instead of placing them ("I decided to buy BTC-USD"): small
 * models in the tool loop often write their decision as prose and never call execute_trade. The
 * router reminds such a model once that text places no order; nothing is ever traded from text.
 */

/** An order a reply announces in words: the action and the product it names. */
export interface StatedOrder {
  /** buy or sell. */
  action: "buy" | "sell";
  /** The product, spelled as in the market data. */
  productId: string;
}

const ACTION_WORDS: ReadonlyMap<string, "buy" | "sell"> = new Map([
  ["buy", "buy"],
  ["buying", "buy"],
  ["purchase", "buy"],
  ["purchasing", "buy"],
  ["sell", "sell"],
  ["selling", "sell"],
]);

/** Words that deny or soften an order when they come just before the action. */
const DENIALS =
  /\b(not|no|never|nothing|avoid|avoiding|without|instead|rather|should|could|might|may|would)\b|n't\b/i;

/** How many words before an action word a denial still applies to it. */
const DENIAL_REACH_WORDS = 4;

/** Words that make everything after them in the sentence a condition, not an order. */
const CONDITIONS = /\b(if|when|unless|once|until|whenever)\b/i;

/**
 * The orders a reply states in words, at most one per product (the first stated): a sentence
 * with "buy"/"sell" (or buying, purchase, selling) and a product of the market, not hedged or
 * denied by a word just before the action ("not to buy", "would sell") or following a condition
 * ("if … buy").
 */
export function statedOrders(text: string, productIds: readonly string[]): StatedOrder[] {
  const orders = new Map<string, StatedOrder>();
  // A sentence ends at . ! ? ; before a space or the end (not inside "0.05"), or at a line break.
  for (const sentence of text.split(/[.!?;]+(?=\s|$)|\n+/)) {
    const products = productIds.filter((productId) =>
      new RegExp(`(^|[^A-Za-z0-9-])${escapeRegExp(productId)}($|[^A-Za-z0-9-])`, "i").test(
        sentence,
      )
    );
    if (products.length === 0) continue;
    const words = sentence.split(/\s+/).filter((word) => word !== "");
    for (let index = 0; index < words.length; index++) {
      const action = ACTION_WORDS.get(words[index]!.toLowerCase().replace(/[^a-z]/g, ""));
      if (action === undefined) continue;
      const near = words.slice(Math.max(0, index - DENIAL_REACH_WORDS), index).join(" ");
      if (DENIALS.test(near) || CONDITIONS.test(words.slice(0, index).join(" "))) continue;
      for (const productId of products) {
        if (!orders.has(productId)) orders.set(productId, { action, productId });
      }
      break;
    }
  }
  return [...orders.values()];
}

/** The one reminder a model gets after announcing orders in words without placing them. */
export function orderReminder(orders: readonly StatedOrder[]): string {
  const stated = orders.map((order) => `${order.action} ${order.productId}`).join(" and ");
  return `You wrote that you decided to ${stated}, but no order was placed: text describing an ` +
    "order does nothing, orders happen only through an execute_trade tool call. Place the order " +
    'you decided now: reply with only <tool_call>{"name": "execute_trade", "arguments": ' +
    '{"product_id": "...", "action": "...", "quantity": ...}}</tool_call> filled with your ' +
    "product, action and quantity in units.";
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

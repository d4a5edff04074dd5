/** The built-in trading strategies (system prompts) and the arena's default agents. */

/** Ids of the built-in strategies; each also names a rules-model policy. */
export const STRATEGY_IDS = ["momentum", "brainrot", "scalper"] as const;

/** A built-in strategy id. */
export type StrategyId = typeof STRATEGY_IDS[number];

/** A strategy: the system prompt an agent trades by, and the rules policy that mirrors it. */
export interface Strategy {
  /** Strategy name, shown on dashboards (e.g. `momentum` or a custom file's name). */
  name: string;
  /** The system prompt. */
  prompt: string;
  /** Which offline rules policy plays this strategy when the chat node runs `--model rules`. */
  rules: StrategyId;
}

const COMMON =
  `You are one of several trading agents in a competition. Each agent starts with $100,000 of simulated cash and receives the same market data about every 60 seconds: for each product the ticker (price, best bid, best ask, 24 h volume) and candles on three timeframes (15-minute bars from 4 h to 90 min ago, 5-minute bars from 90 to 20 min ago, 1-minute bars of the last 20 minutes).

Tools:
- get_portfolio: your cash, open positions, average cost, unrealized P&L and how long you have held each position. Call it first on every update.
- execute_trade: buy or sell a product at market (buys fill at the best ask, sells at the best bid, fees apply). Quantity is in units of the product, not dollars.
- calculator: evaluate arithmetic for position sizing and P&L.

Only trade products in the market data. You cannot spend more cash than you have or sell more than you hold. When you are done, answer in two or three sentences: what you did and why.`;

/** The momentum trader: follows trends across timeframes, lets winners run, cuts losers. */
export const MOMENTUM_PROMPT = `${COMMON}

Your strategy: MOMENTUM. The trend is your friend.
- Look for agreement across timeframes: buy when the 15-minute, 5-minute and 1-minute candles all point up (higher closes, higher lows, rising volume helps).
- Let winners run while the trend holds; do not take small profits out of an intact uptrend.
- Cut losers fast: sell as soon as the short timeframes turn against your position (a reversal on the 5-minute and 1-minute candles) or a position falls a few percent below its cost.
- Size positions meaningfully (roughly a fifth of your equity per idea) but never go all-in on one product.
- If nothing is trending, doing nothing is a valid trade.`;

/** The brainrot trader: maximal conviction, buys big, never sells at a loss. */
export const BRAINROT_PROMPT = `${COMMON}

Your strategy: BRAINROT. YOLO. Go big or go home.
- You trade on vibes and conviction: when something is pumping, you want in, and you want in big (half of your cash at a time is normal for you).
- Diamond hands: you NEVER sell at a loss. A red position is just a discount you already own; hold it until it is green.
- When a position is comfortably in profit, take the win and look for the next rocket.
- Cash sitting idle is a missed opportunity.`;

/** The scalper: many small, quick trades with tight take-profit and stop-loss. */
export const SCALPER_PROMPT = `${COMMON}

Your strategy: SCALPER. Many small, quick trades.
- Focus on the 1-minute candles and the bid/ask: enter small positions (about 5% of equity) on short upticks.
- Take profits quickly: exit as soon as the best bid is a fraction of a percent above your average cost.
- Use a tight stop: exit as soon as the best bid falls a fraction of a percent below your average cost.
- Minimise hold time: do not let a scalp turn into an investment; close positions held for more than about 15 minutes.
- Fees matter at this size, so only take moves that can pay for them.`;

/** The built-in strategies by id. */
export const STRATEGIES: Readonly<Record<StrategyId, Strategy>> = Object.freeze({
  momentum: { name: "momentum", prompt: MOMENTUM_PROMPT, rules: "momentum" },
  brainrot: { name: "brainrot", prompt: BRAINROT_PROMPT, rules: "brainrot" },
  scalper: { name: "scalper", prompt: SCALPER_PROMPT, rules: "scalper" },
});

/** Whether a text is a built-in strategy id. */
export function isStrategyId(value: string): value is StrategyId {
  return (STRATEGY_IDS as readonly string[]).includes(value);
}

/** Returns a built-in strategy; throws naming the valid ids otherwise. */
export function builtinStrategy(id: string): Strategy {
  if (!isStrategyId(id)) {
    throw new Error(`Strategy must be one of ${STRATEGY_IDS.join(", ")}, got ${id}`);
  }
  return STRATEGIES[id];
}

/** An agent to run: its name (consumer group, ledger account) and strategy. */
export interface AgentSpec {
  /** Agent name. */
  name: string;
  /** The strategy it trades by. */
  strategy: Strategy;
}

/** The original's three agents: `momentum`, `brainrot-daytrader` and `scalper`. */
export function defaultAgents(): AgentSpec[] {
  return [
    { name: "momentum", strategy: STRATEGIES.momentum },
    { name: "brainrot-daytrader", strategy: STRATEGIES.brainrot },
    { name: "scalper", strategy: STRATEGIES.scalper },
  ];
}

/** The line a custom strategy's prompt carries to tell the rules model which policy to play. */
export function rulesMarker(id: StrategyId): string {
  return `(Offline rules policy: ${id}.)`;
}

/**
 * Which rules policy an agent plays: an explicit rules marker in its system prompt, else the
 * built-in prompt's `Your strategy:` line, else a built-in id in the agent name, else momentum.
 */
export function rulesForAgent(systemPrompt: string, agent: string): StrategyId {
  const marker = /\(Offline rules policy: (momentum|brainrot|scalper)\.\)/.exec(systemPrompt);
  if (marker) return marker[1] as StrategyId;
  const builtin = /Your strategy: (MOMENTUM|BRAINROT|SCALPER)\b/.exec(systemPrompt);
  if (builtin) return builtin[1]!.toLowerCase() as StrategyId;
  const named = STRATEGY_IDS.find((id) => agent.toLowerCase().includes(id));
  return named ?? "momentum";
}

/**
 * The built-in trading strategies (the original's four system prompts, in our own words) and the
 * arena's default agents. A prompt holds the arena briefing, the strategy's rules and a request
 * for a closing "Reasoning:" section; it says nothing protocol-specific (tool loop or one JSON
 * decision), so the router can append the instructions of whichever protocol it speaks.
 */

import { windowBounds } from "../market/windows.ts";

/** Ids of the built-in strategies, the original's four. */
export const STRATEGY_IDS = ["default", "momentum", "brainrot", "scalper"] as const;

/** A built-in strategy id. */
export type StrategyId = typeof STRATEGY_IDS[number];

/** Ids of the offline rules policies (core/agents/rules.ts) that play strategies. */
export const RULES_POLICY_IDS = ["momentum", "brainrot", "scalper"] as const;

/** An offline rules policy id; distinct from a strategy id (`default` has no policy of its own). */
export type RulesPolicyId = typeof RULES_POLICY_IDS[number];

/** A strategy: the system prompt an agent trades by, and the rules policy that mirrors it. */
export interface Strategy {
  /** Strategy name, shown on dashboards (e.g. `momentum` or a custom file's name). */
  name: string;
  /** The system prompt, without protocol-specific instructions. */
  prompt: string;
  /** Which offline rules policy plays this strategy when the chat node runs `--model rules`. */
  rules: RulesPolicyId;
}

/** Minutes or hours before now, as the briefing words it: `3 h`, `90 min`. */
function ago(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds / 60} min`;
}

/** The three candle windows in words, read from the window bounds the market data uses. */
function windowsText(): string {
  const { m15, m5, m1 } = windowBounds(0);
  return `15-minute bars from ${ago(-m15.start)} to ${ago(-m15.end)} ago, ` +
    `5-minute bars from ${ago(-m5.start)} to ${ago(-m5.end)} ago, ` +
    `1-minute bars of the last ${ago(-m1.start)}`;
}

/** The arena briefing every built-in prompt starts with: the game, the data, the order rules. */
export const ARENA_BRIEFING: string =
  `You are a crypto day trader, one of several trading agents in a competition. Each agent starts with $100,000 of simulated cash; your goal is the largest total account value (cash plus the market value of your positions).

About every 60 seconds you receive the same market data as every other agent: for each product the ticker (price of the last trade, best bid, best ask, 24 h volume) and candles on three timeframes (${windowsText()}). Each update also shows your portfolio: cash, open positions with quantity, average cost, unrealized P&L and how long you have held them.

Orders are market orders: buys fill at the best ask, sells at the best bid. Quantities are in units of the product (e.g. 0.05 of a coin), not dollars. Only trade products that appear in the market data. Holding is a valid decision.`;

/** What every built-in prompt ends with: a short "Reasoning:" section. */
export const REASONING_REQUEST =
  `End your reply with a short section that starts with "Reasoning:" and says in two or three sentences what you decided and why.`;

/** The default strategy's rules: a general day trader weighing trend, levels and risk. */
export const DEFAULT_RULES = `Your strategy: DEFAULT. A balanced day trader.
- Read the market data on every update and decide whether to trade or hold.
- Weigh the price trend and momentum on each timeframe, nearby support and resistance levels, and the risk of each position before you act.
- Manage risk: size positions so that one bad trade cannot sink the account.`;

/** The momentum strategy's rules: ride the strongest trend with concentrated capital. */
export const MOMENTUM_RULES = `Your strategy: MOMENTUM. The trend is your friend.
- Buy what shows strong upward price action, and sell when its momentum weakens or reverses. Never trade against the tape.
- Let winners run: keep a position that is still gaining; do not take early profits out of a strong move.
- Cut losers fast: when a trade moves against you, get out before the loss grows.
- Avoid sideways markets: when no product has a clear trend, hold your positions or stay in cash and wait for conviction.
- Concentrate capital: when one product is in a strong trend, put a large, confident position into the strongest trend instead of spreading your cash thinly across products.`;

/** The brainrot strategy's rules: always trading, all-in, averaging down, never selling at a loss. */
export const BRAINROT_RULES = `Your strategy: BRAINROT. YOLO, diamond hands, pure vibes.
- Trade on almost every update: cash sitting idle is cash not making gains, so deploy it aggressively.
- Go big or go home: small positions are pointless; put most of your cash into a single coin rather than diversifying.
- If a coin is pumping, ape in; if it is dumping, buy the dip. Either way you are buying.
- Never sell at a loss: a position below its average cost is held, and you average down by buying more of it. Sell only above your cost (buy high, sell higher).
- No due diligence needed: conviction and vibes are your edge.`;

/** The scalper strategy's rules: many small quick profits, small positions, diversified. */
export const SCALPER_RULES = `Your strategy: SCALPER. Many small, quick trades.
- Trade frequently: many small trades rather than a few big bets; your edge comes from volume.
- Take profits quickly: small, steady gains add up, so do not hold out for big wins.
- Keep every position small: never put much of your capital into one trade.
- Minimise hold time: the longer you hold, the more risk you carry; get in and get out.
- Diversify across products: spread your trades over several coins to catch more opportunities.
- Stay active: every update is a chance to find the next small edge; watch the 1-minute candles and the bid/ask closely.`;

function builtinPrompt(rules: string): string {
  return `${ARENA_BRIEFING}\n\n${rules}\n\n${REASONING_REQUEST}`;
}

/** The default trader's system prompt. */
export const DEFAULT_PROMPT: string = builtinPrompt(DEFAULT_RULES);
/** The momentum trader's system prompt. */
export const MOMENTUM_PROMPT: string = builtinPrompt(MOMENTUM_RULES);
/** The brainrot trader's system prompt. */
export const BRAINROT_PROMPT: string = builtinPrompt(BRAINROT_RULES);
/** The scalper's system prompt. */
export const SCALPER_PROMPT: string = builtinPrompt(SCALPER_RULES);

/**
 * The built-in strategies by id. `default` is played by the momentum rules policy offline: its
 * prompt weighs trend and momentum first, and momentum is the policy closest to that.
 */
export const STRATEGIES: Readonly<Record<StrategyId, Strategy>> = Object.freeze({
  default: { name: "default", prompt: DEFAULT_PROMPT, rules: "momentum" },
  momentum: { name: "momentum", prompt: MOMENTUM_PROMPT, rules: "momentum" },
  brainrot: { name: "brainrot", prompt: BRAINROT_PROMPT, rules: "brainrot" },
  scalper: { name: "scalper", prompt: SCALPER_PROMPT, rules: "scalper" },
});

/** Whether a text is a built-in strategy id. */
export function isStrategyId(value: string): value is StrategyId {
  return (STRATEGY_IDS as readonly string[]).includes(value);
}

/** Whether a text is a rules policy id. */
export function isRulesPolicyId(value: string): value is RulesPolicyId {
  return (RULES_POLICY_IDS as readonly string[]).includes(value);
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

/**
 * The rules policy of a chat request that names none (a router sends its strategy's `rules` as
 * `rulesPolicy`; prompts are never parsed for it): a policy id in the agent name, else momentum.
 */
export function rulesForAgentName(agent: string): RulesPolicyId {
  const named = RULES_POLICY_IDS.find((id) => agent.toLowerCase().includes(id));
  return named ?? "momentum";
}

import assert from "node:assert/strict";
import {
  ARENA_BRIEFING,
  BRAINROT_RULES,
  builtinStrategy,
  DEFAULT_RULES,
  defaultAgents,
  isRulesPolicyId,
  isStrategyId,
  MOMENTUM_RULES,
  REASONING_REQUEST,
  RULES_POLICY_IDS,
  rulesForAgentName,
  SCALPER_RULES,
  STRATEGIES,
  STRATEGY_IDS,
  type StrategyId,
} from "../../core/agents/strategies.ts";
import { loadStrategyFile, parseStrategyFile } from "../../core/agents/strategy_file.ts";

Deno.test("the default agents are the original's three with their strategies", () => {
  assert.deepEqual(
    defaultAgents().map((agent) => [agent.name, agent.strategy.rules]),
    [["momentum", "momentum"], ["brainrot-daytrader", "brainrot"], ["scalper", "scalper"]],
  );
});

Deno.test("the built-in strategies are the original's four", () => {
  assert.deepEqual([...STRATEGY_IDS], ["default", "momentum", "brainrot", "scalper"]);
  assert.deepEqual(Object.keys(STRATEGIES), [...STRATEGY_IDS]);
  for (const id of STRATEGY_IDS) assert.equal(builtinStrategy(id).name, id);
});

Deno.test("every built-in prompt ends asking for a short Reasoning: section", () => {
  for (const strategy of Object.values(STRATEGIES)) {
    assert.ok(strategy.prompt.endsWith(REASONING_REQUEST), strategy.name);
    assert.match(REASONING_REQUEST, /short section that starts with "Reasoning:"/);
    assert.ok(strategy.prompt.startsWith(ARENA_BRIEFING), strategy.name);
    assert.match(strategy.prompt, /\$100,000/);
  }
});

Deno.test("each prompt holds its strategy's rules text", () => {
  const rules: Record<StrategyId, string> = {
    default: DEFAULT_RULES,
    momentum: MOMENTUM_RULES,
    brainrot: BRAINROT_RULES,
    scalper: SCALPER_RULES,
  };
  for (const id of STRATEGY_IDS) {
    assert.ok(STRATEGIES[id].prompt.includes(rules[id]), id);
    assert.match(rules[id], new RegExp(`^Your strategy: ${id.toUpperCase()}\\.`));
  }
});

Deno.test("default trades on trend, support and resistance and risk", () => {
  assert.match(DEFAULT_RULES, /trade or hold/);
  assert.match(DEFAULT_RULES, /support and resistance/);
  assert.match(DEFAULT_RULES, /risk/i);
});

Deno.test("momentum concentrates capital in the strongest trend and is never capped at a fifth", () => {
  assert.match(MOMENTUM_RULES, /The trend is your friend/);
  assert.match(MOMENTUM_RULES, /Let winners run/);
  assert.match(MOMENTUM_RULES, /Cut losers fast/);
  assert.match(MOMENTUM_RULES, /Concentrate capital/);
  assert.match(MOMENTUM_RULES, /strongest trend instead of spreading/);
  assert.match(MOMENTUM_RULES, /stay in cash and wait for conviction/);
  assert.doesNotMatch(MOMENTUM_RULES, /fifth|all-in/);
});

Deno.test("brainrot almost always trades, averages down and never sells at a loss", () => {
  assert.match(BRAINROT_RULES, /YOLO/);
  assert.match(BRAINROT_RULES, /Trade on almost every update/);
  assert.match(BRAINROT_RULES, /buy the dip/);
  assert.match(BRAINROT_RULES, /Never sell at a loss/);
  assert.match(BRAINROT_RULES, /average down by buying more/);
  assert.doesNotMatch(BRAINROT_RULES, /take (the win|profits?)/i);
});

Deno.test("scalper takes many small quick profits and diversifies across products", () => {
  assert.match(SCALPER_RULES, /Trade frequently/);
  assert.match(SCALPER_RULES, /Take profits quickly/);
  assert.match(SCALPER_RULES, /Keep every position small/);
  assert.match(SCALPER_RULES, /Minimise hold time/);
  assert.match(SCALPER_RULES, /Diversify across products/);
  assert.doesNotMatch(SCALPER_RULES, /15 minutes/);
});

Deno.test("the prompts carry no protocol-specific instructions and do not insist on get_portfolio", () => {
  for (const strategy of Object.values(STRATEGIES)) {
    assert.doesNotMatch(strategy.prompt, /get_portfolio|execute_trade|calculator|JSON/);
    assert.doesNotMatch(strategy.prompt, /call it first|first on every update/i);
    assert.match(strategy.prompt, /shows your portfolio: cash, open positions/);
  }
});

Deno.test("the briefing states the original's candle windows: 15-minute bars from 3 h ago", () => {
  assert.match(
    ARENA_BRIEFING,
    /\(15-minute bars from 3 h to 90 min ago, 5-minute bars from 90 min to 20 min ago, 1-minute bars of the last 20 min\)/,
  );
  assert.doesNotMatch(ARENA_BRIEFING, /\b4 h/);
});

Deno.test("an unknown strategy id is refused with the valid ids", () => {
  assert.throws(
    () => builtinStrategy("hodl"),
    /Strategy must be one of default, momentum, brainrot, scalper, got hodl/,
  );
  assert.equal(builtinStrategy("scalper"), STRATEGIES.scalper);
});

Deno.test("without a rulesPolicy the rules policy comes from the agent name, never the prompt", () => {
  assert.equal(rulesForAgentName("my-scalper-2"), "scalper");
  assert.equal(rulesForAgentName("brainrot-daytrader"), "brainrot");
  assert.equal(rulesForAgentName("alice"), "momentum");
  assert.equal(STRATEGIES.brainrot.rules, "brainrot");
  assert.equal(STRATEGIES.scalper.rules, "scalper");
});

Deno.test("default is played by the momentum policy; policies are distinct from strategies", () => {
  assert.equal(STRATEGIES.default.rules, "momentum");
  assert.deepEqual([...RULES_POLICY_IDS], ["momentum", "brainrot", "scalper"]);
  assert.equal(isRulesPolicyId("default"), false);
  assert.equal(isStrategyId("default"), true);
});

Deno.test("a strategy file loads a custom strategy with its rules policy", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        name: "mean-reverter",
        prompt: "Buy what fell hardest in the last hour, sell what rose hardest.",
        rules: "scalper",
      }),
    );
    const strategy = await loadStrategyFile(path);
    assert.equal(strategy.name, "mean-reverter");
    assert.equal(strategy.rules, "scalper");
    assert.match(strategy.prompt, /^Buy what fell hardest/);
    assert.doesNotMatch(strategy.prompt, /rules policy/i, "the prompt carries no policy marker");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("an invalid strategy file is refused with what is wrong", () => {
  assert.throws(() => parseStrategyFile("{oops", "a.json"), /Strategy file a.json must be JSON/);
  assert.throws(
    () =>
      parseStrategyFile(JSON.stringify({ name: "x y", prompt: "short", rules: "hodl" }), "b.json"),
    (error: Error) => {
      assert.match(error.message, /Strategy file b.json is invalid/);
      assert.match(error.message, /name:/);
      assert.match(error.message, /prompt:/);
      assert.match(error.message, /rules:/);
      return true;
    },
  );
  assert.throws(
    () => parseStrategyFile(JSON.stringify({ name: "ok", prompt: "x".repeat(30), extra: 1 })),
    /extra|Unrecognized/,
  );
});

Deno.test("a missing strategy file is refused with its path", async () => {
  await assert.rejects(
    loadStrategyFile("no/such/strategy.json"),
    /no\/such\/strategy.json could not be read/,
  );
});

Deno.test("our earlier prompts ship as strategy files with their rules policies", async () => {
  const expected: [string, string, RegExp][] = [
    ["momentum-sized", "momentum", /roughly a fifth of your equity/],
    ["brainrot-takeprofit", "brainrot", /comfortably in profit, take the win/],
    ["scalper-timed", "scalper", /more than about 15 minutes/],
  ];
  for (const [name, rules, rule] of expected) {
    const path = new URL(`../../fixtures/strategies/${name}.json`, import.meta.url);
    const strategy = await loadStrategyFile(path.pathname);
    assert.equal(strategy.name, name);
    assert.equal(strategy.rules, rules);
    assert.match(strategy.prompt, rule);
    assert.match(strategy.prompt, /short section that starts with "Reasoning:"/);
  }
});

import assert from "node:assert/strict";
import {
  builtinStrategy,
  defaultAgents,
  rulesForAgent,
  STRATEGIES,
} from "../../core/agents/strategies.ts";
import { loadStrategyFile, parseStrategyFile } from "../../core/agents/strategy_file.ts";

Deno.test("the default agents are the original's three with their strategies", () => {
  assert.deepEqual(
    defaultAgents().map((agent) => [agent.name, agent.strategy.rules]),
    [["momentum", "momentum"], ["brainrot-daytrader", "brainrot"], ["scalper", "scalper"]],
  );
});

Deno.test("built-in prompts keep the original philosophies and name the tools", () => {
  assert.match(STRATEGIES.momentum.prompt, /trend is your friend/i);
  assert.match(STRATEGIES.momentum.prompt, /cut losers fast/i);
  assert.match(STRATEGIES.brainrot.prompt, /YOLO/);
  assert.match(STRATEGIES.brainrot.prompt, /NEVER sell at a loss/);
  assert.match(STRATEGIES.scalper.prompt, /Take profits quickly/);
  for (const strategy of Object.values(STRATEGIES)) {
    assert.match(strategy.prompt, /get_portfolio/);
    assert.match(strategy.prompt, /execute_trade/);
    assert.match(strategy.prompt, /\$100,000/);
  }
});

Deno.test("an unknown strategy id is refused with the valid ids", () => {
  assert.throws(
    () => builtinStrategy("hodl"),
    /Strategy must be one of momentum, brainrot, scalper, got hodl/,
  );
  assert.equal(builtinStrategy("scalper"), STRATEGIES.scalper);
});

Deno.test("the rules policy is read from the prompt, then the agent name", () => {
  assert.equal(rulesForAgent(STRATEGIES.brainrot.prompt, "x"), "brainrot");
  assert.equal(rulesForAgent(STRATEGIES.scalper.prompt, "momentum"), "scalper");
  assert.equal(rulesForAgent("Trade well.", "my-scalper-2"), "scalper");
  assert.equal(rulesForAgent("Trade well.", "alice"), "momentum");
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
    assert.equal(rulesForAgent(strategy.prompt, "mean-reverter"), "scalper");
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

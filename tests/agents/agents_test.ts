import assert from "node:assert/strict";
import { selectAgents, startAgents } from "../../core/agents/agents.ts";
import { tradingToolDefinitions } from "../../core/agents/tool_definitions.ts";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../../core/ledger/trade.ts";
import { createLogger } from "../../core/log.ts";
import { toolDefinition, type ToolSpec } from "../../core/runtime/tool_spec.ts";
import {
  Calculator,
  calculatorTool,
  executeTradeTool,
  getPortfolioTool,
  LedgerService,
} from "../../core/tools/mod.ts";

Deno.test("no flags select the three default agents", async () => {
  const agents = await selectAgents({});
  assert.deepEqual(agents.map((agent) => agent.name), [
    "momentum",
    "brainrot-daytrader",
    "scalper",
  ]);
});

Deno.test("--name alone selects a default agent and refuses an unknown one", async () => {
  const [agent] = await selectAgents({ name: "brainrot-daytrader" });
  assert.equal(agent!.strategy, STRATEGIES.brainrot);
  await assert.rejects(selectAgents({ name: "alice" }), /Agent alice needs --strategy/);
});

Deno.test("--strategy default runs the original's default trader on the momentum policy", async () => {
  const [agent] = await selectAgents({ strategy: "default" });
  assert.equal(agent!.name, "default");
  assert.equal(agent!.strategy, STRATEGIES.default);
  assert.equal(agent!.strategy.rules, "momentum");
  await assert.rejects(
    selectAgents({ name: "alice" }),
    /needs --strategy default\|momentum\|brainrot\|scalper or --strategy-file/,
  );
});

Deno.test("--strategy runs one agent named by --name or by the strategy", async () => {
  assert.deepEqual(
    (await selectAgents({ strategy: "scalper" })).map((agent) => agent.name),
    ["scalper"],
  );
  const [agent] = await selectAgents({ name: "fast-eddie", strategy: "scalper" });
  assert.equal(agent!.name, "fast-eddie");
  assert.equal(agent!.strategy.rules, "scalper");
  await assert.rejects(selectAgents({ strategy: "hodl" }), /Strategy must be one of/);
  await assert.rejects(
    selectAgents({ name: "bad name", strategy: "momentum" }),
    /Agent name must be/,
  );
});

Deno.test("--strategy-file runs a custom strategy; not together with --strategy", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({ name: "contrarian", prompt: "Fade every move you see in the data." }),
    );
    const [agent] = await selectAgents({ strategyFile: path });
    assert.equal(agent!.name, "contrarian");
    assert.match(agent!.strategy.prompt, /^Fade every move/);
    const [renamed] = await selectAgents({ strategyFile: path, name: "c2" });
    assert.equal(renamed!.name, "c2");
    await assert.rejects(selectAgents({ strategyFile: path, strategy: "momentum" }), /either/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("the desk's definitions: execute_trade, get_portfolio, calculator at its fee", () => {
  const tools = tradingToolDefinitions(DEFAULT_TRADE_CONFIG);
  assert.deepEqual(tools.map((tool) => tool.name), [
    "execute_trade",
    "get_portfolio",
    "calculator",
  ]);
  const trade = tools[0]!.parameters as { properties: Record<string, unknown>; required: string[] };
  assert.deepEqual([...trade.required].sort(), ["action", "product_id", "quantity"]);
  assert.equal("leverage" in trade.properties, false, "the default desk offers no leverage");
  assert.match(tools[0]!.description, /60 basis points/);
});

Deno.test("routers offer exactly toolDefinition of the specs the tools service serves", async () => {
  const configs: TradeConfig[] = [
    DEFAULT_TRADE_CONFIG,
    { ...DEFAULT_TRADE_CONFIG, takerFeeBps: 0 },
    { ...DEFAULT_TRADE_CONFIG, takerFeeBps: 25, slippageBps: 5, increments: { "DOGE-USD": "1" } },
  ];
  const bus = new MemoryBus();
  const calculator = new Calculator();
  try {
    for (const config of configs) {
      const ledger = await LedgerService.start(bus, {
        log: createLogger("test", { level: "error" }),
        config,
      });
      try {
        const served: ToolSpec[] = [
          executeTradeTool(ledger, { config }),
          getPortfolioTool(ledger),
          calculatorTool(calculator),
        ];
        assert.deepEqual(tradingToolDefinitions(config), served.map(toolDefinition));
      } finally {
        await ledger.close();
      }
    }
    assert.match(tradingToolDefinitions(configs[1]!)[0]!.description, /There is no trading fee/);
    // No product names: a masked run must not be told which real assets it trades.
    const described = JSON.stringify(tradingToolDefinitions(configs[2]!));
    assert.doesNotMatch(described, /BTC|ETH|LTC|SOL|DOGE|FARTCOIN/);
    assert.match(described, /multiple of the product's increment/);
  } finally {
    calculator.close();
    await bus.close();
  }
});

Deno.test("startAgents starts one router per agent and stops them", async () => {
  const bus = new MemoryBus();
  try {
    const routers = await startAgents(bus, await selectAgents({}), {
      log: createLogger("test", { level: "error" }),
      tools: tradingToolDefinitions(DEFAULT_TRADE_CONFIG),
    });
    assert.deepEqual(routers.map((router) => router.agent), [
      "momentum",
      "brainrot-daytrader",
      "scalper",
    ]);
    await Promise.all(routers.map((router) => router.stop()));
  } finally {
    await bus.close();
  }
});

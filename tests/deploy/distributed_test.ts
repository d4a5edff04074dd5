/**
 * The distributed arena as separate OS processes on the real Kafka broker, each started the way
 * the README's quickstarts start it (`deno task <service> ...`, broker from
 * KAFKA_BOOTSTRAP_SERVERS):
 * - the multi-model setup: tools, two named chat nodes (one on a scripted fake OpenAI-compatible
 *   server on 127.0.0.1, one on the offline `rules` model), three routers on them, and the
 *   connector replaying the bundled candles in lockstep;
 * - the four-deployment quickstart: one shared `rules` chat node, one router running the three
 *   default agents, tools and the dashboard, and the connector.
 * The ledger export (`deno task ledger --json`) then has to show each agent's trades in its own
 * account, and the dashboard's report has to agree with it.
 *
 * Every topic carries a unique prefix (`--topic-prefix`) so runs never see each other's data; the
 * services create all their topics themselves, as on a fresh broker. Each process runs in its own
 * process group (setsid) and every group is stopped in `finally`, also when an assertion fails.
 */

import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { defaultAgents } from "../../core/agents/strategies.ts";
import type { ReportJson } from "../../core/dashboard/report.ts";
import type { LedgerReport } from "../../core/metrics/ledger_report.ts";
import { type FakeReply, type RecordedRequest, startFakeOpenAI } from "../_fake_openai.ts";
import { kafkaBootstrap } from "../_kafka.ts";
import { startTask, type TaskProcess } from "../_task_process.ts";
import { runTask } from "../cli/_task.ts";

const TICKS = 3;
const API_KEY = "test-key-distributed-0123";
const MODEL_ID = "fake-gpt-distributed";
const QUANTITY = "0.01";

/**
 * The scripted LLM: per decision, get_portfolio first, then one buy of BTC-USD, then a final
 * answer. It reads only what a real model would see: the messages of the HTTP request.
 */
function respond(request: RecordedRequest): FakeReply {
  const messages = request.body.messages;
  const lastUser = messages.findLastIndex((message) => message.role === "user");
  const called = messages.slice(lastUser + 1).flatMap((message) =>
    ((message.tool_calls as { function: { name: string } }[] | undefined) ?? [])
      .map((call) => call.function.name)
  );
  const usage = { promptTokens: 900, completionTokens: 30 };
  if (!called.includes("get_portfolio")) {
    return { kind: "message", usage, toolCalls: [{ name: "get_portfolio", arguments: "{}" }] };
  }
  if (!called.includes("execute_trade")) {
    return {
      kind: "message",
      usage,
      toolCalls: [{
        name: "execute_trade",
        arguments: JSON.stringify({ product_id: "BTC-USD", quantity: QUANTITY, action: "buy" }),
      }],
    };
  }
  return { kind: "message", usage, content: "Bought a little BTC to test the pipes." };
}

/** The processes of one arena run, stopped together however the test ends. */
class Arena {
  readonly processes: TaskProcess[] = [];
  readonly run: string = crypto.randomUUID().slice(0, 8);
  readonly prefix: string = `dist.${this.run}.`;
  readonly bootstrap: string = kafkaBootstrap();

  /** `--topic-prefix` and a log level every service of this run gets. */
  get common(): string[] {
    return ["--topic-prefix", this.prefix, "--log-level", "info"];
  }

  start(name: string, task: string, args: string[]): TaskProcess {
    const process = startTask(name, [task, ...args, ...this.common], {
      env: { KAFKA_BOOTSTRAP_SERVERS: this.bootstrap },
    });
    this.processes.push(process);
    return process;
  }

  /** Replays TICKS snapshots of the bundled candles in lockstep with `agents` and waits for it. */
  async replay(agents: string[]): Promise<void> {
    const connector = this.start("connector (replay, lockstep)", "connector", [
      "--replay",
      "fixtures/market",
      "--lockstep",
      ...(agents.length > 0 ? ["--agents", agents.join(",")] : []),
      "--lockstep-timeout",
      "40",
      "--max-ticks",
      String(TICKS),
    ]);
    const replay = await connector.waitForExit(120_000);
    assert.equal(replay.code, 0, connector.tail());
    assert.ok(
      connector.lines.some((line) =>
        /"Replay done"/.test(line) && line.includes(`"ticks":${TICKS}`)
      ),
      connector.tail(),
    );
    assert.ok(
      !connector.lines.some((line) => /Lockstep timeout/.test(line)),
      `every agent decided every tick in time\n${connector.tail()}`,
    );
  }

  /** `deno task ledger --json` for this run's topics. */
  async ledger(): Promise<LedgerReport> {
    const exported = await runTask(["ledger", "--json", "--topic-prefix", this.prefix], {
      env: { KAFKA_BOOTSTRAP_SERVERS: this.bootstrap },
      timeoutMs: 60_000,
    });
    assert.equal(exported.code, 0, exported.stderr);
    return JSON.parse(exported.stdout) as LedgerReport;
  }

  /** Stops every process; checks their exit codes only when `check` (a first failure wins). */
  async stop(check: boolean): Promise<void> {
    const statuses = await Promise.all(this.processes.map((process) => process.stop()));
    for (const [index, status] of check ? statuses.entries() : []) {
      // Clean shutdown on SIGTERM (143 or 0); the connector had already exited with 0.
      assert.ok(
        status.code === 0 || status.code === 143 || status.signal === "SIGTERM",
        `${this.processes[index]!.name} exited with ${status.code}\n${
          this.processes[index]!.tail()
        }`,
      );
    }
  }
}

/** Every account balances, and holds exactly the positions and trade count of its trades. */
function assertBooks(report: LedgerReport, agents: string[]): void {
  const accounts = new Map(report.accounts.map((entry) => [entry.account.agent, entry]));
  assert.deepEqual([...accounts.keys()].sort(), [...agents].sort());
  for (const trade of report.trades) assert.ok(agents.includes(trade.agent), trade.agent);
  for (const [agent, entry] of accounts) {
    assert.deepEqual(entry.problems, [], `${agent}'s books balance`);
    const trades = report.trades.filter((trade) => trade.agent === agent);
    assert.equal(entry.account.tradeCount, trades.length, agent);
    if (trades.length > 0) {
      assert.ok(new Decimal(entry.account.cash).eq(trades[trades.length - 1]!.cashAfter), agent);
    }
  }
}

function strategyOf(request: RecordedRequest): string {
  const system = String(request.body.messages[0]?.content ?? "");
  return /Your strategy: (\w+)/.exec(system)?.[1]?.toUpperCase() ?? "UNKNOWN";
}

Deno.test(
  "distributed arena, multi-model (the seven-terminal setup): deno task tools, two named " +
    "chat_nodes (fake OpenAI server, rules), three routers on them and a lockstep replay " +
    "connector as separate processes on Kafka; ledger --json shows each agent's trades",
  async () => {
    const arena = new Arena();
    const run = arena.run;
    const llmAgents = [`dist-momentum-${run}`, `dist-scalper-${run}`];
    const rulesAgent = `dist-brainrot-${run}`;
    const llmNode = `fakegpt-${run}`;
    const rulesNode = `rules-${run}`;
    const fake = startFakeOpenAI({ responder: respond });
    let passed = false;
    try {
      const ready = [
        [arena.start("tools", "tools", ["--group-id", `${arena.prefix}tools`]), /"Tools ready"/],
        [
          arena.start("chat_node (fake OpenAI)", "chat_node", [
            "--name",
            llmNode,
            "--model",
            "openai",
            "--model-id",
            MODEL_ID,
            "--base-url",
            fake.baseURL,
            "--api-key",
            API_KEY,
          ]),
          /"Chat node ready"/,
        ],
        [
          arena.start("chat_node (rules)", "chat_node", ["--name", rulesNode, "--model", "rules"]),
          /"Chat node ready"/,
        ],
        ...([
          [llmAgents[0]!, llmNode, "momentum"],
          [rulesAgent, rulesNode, "brainrot"],
          [llmAgents[1]!, llmNode, "scalper"],
        ] as const).map(([agent, node, strategy]) =>
          [
            arena.start(`router ${agent}`, "router", [
              "--name",
              agent,
              "--chat-node-name",
              node,
              "--strategy",
              strategy,
            ]),
            /"Agents ready"/,
          ] as const
        ),
      ] as const;
      await Promise.all(ready.map(([process, line]) => process.waitForLine(line, 60_000)));
      await arena.replay([...llmAgents, rulesAgent]);
      const report = await arena.ledger();

      assertBooks(report, [...llmAgents, rulesAgent]);
      // The LLM agents' scripted buys: one per tick, in their own accounts.
      for (const agent of llmAgents) {
        const trades = report.trades.filter((trade) => trade.agent === agent);
        assert.equal(trades.length, TICKS, JSON.stringify(report.trades, null, 2));
        for (const trade of trades) {
          assert.equal(trade.productId, "BTC-USD");
          assert.equal(trade.side, "buy");
          assert.ok(new Decimal(trade.quantity).eq(QUANTITY), trade.quantity);
          assert.ok(Number(trade.fillPrice) > 1_000, `a BTC price from 2017: ${trade.fillPrice}`);
        }
        assert.equal(new Set(trades.map((trade) => trade.tick)).size, TICKS);
        const account = report.accounts.find((entry) => entry.account.agent === agent)!;
        const held = account.account.positions.find((position) => position.productId === "BTC-USD");
        assert.ok(new Decimal(held?.quantity ?? "0").eq(new Decimal(QUANTITY).mul(TICKS)));
      }
      // The deterministic rules policy trades on these candles too, in its own account.
      const rulesTrades = report.trades.filter((trade) => trade.agent === rulesAgent);
      assert.ok(rulesTrades.length > 0, "the rules agent traded");
      console.log(
        `  ${TICKS} lockstep ticks; trades: ${
          llmAgents.map((agent) =>
            `${agent} ${report.trades.filter((trade) => trade.agent === agent).length}`
          ).join(", ")
        } (fake OpenAI), ${rulesAgent} ${rulesTrades.length} (rules); model requests: ${fake.requests.length}`,
      );

      // The fake server saw only the LLM agents' chat node: the key, the model id, the tools.
      assert.ok(fake.requests.length >= TICKS * 3 * llmAgents.length, `${fake.requests.length}`);
      for (const request of fake.requests) {
        assert.equal(request.authorization, `Bearer ${API_KEY}`);
        assert.equal(request.body.model, MODEL_ID);
        const tools = (request.body.tools ?? []).map((tool) => tool.function.name).sort();
        assert.deepEqual(tools, ["calculator", "execute_trade", "get_portfolio"]);
      }
      assert.deepEqual(
        [...new Set(fake.requests.map(strategyOf))].sort(),
        ["MOMENTUM", "SCALPER"],
        "the brainrot agent (rules chat node) never reaches the LLM server",
      );
      // Secrets stay out of every log line of every service. (`deno task` itself echoes its
      // command line, `--api-key` included, before the service starts: prefer OPENAI_API_KEY.)
      for (const process of arena.processes) {
        const logs = process.lines.filter((line) => !line.startsWith("Task "));
        assert.ok(!logs.some((line) => line.includes(API_KEY)), `${process.name} logs`);
      }
      passed = true;
    } finally {
      await arena.stop(passed).finally(() => fake.close());
    }
  },
);

Deno.test(
  "distributed arena, quickstart (four deployments): deno task chat_node --model rules, " +
    "router (the three default agents), tools + dashboard, connector replay in lockstep, as " +
    "separate processes on Kafka; the dashboard's report matches the ledger",
  async () => {
    const arena = new Arena();
    const agents = defaultAgents().map((agent) => agent.name);
    let passed = false;
    try {
      const chat = arena.start("chat_node", "chat_node", ["--model", "rules"]);
      const router = arena.start("router", "router", []);
      const tools = arena.start("tools", "tools", ["--group-id", `${arena.prefix}tools`]);
      const dashboard = arena.start("dashboard", "dashboard", [
        "--no-tty",
        "--port",
        "0",
        "--interval",
        "1",
      ]);
      await Promise.all([
        chat.waitForLine(/"Chat node ready"/, 60_000),
        router.waitForLine(/"Agents ready"/, 60_000),
        tools.waitForLine(/"Tools ready"/, 60_000),
        dashboard.waitForLine(/^Web dashboard: http/, 60_000),
      ]);
      // The connector's default --agents are the three default agents.
      await arena.replay([]);
      const report = await arena.ledger();
      assertBooks(report, agents);
      assert.ok(report.trades.length > 0, "the rules agents traded");

      const url = dashboard.lines.find((line) => line.startsWith("Web dashboard: "))!
        .slice("Web dashboard: ".length).trim();
      let json: ReportJson | undefined;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const response = await fetch(new URL("/report.json", url));
        json = await response.json() as ReportJson;
        if (json.trades.length === report.trades.length && json.tick === TICKS) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(json, "the dashboard answered");
      assert.equal(json.trades.length, report.trades.length, "dashboard and ledger agree");
      assert.deepEqual(json.leaderboard.map((row) => row.agent).sort(), [...agents].sort());
      for (const row of json.leaderboard) assert.equal(row.model, "rules");
      assert.deepEqual(
        json.trades.map((trade) => trade.eventId).sort(),
        report.trades.map((trade) => trade.eventId).sort(),
      );
      passed = true;
    } finally {
      await arena.stop(passed);
    }
  },
);

/**
 * The distributed arena as separate OS processes on the real Kafka broker, each started the way
 * the README's quickstarts start it (`deno task <service> ...`, broker from
 * KAFKA_BOOTSTRAP_SERVERS): the tools service, two named chat nodes (one on a scripted fake
 * OpenAI-compatible server on 127.0.0.1, one on the offline `rules` model), one router per agent
 * on its own chat node, and the connector replaying the bundled candles in lockstep. The ledger
 * export (`deno task ledger --json`) then has to show each agent's trades in its own account.
 *
 * Every topic carries a unique prefix (`--topic-prefix`) and every agent and chat node a unique
 * name, so runs never see each other's data; the services create all their topics themselves, as
 * on a fresh broker. Each process runs in its own process group (setsid)
 * and the whole group is stopped in `finally`, also when an assertion fails.
 */

import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import type { LedgerReport } from "../../core/metrics/ledger_report.ts";
import { type FakeReply, type RecordedRequest, startFakeOpenAI } from "../_fake_openai.ts";
import { kafkaBootstrap } from "../_kafka.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TICKS = 3;
const API_KEY = "test-key-distributed-0123";
const MODEL_ID = "fake-gpt-distributed";
const QUANTITY = "0.01";

/** A `deno task` running in its own process group, with its output collected line by line. */
interface TaskProcess {
  name: string;
  child: Deno.ChildProcess;
  lines: string[];
  drained: Promise<void>;
  /** Exit status once the process has exited. */
  exited: Deno.CommandStatus | null;
}

function collect(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
  return (async () => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (rest) lines.push(rest);
  })();
}

/** Starts `deno task <task> <args>` in a new session, so its whole process tree can be signalled. */
function startTask(name: string, task: string, args: string[], bootstrap: string): TaskProcess {
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "task", task, ...args],
    cwd: ROOT,
    env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const drained = Promise.all([collect(child.stdout, lines), collect(child.stderr, lines)])
    .then(() => {});
  const process: TaskProcess = { name, child, lines, drained, exited: null };
  child.status.then((status) => (process.exited = status));
  return process;
}

function signalGroup(process: TaskProcess, signal: Deno.Signal): void {
  try {
    Deno.kill(-process.child.pid, signal);
  } catch {
    // The group has already exited.
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
async function stopTask(process: TaskProcess, graceMs = 10_000): Promise<Deno.CommandStatus> {
  signalGroup(process, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup(process, "SIGKILL");
      resolve();
    }, graceMs);
  });
  const status = await Promise.race([
    process.child.status,
    killed.then(() => process.child.status),
  ]);
  clearTimeout(timer);
  // Whatever is left of the group (the service under `deno task`) goes too.
  signalGroup(process, "SIGKILL");
  await process.drained;
  return status;
}

function tail(process: TaskProcess, count = 40): string {
  return `--- ${process.name} (last ${count} lines) ---\n${process.lines.slice(-count).join("\n")}`;
}

async function waitForLine(
  process: TaskProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!process.lines.some((line) => pattern.test(line))) {
    if (process.exited) {
      throw new Error(`${process.name} exited with ${process.exited.code}\n${tail(process)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${process.name}: no line matching ${pattern} in ${timeoutMs} ms\n${tail(process)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForExit(process: TaskProcess, timeoutMs: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((
    resolve,
  ) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  const status = await Promise.race([process.child.status, timeout]);
  clearTimeout(timer);
  if (status === null) {
    throw new Error(`${process.name} did not finish in ${timeoutMs} ms\n${tail(process)}`);
  }
  return status;
}

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

Deno.test(
  "distributed arena: deno task tools, chat_node x2 (fake OpenAI + rules), router x2 and a " +
    "lockstep replay connector as separate processes on Kafka; ledger --json shows each " +
    "agent's trades",
  async () => {
    const bootstrap = kafkaBootstrap();
    const run = crypto.randomUUID().slice(0, 8);
    const prefix = `dist.${run}.`;
    const llmAgent = `dist-llm-${run}`;
    const rulesAgent = `dist-rules-${run}`;
    const llmNode = `fakegpt-${run}`;
    const rulesNode = `rules-${run}`;
    const common = ["--topic-prefix", prefix, "--log-level", "info"];
    const fake = startFakeOpenAI({ responder: respond });
    const processes: TaskProcess[] = [];
    let passed = false;
    const start = (name: string, task: string, args: string[]) => {
      const process = startTask(name, task, args, bootstrap);
      processes.push(process);
      return process;
    };
    try {
      const tools = start("tools", "tools", [...common, "--group-id", `${prefix}tools`]);
      const llmChat = start("chat_node (fake OpenAI)", "chat_node", [
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
        ...common,
      ]);
      const rulesChat = start("chat_node (rules)", "chat_node", [
        "--name",
        rulesNode,
        "--model",
        "rules",
        ...common,
      ]);
      const llmRouter = start("router (LLM agent)", "router", [
        "--name",
        llmAgent,
        "--chat-node-name",
        llmNode,
        "--strategy",
        "momentum",
        ...common,
      ]);
      const rulesRouter = start("router (rules agent)", "router", [
        "--name",
        rulesAgent,
        "--chat-node-name",
        rulesNode,
        "--strategy",
        "brainrot",
        ...common,
      ]);
      await Promise.all([
        waitForLine(tools, /"Tools ready"/, 60_000),
        waitForLine(llmChat, /"Chat node ready"/, 60_000),
        waitForLine(rulesChat, /"Chat node ready"/, 60_000),
        waitForLine(llmRouter, /"Agents ready"/, 60_000),
        waitForLine(rulesRouter, /"Agents ready"/, 60_000),
      ]);

      const connector = start("connector (replay, lockstep)", "connector", [
        "--replay",
        "fixtures/market",
        "--lockstep",
        "--agents",
        `${llmAgent},${rulesAgent}`,
        "--lockstep-timeout",
        "40",
        "--max-ticks",
        String(TICKS),
        ...common,
      ]);
      const replay = await waitForExit(connector, 120_000);
      assert.equal(replay.code, 0, tail(connector));
      assert.ok(
        connector.lines.some((line) =>
          /"Replay done"/.test(line) && line.includes(`"ticks":${TICKS}`)
        ),
        tail(connector),
      );
      assert.ok(
        !connector.lines.some((line) => /Lockstep timeout/.test(line)),
        `every agent decided every tick in time\n${tail(connector)}`,
      );

      const exported = await new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", "ledger", "--json", "--topic-prefix", prefix],
        cwd: ROOT,
        env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(exported.stderr);
      assert.equal(exported.code, 0, stderr);
      const report = JSON.parse(new TextDecoder().decode(exported.stdout)) as LedgerReport;

      // The LLM agent's scripted buys: one per tick, in its own account, at the replayed ask.
      const llmTrades = report.trades.filter((trade) => trade.agent === llmAgent);
      assert.equal(llmTrades.length, TICKS, JSON.stringify(report.trades, null, 2));
      for (const trade of llmTrades) {
        assert.equal(trade.productId, "BTC-USD");
        assert.equal(trade.side, "buy");
        assert.ok(new Decimal(trade.quantity).eq(QUANTITY), trade.quantity);
        assert.ok(Number(trade.fillPrice) > 1_000, `a BTC price from 2017: ${trade.fillPrice}`);
      }
      assert.deepEqual([...new Set(llmTrades.map((trade) => trade.tick))].length, TICKS);
      // Only the two agents of this run trade on these topics.
      for (const trade of report.trades) assert.ok([llmAgent, rulesAgent].includes(trade.agent));

      const accounts = new Map(report.accounts.map((entry) => [entry.account.agent, entry]));
      assert.deepEqual([...accounts.keys()].sort(), [llmAgent, rulesAgent].sort());
      for (const [agent, entry] of accounts) {
        assert.deepEqual(entry.problems, [], `${agent}'s books balance`);
      }
      const llmAccount = accounts.get(llmAgent)!;
      const held = llmAccount.account.positions.find((position) =>
        position.productId === "BTC-USD"
      );
      assert.ok(new Decimal(held?.quantity ?? "0").eq(new Decimal(QUANTITY).mul(TICKS)));
      const lastTrade = llmTrades[llmTrades.length - 1]!;
      assert.ok(new Decimal(llmAccount.account.cash).eq(lastTrade.cashAfter));
      const rulesTrades = report.trades.filter((trade) => trade.agent === rulesAgent);
      console.log(
        `  ${TICKS} lockstep ticks; trades: ${llmAgent} ${llmTrades.length} (fake OpenAI), ` +
          `${rulesAgent} ${rulesTrades.length} (rules); model requests: ${fake.requests.length}`,
      );
      // The deterministic rules policy trades on these candles too, in its own account.
      assert.ok(rulesTrades.length > 0, "the rules agent traded");
      assert.equal(accounts.get(rulesAgent)!.account.tradeCount, rulesTrades.length);
      assert.equal(llmAccount.account.tradeCount, TICKS);

      // The fake server saw only the LLM agent's chat node: the key, the model id, the tools.
      assert.ok(fake.requests.length >= TICKS * 3, `requests: ${fake.requests.length}`);
      for (const request of fake.requests) {
        assert.equal(request.authorization, `Bearer ${API_KEY}`);
        assert.equal(request.body.model, MODEL_ID);
        const tools = (request.body.tools ?? []).map((tool) => tool.function.name).sort();
        assert.deepEqual(tools, ["calculator", "execute_trade", "get_portfolio"]);
        const system = String(request.body.messages[0]?.content ?? "");
        assert.match(system, /MOMENTUM/i, "the rules agent never reaches the LLM server");
      }
      // Secrets stay out of every log line of every service. (`deno task` itself echoes its
      // command line, `--api-key` included, before the service starts: prefer OPENAI_API_KEY.)
      for (const process of processes) {
        const logs = process.lines.filter((line) => !line.startsWith("Task "));
        assert.ok(!logs.some((line) => line.includes(API_KEY)), `${process.name} logs`);
      }
      passed = true;
    } finally {
      const statuses = await Promise.all(processes.map((process) => stopTask(process)));
      await fake.close();
      // Exit codes are checked only when the test got this far: a first failure is not masked.
      for (const [index, status] of passed ? statuses.entries() : []) {
        // Clean shutdown on SIGTERM (143 or 0); the connector had already exited with 0.
        assert.ok(
          status.code === 0 || status.code === 143 || status.signal === "SIGTERM",
          `${processes[index]!.name} exited with ${status.code}\n${tail(processes[index]!)}`,
        );
      }
    }
  },
);

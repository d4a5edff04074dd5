/**
 * The proof of exactly-once trading: a real `services/tools.ts` process is killed with SIGKILL
 * in the middle of a stream of trade requests on the Kafka broker, restarted, and every request
 * must be answered, every executed trade be on the ledger exactly once.
 */

import assert from "node:assert/strict";
import { encodeMessage, readAllMessages } from "../../core/bus/messages.ts";
import { arenaTopics } from "../../core/bus/topics.ts";
import { LedgerEvent, type TradeExecuted } from "../../core/contracts/ledger.ts";
import { ToolCallResult } from "../../core/contracts/tools.ts";
import { rebuildState } from "../../core/ledger/account.ts";
import { reconcile } from "../../core/ledger/portfolio.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";
import { priceTick, publishToolRequests, quietLog, type ToolRequest } from "./_support.ts";
import {
  killToolsProcess,
  logCount,
  startToolsProcess,
  type ToolsProcess,
} from "./_tools_process.ts";
import { eventually } from "../_wait.ts";

const LEDGER_EXPORT = new URL("../../services/ledger.ts", import.meta.url).pathname;
const AGENTS = ["kill-a", "kill-b", "kill-c", "kill-d", "kill-e", "kill-f"];

/** Kills a replica mid-stream; `restart` starts it again, else a second replica takes over. */
async function killScenario(mode: "restart" | "takeover"): Promise<void> {
  {
    const bootstrap = kafkaBootstrap();
    const prefix = `${uniqueName("h3kill")}.`;
    const group = uniqueName("tools");
    const bus = testKafkaBus();
    const topics = arenaTopics(prefix);
    const replyTopic = `${prefix}replies`;
    const requestTopic = topics.toolRequest("execute_trade").topic;
    const replies = new Map<string, ToolCallResult[]>();
    const replicas: ToolsProcess[] = [];
    try {
      await bus.ensureTopics([
        topics.ledger,
        { topic: requestTopic, partitions: 6, retentionMs: 3_600_000 },
        { topic: replyTopic, partitions: 3, retentionMs: 3_600_000 },
      ]);
      await bus.publish(topics.prices.topic, [
        {
          key: "BTC-USD",
          value: encodeMessage(priceTick("BTC-USD", { bid: "4650", ask: "4652.69" })),
        },
        {
          key: "SOL-USD",
          value: encodeMessage(priceTick("SOL-USD", { bid: "3.33", ask: "3.37" })),
        },
      ]);
      const inbox = await bus.subscribe({
        groupId: uniqueName("inbox"),
        topics: [replyTopic],
        fromBeginning: true,
        concurrency: 3,
        handler: (record) => {
          const reply = ToolCallResult.parse(JSON.parse(record.value));
          replies.set(reply.correlationId, [...(replies.get(reply.correlationId) ?? []), reply]);
          return Promise.resolve();
        },
      });
      const requests: ToolRequest[] = [];
      const total = 90;
      for (let i = 0; i < total; i++) {
        const step = Math.floor(i / AGENTS.length);
        const product = step % 2 === 0 ? "BTC-USD" : "SOL-USD";
        requests.push({
          agent: AGENTS[i % AGENTS.length]!,
          tool: "execute_trade",
          toolCallId: `call-${i}`,
          arguments: step % 3 === 2
            ? { product_id: product, quantity: "0.01", action: "sell" }
            : { product_id: product, quantity: "0.02", action: "buy" },
          replyTo: replyTopic,
        });
      }
      const victim = startToolsProcess({ bootstrap, prefix, group });
      replicas.push(victim);
      if (mode === "takeover") {
        replicas.push(startToolsProcess({ bootstrap, prefix, group }));
        await eventually( // two cold starts side by side: slow on a loaded machine
          "both replicas to be ready",
          () => replicas.every((replica) => logCount(replica.log(), "Tools ready") === 1),
          90_000,
        );
      }
      await publishToolRequests(bus, requests.slice(0, 60), { prefix });
      await eventually(
        "the first replies, some from the replica to be killed",
        () => replies.size >= 15 && logCount(victim.log(), "Trade executed") >= 3,
        30_000,
      );
      const killed = await killToolsProcess(victim);
      replicas.splice(replicas.indexOf(victim), 1);
      assert.equal(killed.signal, "SIGKILL");
      const answeredBeforeKill = replies.size;
      const executedByVictim = logCount(victim.log(), "Trade executed");
      assert.ok(answeredBeforeKill < 60, "the kill must land mid-stream");
      if (mode === "restart") replicas.push(startToolsProcess({ bootstrap, prefix, group }));
      await publishToolRequests(bus, requests.slice(60), { prefix });
      await eventually(`all ${total} replies`, () => replies.size >= total, 40_000);
      await inbox.close();

      for (const [correlationId, answers] of replies) {
        for (const answer of answers) {
          assert.deepEqual(answer, answers[0], `repeated answers to ${correlationId} must match`);
        }
      }
      const events: LedgerEvent[] = [];
      await readAllMessages(bus, topics.ledger.topic, {
        schema: LedgerEvent,
        log: quietLog(),
        handler: (event) => void events.push(event),
      });
      const trades = events.filter((event): event is TradeExecuted =>
        event.type === "trade_executed"
      );
      const ids = trades.map((trade) => trade.toolCallId);
      assert.equal(new Set(ids).size, ids.length, "no tool call id twice on the ledger");
      const executed = [...replies.values()].filter((answers) => answers[0]!.ok);
      assert.equal(trades.length, executed.length, "every executed reply is one ledger trade");
      for (const answers of executed) {
        assert.ok(ids.includes(answers[0]!.toolCallId));
      }
      assert.ok(executed.length >= 80, `most requests should execute, got ${executed.length}`);
      const repeated = [...replies.values()].filter((answers) => answers.length > 1).length;
      console.log(
        `kill test (${mode}): ${answeredBeforeKill} answered before the kill (${executedByVictim} ` +
          `trades by the killed replica), ${executed.length} executed, ` +
          `${repeated} answered twice after redelivery`,
      );
      const state = rebuildState(events);
      assert.equal(state.duplicates, 0);
      for (const agent of AGENTS) {
        assert.deepEqual(reconcile(state.accounts.get(agent)!).problems, []);
      }

      // The export rebuilds the same books from the broker.
      const exported = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-net=localhost,127.0.0.1",
          "--allow-env",
          LEDGER_EXPORT,
          "--json",
          "--bootstrap-servers",
          bootstrap,
          "--topic-prefix",
          prefix,
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.equal(exported.code, 0);
      const report = JSON.parse(new TextDecoder().decode(exported.stdout)) as {
        trades: unknown[];
        accounts: { account: { agent: string; tradeCount: number }; problems: string[] }[];
      };
      assert.equal(report.trades.length, trades.length);
      assert.deepEqual(report.accounts.map(({ account }) => account.agent).sort(), AGENTS);
      for (const { account, problems } of report.accounts) {
        assert.deepEqual(problems, []);
        assert.equal(account.tradeCount, state.accounts.get(account.agent)!.tradeCount);
      }
    } finally {
      for (const replica of replicas) await killToolsProcess(replica);
      await bus.close();
    }
  }
}

Deno.test({
  name:
    "kill -9 of the tools service mid-stream and a restart lose no trade and duplicate none; the export agrees",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => killScenario("restart"),
});

Deno.test({
  name: "a second replica in the group takes over a killed one's agents without losing or doubling",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => killScenario("takeover"),
});

Deno.test({
  name:
    "a refusal survives kill -9: after a restart the redelivered request is refused the same way, though the price moved",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bootstrap = kafkaBootstrap();
    const prefix = `${uniqueName("h6refuse")}.`;
    const group = uniqueName("tools");
    const bus = testKafkaBus();
    const topics = arenaTopics(prefix);
    const replyTopic = `${prefix}replies`;
    const requestTopic = topics.toolRequest("execute_trade").topic;
    const replies: ToolCallResult[] = [];
    const replicas: ToolsProcess[] = [];
    const agent = "refused-a";
    const publishBigBuy = (toolCallId: string) =>
      publishToolRequests(bus, [{
        agent,
        tool: "execute_trade",
        toolCallId,
        arguments: { product_id: "BTC-USD", quantity: "30", action: "buy" },
        replyTo: replyTopic,
      }], { prefix });
    try {
      await bus.ensureTopics([
        topics.ledger,
        { topic: requestTopic, partitions: 6, retentionMs: 3_600_000 },
        { topic: replyTopic, partitions: 3, retentionMs: 3_600_000 },
      ]);
      await bus.publish(topics.prices.topic, [{
        key: "BTC-USD",
        value: encodeMessage(priceTick("BTC-USD", { bid: "4650", ask: "4652.69" })),
      }]);
      const inbox = await bus.subscribe({
        groupId: uniqueName("inbox"),
        topics: [replyTopic],
        fromBeginning: true,
        handler: (record) => {
          replies.push(ToolCallResult.parse(JSON.parse(record.value)));
          return Promise.resolve();
        },
      });
      const first = startToolsProcess({ bootstrap, prefix, group });
      replicas.push(first);
      await publishBigBuy("big");
      await eventually("the refusal", () => replies.length >= 1, 30_000);
      assert.equal(replies[0]!.ok, false);
      assert.match(replies[0]!.content, /Insufficient cash/);
      await killToolsProcess(first);
      replicas.splice(replicas.indexOf(first), 1);

      // While tools is down the price falls: 30 BTC at 100 is now affordable.
      await bus.publish(topics.prices.topic, [{
        key: "BTC-USD",
        value: encodeMessage(priceTick("BTC-USD", { bid: "99", ask: "100" })),
      }]);
      replicas.push(startToolsProcess({ bootstrap, prefix, group }));
      await publishBigBuy("big");
      await eventually("the redelivered request's answer", () => replies.length >= 2, 40_000);
      assert.deepEqual(replies[1], replies[0], "the same refusal after the restart");
      // A new id fills now. "Still catching up" is the documented transient answer while a
      // rebalance after the kill settles (seen on a loaded CI machine): ask again under a new id.
      // Replies are matched by tool call id: the original "big" may be redelivered once more
      // (its offset commit can be lost with the kill) and answered again, identically.
      const answerTo = (toolCallId: string) =>
        replies.find((reply) => reply.toolCallId === toolCallId);
      let answer: ToolCallResult | undefined;
      for (let attempt = 1; attempt <= 3; attempt++) {
        const toolCallId = `big-new-${attempt}`;
        await publishBigBuy(toolCallId);
        await eventually(
          "a new request's answer",
          () => answerTo(toolCallId) !== undefined,
          30_000,
        );
        answer = answerTo(toolCallId)!;
        if (!/still catching up/.test(answer.content)) break;
      }
      assert.equal(answer!.ok, true, `the same order under a new id fills now: ${answer!.content}`);
      assert.ok(
        replies.filter((reply) => reply.toolCallId === "big").every((reply) =>
          reply.content === replies[0]!.content
        ),
        "every answer to the refused id is the same refusal",
      );
      await inbox.close();

      const events: LedgerEvent[] = [];
      await readAllMessages(bus, topics.ledger.topic, {
        schema: LedgerEvent,
        log: quietLog(),
        handler: (event) => void events.push(event),
      });
      const forBig = events.filter((event) =>
        event.type !== "account_opened" && event.toolCallId === "big"
      );
      assert.deepEqual(forBig.map((event) => event.type), ["trade_refused"]);
      assert.equal(events.filter((event) => event.type === "trade_executed").length, 1);
    } finally {
      for (const replica of replicas) await killToolsProcess(replica);
      await bus.close();
    }
  },
});

/**
 * The proof of exactly-once trading: a real `services/tools.ts` process is killed with SIGKILL
 * in the middle of a stream of trade requests on the Kafka broker, restarted, and every request
 * must be answered, every executed trade be on the ledger exactly once.
 */

import assert from "node:assert/strict";
import { encodeMessage, readAllMessages } from "../../core/bus/messages.ts";
import { LEDGER_TOPIC, PRICE_TOPIC, toolRequestTopic } from "../../core/bus/topics.ts";
import { LedgerEvent, type TradeExecuted } from "../../core/contracts/ledger.ts";
import { ToolCallResult } from "../../core/contracts/tools.ts";
import { rebuildState } from "../../core/ledger/account.ts";
import { reconcile } from "../../core/ledger/portfolio.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";
import { priceTick, quietLog } from "./_support.ts";

const SERVICE = new URL("../../services/tools.ts", import.meta.url).pathname;
const AGENTS = ["kill-a", "kill-b", "kill-c"];

function startService(options: { bootstrap: string; prefix: string; group: string }) {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=localhost,127.0.0.1",
      "--allow-env",
      "--allow-read",
      SERVICE,
      "--bootstrap-servers",
      options.bootstrap,
      "--topic-prefix",
      options.prefix,
      "--group-id",
      options.group,
      "--session-timeout-ms",
      "6000",
      "--log-level",
      "warn",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  return command.spawn();
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

Deno.test({
  name: "kill -9 of the tools service mid-stream loses no trade and duplicates none",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bootstrap = kafkaBootstrap();
    const prefix = `${uniqueName("h3kill")}.`;
    const group = uniqueName("tools");
    const bus = testKafkaBus();
    const replyTopic = `${prefix}replies`;
    const requestTopic = prefix + toolRequestTopic("execute_trade");
    const replies = new Map<string, ToolCallResult[]>();
    let child: Deno.ChildProcess | undefined;
    try {
      await bus.ensureTopics([
        { topic: prefix + LEDGER_TOPIC, partitions: 6, retentionMs: -1 },
        { topic: requestTopic, partitions: 6, retentionMs: 3_600_000 },
        { topic: replyTopic, partitions: 3, retentionMs: 3_600_000 },
      ]);
      await bus.publish(prefix + PRICE_TOPIC, [
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
      const requests: { key: string; value: string }[] = [];
      const total = 90;
      for (let i = 0; i < total; i++) {
        const agent = AGENTS[i % AGENTS.length]!;
        const step = Math.floor(i / AGENTS.length);
        const product = step % 2 === 0 ? "BTC-USD" : "SOL-USD";
        const args = step % 3 === 2
          ? { product_id: product, quantity: "0.01", action: "sell" }
          : { product_id: product, quantity: "0.02", action: "buy" };
        requests.push({
          key: agent,
          value: encodeMessage({
            v: 1,
            correlationId: `corr-${i}`,
            replyTo: replyTopic,
            tool: "execute_trade",
            arguments: JSON.stringify(args),
            context: { agent, toolCallId: `call-${i}`, correlationId: `corr-${i}` },
          }),
        });
      }
      child = startService({ bootstrap, prefix, group });
      await bus.publish(requestTopic, requests.slice(0, 60));
      await until(() => replies.size >= 15, 30_000, "the first replies");
      child.kill("SIGKILL");
      const killed = await child.status;
      assert.equal(killed.signal, "SIGKILL");
      const answeredBeforeKill = replies.size;
      assert.ok(answeredBeforeKill < 60, "the kill must land mid-stream");
      child = startService({ bootstrap, prefix, group });
      await bus.publish(requestTopic, requests.slice(60));
      await until(() => replies.size >= total, 40_000, `all ${total} replies`);
      child.kill("SIGKILL");
      await child.status;
      child = undefined;
      await inbox.close();

      for (const [correlationId, answers] of replies) {
        for (const answer of answers) {
          assert.deepEqual(answer, answers[0], `repeated answers to ${correlationId} must match`);
        }
      }
      const events: LedgerEvent[] = [];
      await readAllMessages(bus, prefix + LEDGER_TOPIC, {
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
        `kill test: ${answeredBeforeKill} answered before the kill, ${executed.length} executed, ` +
          `${repeated} answered twice after redelivery`,
      );
      const state = rebuildState(events);
      assert.equal(state.duplicates, 0);
      for (const agent of AGENTS) {
        assert.deepEqual(reconcile(state.accounts.get(agent)!).problems, []);
      }
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await bus.close();
    }
  },
});

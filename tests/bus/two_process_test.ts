/** Two OS processes talking through the real broker: request/reply and crash redelivery. */

import assert from "node:assert/strict";
import { ReplyInbox } from "../../core/bus/request_reply.ts";
import type { Bus } from "../../core/bus/bus.ts";
import { createLogger } from "../../core/log.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";
import { startDeno, type TaskProcess } from "../_task_process.ts";

const log = createLogger("test.two_process", { level: "error" });
const ECHO = new URL("./_echo_process.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Starts the echo responder as its own OS process, in its own process group. */
function startResponder(requestTopic: string, groupId: string, hang = false): TaskProcess {
  return startDeno(
    "echo responder",
    [
      "run",
      `--config=${CONFIG}`,
      "--allow-net=127.0.0.1,localhost",
      "--allow-env",
      "--allow-read",
      ECHO,
      requestTopic,
      groupId,
      ...(hang ? ["--hang"] : []),
    ],
    { env: { KAFKA_BOOTSTRAP_SERVERS: kafkaBootstrap() } },
  );
}

async function request(
  bus: Bus,
  inbox: ReplyInbox,
  options: { topic: string; replyTopic: string; text: string; timeoutMs: number },
): Promise<{ echo: string; pid: number }> {
  const correlationId = crypto.randomUUID();
  const reply = inbox.expect(correlationId, options.timeoutMs);
  await bus.publish(options.topic, [{
    key: correlationId,
    value: JSON.stringify({ correlationId, replyTo: options.replyTopic, text: options.text }),
  }]);
  return await reply as { echo: string; pid: number };
}

Deno.test({
  name: "two processes: request/reply through the broker to a separate responder process",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const topic = uniqueName("proc.request");
    const replyTopic = uniqueName("proc.reply");
    const bus = testKafkaBus();
    await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 60_000 }]);
    const responder = startResponder(topic, uniqueName("proc-echo"));
    let inbox: ReplyInbox | undefined;
    try {
      await responder.waitForLine(/^ready$/, 30_000);
      inbox = await ReplyInbox.open(bus, { replyTopic, groupId: uniqueName("proc-inbox"), log });
      const texts = ["alpha", "beta", "gamma", "delta", "epsilon"];
      const replies = await Promise.all(
        texts.map((text) => request(bus, inbox!, { topic, replyTopic, text, timeoutMs: 20_000 })),
      );
      assert.deepEqual(replies.map((reply) => reply.echo), texts);
      for (const reply of replies) {
        assert.equal(reply.pid, responder.pid, "the reply comes from the other process");
        assert.notEqual(reply.pid, Deno.pid);
      }
    } finally {
      await inbox?.close();
      const status = await responder.stop();
      await bus.close();
      assert.equal(status.code, 0, "the responder stops cleanly on SIGTERM");
      assert.ok(responder.lines.includes("stopped"));
    }
  },
});

Deno.test({
  name: "two processes: a request whose handler died with its process is served by another",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const topic = uniqueName("crash.request");
    const replyTopic = uniqueName("crash.reply");
    const groupId = uniqueName("crash-echo");
    const bus = testKafkaBus();
    await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
    const doomed = startResponder(topic, groupId, true);
    let survivor: TaskProcess | undefined;
    let inbox: ReplyInbox | undefined;
    try {
      await doomed.waitForLine(/^ready$/, 30_000);
      inbox = await ReplyInbox.open(bus, { replyTopic, groupId: uniqueName("crash-inbox"), log });
      const answered = request(bus, inbox, { topic, replyTopic, text: "hang", timeoutMs: 40_000 });
      await doomed.waitForLine(/^handling hang$/, 30_000);
      // SIGKILL: no clean shutdown, so the offset of the request was never committed.
      await doomed.kill();
      survivor = startResponder(topic, groupId);
      const reply = await answered;
      assert.equal(reply.echo, "hang");
      assert.equal(
        reply.pid,
        survivor.pid,
        "the request was delivered again after the crash",
      );
    } finally {
      await inbox?.close();
      await survivor?.stop();
      await doomed.kill();
      await bus.close();
    }
  },
});

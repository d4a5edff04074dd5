/** Two OS processes talking through the real broker: request/reply and crash redelivery. */

import assert from "node:assert/strict";
import { ReplyInbox } from "../../core/bus/request_reply.ts";
import type { Bus } from "../../core/bus/bus.ts";
import { createLogger } from "../../core/log.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";

const log = createLogger("test.two_process", { level: "error" });
const ECHO = new URL("./_echo_process.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

interface Responder {
  child: Deno.ChildProcess;
  lines: string[];
  done: Promise<void>;
}

function startResponder(requestTopic: string, groupId: string, hang = false): Responder {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
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
    env: { KAFKA_BOOTSTRAP_SERVERS: kafkaBootstrap() },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  const done = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
    }
  })();
  return { child, lines, done };
}

async function waitForLine(responder: Responder, line: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!responder.lines.includes(line)) {
    if (Date.now() > deadline) {
      throw new Error(`Responder did not print "${line}" within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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

async function stop(responder: Responder, signal: Deno.Signal): Promise<Deno.CommandStatus> {
  try {
    responder.child.kill(signal);
  } catch {
    // Already exited.
  }
  const status = await responder.child.status;
  await responder.done;
  return status;
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
      await waitForLine(responder, "ready");
      inbox = await ReplyInbox.open(bus, { replyTopic, groupId: uniqueName("proc-inbox"), log });
      const texts = ["alpha", "beta", "gamma", "delta", "epsilon"];
      const replies = await Promise.all(
        texts.map((text) => request(bus, inbox!, { topic, replyTopic, text, timeoutMs: 20_000 })),
      );
      assert.deepEqual(replies.map((reply) => reply.echo), texts);
      for (const reply of replies) {
        assert.equal(reply.pid, responder.child.pid, "the reply comes from the other process");
        assert.notEqual(reply.pid, Deno.pid);
      }
    } finally {
      await inbox?.close();
      const status = await stop(responder, "SIGTERM");
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
    let survivor: Responder | undefined;
    let inbox: ReplyInbox | undefined;
    try {
      await waitForLine(doomed, "ready");
      inbox = await ReplyInbox.open(bus, { replyTopic, groupId: uniqueName("crash-inbox"), log });
      const answered = request(bus, inbox, { topic, replyTopic, text: "hang", timeoutMs: 40_000 });
      await waitForLine(doomed, "handling hang");
      // SIGKILL: no clean shutdown, so the offset of the request was never committed.
      await stop(doomed, "SIGKILL");
      survivor = startResponder(topic, groupId);
      const reply = await answered;
      assert.equal(reply.echo, "hang");
      assert.equal(
        reply.pid,
        survivor.child.pid,
        "the request was delivered again after the crash",
      );
    } finally {
      await inbox?.close();
      if (survivor) await stop(survivor, "SIGTERM");
      await stop(doomed, "SIGKILL");
      await bus.close();
    }
  },
});

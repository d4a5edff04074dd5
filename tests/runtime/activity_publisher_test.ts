/** The activity publisher: off the decision path, in order, batched, failures logged. */

import assert from "node:assert/strict";
import type {
  Bus,
  OutgoingMessage,
  OutgoingRecord,
  RecordHandler,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../../core/bus/bus.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import type { ActivityEvent } from "../../core/contracts/activity.ts";
import { createLogger } from "../../core/log.ts";
import { ActivityPublisher } from "../../core/runtime/activity_publisher.ts";
import { quietLog } from "./_support.ts";

function event(agent: string, text: string): ActivityEvent {
  return { v: 1, kind: "reasoning", agent, time: "2017-09-03T00:00:00.000Z", text };
}

/** A broker-like bus (no object path) over a MemoryBus: publishes take a while, are counted. */
class SlowBus implements Bus {
  readonly inner = new MemoryBus();
  calls = 0;
  failures = 0;

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(specs);
  }

  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failures > 0) {
      this.failures--;
      throw new Error("broker unavailable");
    }
    return this.inner.publish(topic, records);
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(options);
  }

  endOffsets(topic: string): Promise<Map<number, string>> {
    return this.inner.endOffsets(topic);
  }

  readAll(topic: string, handler: RecordHandler): Promise<void> {
    return this.inner.readAll(topic, handler);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

async function texts(bus: Bus): Promise<string[]> {
  const out: string[] = [];
  await bus.readAll("activity", (record) => {
    out.push((JSON.parse(record.value) as { text: string }).text);
    return Promise.resolve();
  });
  return out;
}

Deno.test("publish returns at once; events queued meanwhile go out together, in order", async () => {
  const bus = new SlowBus();
  const publisher = new ActivityPublisher(bus, { topic: "activity", log: quietLog() });
  publisher.publish([event("a", "1")]);
  publisher.publish([event("a", "2"), event("a", "3")]);
  publisher.publish([event("a", "4")]);
  assert.equal(publisher.pending, 3, "the first event is in flight, three wait for it");
  await publisher.flush();
  assert.equal(publisher.pending, 0);
  assert.equal(bus.calls, 2, "one publish for the first event, one for the three queued");
  assert.deepEqual(await texts(bus), ["1", "2", "3", "4"]);
  await bus.close();
});

Deno.test("a failed publish is tried again and nothing is lost", async () => {
  const bus = new SlowBus();
  bus.failures = 1;
  const publisher = new ActivityPublisher(bus, { topic: "activity", log: quietLog() });
  publisher.publish([event("a", "1")]);
  await publisher.flush();
  assert.equal(bus.calls, 2);
  assert.deepEqual(await texts(bus), ["1"]);
  await bus.close();
});

Deno.test("events that cannot be published are logged as lost with their count", async () => {
  const bus = new SlowBus();
  bus.failures = 10;
  const lines: string[] = [];
  const log = createLogger("test", { level: "error", sink: (line) => lines.push(line) });
  const publisher = new ActivityPublisher(bus, { topic: "activity", log });
  publisher.publish([event("a", "1"), event("b", "2")]);
  await publisher.flush();
  const lost = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((entry) => String(entry.message).startsWith("Activity events lost"));
  assert.ok(lost, "an error names the loss");
  assert.equal(lost.events, 2);
  assert.deepEqual(lost.agents, ["a", "b"]);
  await bus.close();
});

Deno.test("on the in-memory bus events are appended before publish returns", async () => {
  const bus = new MemoryBus();
  const publisher = new ActivityPublisher(bus, { topic: "activity", log: quietLog() });
  const seen: OutgoingMessage[] = [];
  publisher.publish([event("a", "now")]);
  await bus.readAll("activity", (record) => {
    seen.push({ message: record.message });
    return Promise.resolve();
  });
  assert.equal(seen.length, 1);
  await publisher.flush();
  await bus.close();
});

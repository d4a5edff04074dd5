/** MemoryBus beyond the shared contract: per-key concurrency, in-process objects, compaction. */

import assert from "node:assert/strict";
import { z } from "zod";
import type { BusRecord } from "../../core/bus/bus.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { decodeRecord, publishMessages } from "../../core/bus/messages.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(2);
  }
}

Deno.test("perKey runs records of different keys at once, up to the concurrency", async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([{ topic: "work", partitions: 1, retentionMs: -1 }]);
  let running = 0;
  let peak = 0;
  const done: string[] = [];
  const subscription = await bus.subscribe({
    groupId: "workers",
    topics: ["work"],
    perKey: true,
    concurrency: 3,
    handler: async (record) => {
      running++;
      peak = Math.max(peak, running);
      await delay(20);
      running--;
      done.push(record.key!);
    },
  });
  try {
    await bus.publish(
      "work",
      ["a", "b", "c", "d", "e", "f"].map((key) => ({ key, value: "{}" })),
    );
    await waitFor("six records", () => done.length === 6);
    assert.equal(peak, 3, "three keys at once on one partition, never more");
  } finally {
    await subscription.close();
    await bus.close();
  }
});

Deno.test("perKey keeps the order within a key while other keys overtake", async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([{ topic: "work", partitions: 1, retentionMs: -1 }]);
  const seen: string[] = [];
  const subscription = await bus.subscribe({
    groupId: "workers",
    topics: ["work"],
    perKey: true,
    concurrency: 4,
    handler: async (record) => {
      if (record.key === "slow") await delay(30);
      seen.push(`${record.key}:${record.value}`);
    },
  });
  try {
    await bus.publish("work", [
      { key: "slow", value: "1" },
      { key: "slow", value: "2" },
      { key: "fast", value: "1" },
      { key: "fast", value: "2" },
    ]);
    await waitFor("four records", () => seen.length === 4);
    assert.deepEqual(seen, ["fast:1", "fast:2", "slow:1", "slow:2"]);
  } finally {
    await subscription.close();
    await bus.close();
  }
});

Deno.test("perKey commits only past records that all finished: a new member resumes there", async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([{ topic: "work", partitions: 1, retentionMs: -1 }]);
  const first: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const member = await bus.subscribe({
    groupId: "workers",
    topics: ["work"],
    perKey: true,
    concurrency: 2,
    handler: async (record) => {
      if (record.value === "held") await gate;
      first.push(record.value);
    },
  });
  await bus.publish("work", [
    { key: "x", value: "held" },
    { key: "y", value: "quick" },
  ]);
  await waitFor("the quick record", () => first.includes("quick"));
  const closing = member.close();
  release();
  await closing;
  assert.deepEqual(first.sort(), ["held", "quick"], "close waits for the held handler");
  // Both finished, so a new member of the group starts after them.
  const second: string[] = [];
  const next = await bus.subscribe({
    groupId: "workers",
    topics: ["work"],
    perKey: true,
    concurrency: 2,
    handler: (record) => Promise.resolve(void second.push(record.value)),
  });
  await bus.publish("work", [{ key: "x", value: "new" }]);
  await waitFor("the new record", () => second.length === 1);
  assert.deepEqual(second, ["new"]);
  await next.close();
  await bus.close();
});

Deno.test("perKey delivers a record again after its handler throws, in order for its key", async () => {
  const bus = new MemoryBus();
  let attempts = 0;
  const seen: string[] = [];
  const subscription = await bus.subscribe({
    groupId: "retry",
    topics: ["flaky"],
    perKey: true,
    concurrency: 2,
    handler: (record) => {
      if (record.value === "1" && ++attempts === 1) throw new Error("first try fails");
      seen.push(record.value);
      return Promise.resolve();
    },
  });
  await bus.publish("flaky", [{ key: "k", value: "1" }, { key: "k", value: "2" }]);
  await waitFor("both records", () => seen.length === 2);
  assert.deepEqual(seen, ["1", "2"]);
  assert.equal(attempts, 2);
  await subscription.close();
  await bus.close();
});

Deno.test("messages published as objects reach readers without parsing; JSON is made on read", async () => {
  const bus = new MemoryBus();
  const Message = z.object({ n: z.number() });
  const message = { n: 7 };
  const records: BusRecord[] = [];
  const subscription = await bus.subscribe({
    groupId: "reader",
    topics: ["objects"],
    handler: (record) => Promise.resolve(void records.push(record)),
  });
  await publishMessages(bus, "objects", [{ key: "k", message }]);
  await waitFor("the record", () => records.length === 1);
  const record = records[0]!;
  assert.equal(record.message, message, "the very object, not a copy");
  const decoded = decodeRecord(Message, record);
  assert.ok(decoded.ok);
  assert.equal(decoded.message, message);
  assert.equal(record.value, '{"n":7}');
  // A raw record (text only) is still parsed and validated.
  assert.deepEqual(
    decodeRecord(Message, { ...record, message: undefined, value: '{"n":"x"}' }).ok,
    false,
  );
  await subscription.close();
  await bus.close();
});

Deno.test("a compacted topic is accepted and readAll returns every record", async () => {
  const bus = new MemoryBus();
  await bus.ensureTopics([
    { topic: "catalog", partitions: 1, retentionMs: -1, cleanupPolicy: "compact" },
  ]);
  await bus.publish("catalog", [
    { key: "tools", value: '{"v":1}' },
    { key: "tools", value: '{"v":2}' },
  ]);
  const values: string[] = [];
  await bus.readAll("catalog", (record) => Promise.resolve(void values.push(record.value)));
  assert.deepEqual(values, ['{"v":1}', '{"v":2}'], "readers take the last record per key");
  await bus.close();
});

Deno.test("concurrency must be a positive integer", async () => {
  const bus = new MemoryBus();
  await assert.rejects(
    bus.subscribe({
      groupId: "g",
      topics: ["t"],
      concurrency: 0,
      handler: () => Promise.resolve(),
    }),
    /Concurrency must be a positive integer, got 0/,
  );
  await bus.close();
});

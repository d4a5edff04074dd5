/** One contract, two buses: every test body runs against MemoryBus and KafkaBus. */

import assert from "node:assert/strict";
import { z } from "zod";
import type { Bus, BusRecord, SubscribeOptions, Subscription } from "../../core/bus/bus.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { subscribeMessages } from "../../core/bus/messages.ts";
import { ReplyInbox, serveRequests } from "../../core/bus/request_reply.ts";
import { DEAD_LETTER_TOPIC } from "../../core/bus/topics.ts";
import { DeadLetter } from "../../core/contracts/activity.ts";
import { createLogger } from "../../core/log.ts";
import { PlatformaticKafkaBus } from "../../core/bus/platformatic/mod.ts";
import { testBusSettings, testKafkaBus, uniqueName } from "../_kafka.ts";

const log = createLogger("test.contract", { level: "error" });

interface BusKind {
  name: string;
  open(): Bus;
}

const KINDS: BusKind[] = [
  { name: "memory", open: () => new MemoryBus() },
  { name: "kafka", open: () => testKafkaBus() },
  { name: "platformatic", open: () => new PlatformaticKafkaBus(testBusSettings()) },
];

/** Waits until the condition holds, polling; fails naming what was awaited. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function numbered(count: number, start = 0): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, index) => ({
    key: `key-${(start + index) % 7}`,
    value: JSON.stringify({ n: start + index }),
  }));
}

function valueOf(record: BusRecord): number {
  return (JSON.parse(record.value) as { n: number }).n;
}

/** Subscription options of {@linkcode collectNumbers}. */
interface CollectOptions extends Omit<SubscribeOptions, "handler"> {
  /** Where each record's number is appended. */
  into: number[];
}

/** Subscribes a member that appends the number of each record it handles to `into`. */
function collectNumbers(bus: Bus, options: CollectOptions): Promise<Subscription> {
  const { into, ...subscribe } = options;
  return bus.subscribe({
    ...subscribe,
    handler: (record) => {
      into.push(valueOf(record));
      return Promise.resolve();
    },
  });
}

/** Runs a test body with a fresh bus that is closed afterwards, even on failure. */
function contract(title: string, body: (bus: Bus, kind: BusKind) => Promise<void>): void {
  for (const kind of KINDS) {
    Deno.test({
      name: `${kind.name} bus: ${title}`,
      // kafkajs keeps socket reads and a few timers alive briefly after disconnect.
      sanitizeOps: kind.name === "memory",
      sanitizeResources: kind.name === "memory",
      fn: async () => {
        const bus = kind.open();
        try {
          await body(bus, kind);
        } finally {
          await bus.close();
        }
      },
    });
  }
}

contract("every consumer group receives every message (fan-out)", async (bus) => {
  const topic = uniqueName("fanout");
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 60_000 }]);
  const received = new Map<string, number[]>([["a", []], ["b", []]]);
  const subscriptions: Subscription[] = [];
  for (const group of received.keys()) {
    subscriptions.push(
      await collectNumbers(bus, {
        groupId: uniqueName(`fanout-${group}`),
        topics: [topic],
        into: received.get(group)!,
      }),
    );
  }
  await bus.publish(topic, numbered(30));
  await waitFor(
    "both groups to get 30 messages",
    () => [...received.values()].every((values) => values.length >= 30),
  );
  for (const values of received.values()) {
    assert.deepEqual([...values].sort((a, b) => a - b), Array.from({ length: 30 }, (_, n) => n));
  }
  await Promise.all(subscriptions.map((subscription) => subscription.close()));
});

contract("members of one group share the partitions, each message handled once", async (bus) => {
  const topic = uniqueName("balance");
  await bus.ensureTopics([{ topic, partitions: 4, retentionMs: 60_000 }]);
  const groupId = uniqueName("balance");
  const byMember: number[][] = [[], []];
  const subscriptions: Subscription[] = [];
  for (const handled of byMember) {
    subscriptions.push(
      await collectNumbers(bus, { groupId, topics: [topic], into: handled }),
    );
  }
  await bus.publish(topic, numbered(40));
  await waitFor("40 messages across the group", () => byMember.flat().length >= 40);
  await delay(300);
  assert.ok(byMember[0]!.length > 0, "first member got no partition");
  assert.ok(byMember[1]!.length > 0, "second member got no partition");
  assert.deepEqual(byMember.flat().sort((a, b) => a - b), Array.from({ length: 40 }, (_, n) => n));
  await Promise.all(subscriptions.map((subscription) => subscription.close()));
});

contract("when a member leaves, the remaining member takes over its partitions", async (bus) => {
  const topic = uniqueName("failover");
  await bus.ensureTopics([{ topic, partitions: 4, retentionMs: 60_000 }]);
  const groupId = uniqueName("failover");
  const first: number[] = [];
  const second: number[] = [];
  const leaving = await collectNumbers(bus, { groupId, topics: [topic], into: first });
  const staying = await collectNumbers(bus, { groupId, topics: [topic], into: second });
  await bus.publish(topic, numbered(20));
  await waitFor("the first 20 messages", () => first.length + second.length >= 20);
  assert.ok(first.length > 0 && second.length > 0, "both members should have had partitions");
  await leaving.close();
  const secondBefore = second.length;
  await bus.publish(topic, numbered(20, 20));
  await waitFor(
    "the remaining member to get all 20 new messages",
    () => second.length - secondBefore >= 20,
  );
  assert.deepEqual(
    second.slice(secondBefore).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, n) => 20 + n),
  );
  assert.equal(first.filter((n) => n >= 20).length, 0, "a closed member must get nothing");
  await staying.close();
});

contract("records with one key arrive in the order they were published", async (bus) => {
  const topic = uniqueName("order");
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 60_000 }]);
  const seen = new Map<string, number[]>();
  const subscription = await bus.subscribe({
    groupId: uniqueName("order"),
    topics: [topic],
    concurrency: 3,
    handler: async (record) => {
      // Uneven handler times would reorder records if partitions were not handled in order.
      if (valueOf(record) % 5 === 0) await delay(5);
      const list = seen.get(record.key!) ?? [];
      list.push(valueOf(record));
      seen.set(record.key!, list);
    },
  });
  for (let batch = 0; batch < 5; batch++) {
    await bus.publish(topic, numbered(20, batch * 20));
  }
  await waitFor("100 messages", () => [...seen.values()].flat().length >= 100);
  assert.equal(seen.size, 7);
  for (const [key, values] of seen) {
    assert.deepEqual(values, [...values].sort((a, b) => a - b), `key ${key} out of order`);
  }
  await subscription.close();
});

const EchoRequest = z.object({
  correlationId: z.string(),
  replyTo: z.string(),
  text: z.string(),
});

contract("request/reply matches replies to requests by correlation id", async (bus) => {
  const requestTopic = uniqueName("echo.request");
  const replyTopic = uniqueName("echo.reply");
  const server = await serveRequests(bus, {
    groupId: uniqueName("echo-server"),
    topic: requestTopic,
    schema: EchoRequest,
    log,
    concurrency: 3,
    handle: async (request) => {
      // Later requests answer first, so replies arrive out of request order.
      await delay(request.text === "slow" ? 100 : 0);
      return {
        replyTo: request.replyTo,
        key: request.correlationId,
        reply: { correlationId: request.correlationId, echo: request.text.toUpperCase() },
      };
    },
  });
  const inbox = await ReplyInbox.open(bus, {
    replyTopic,
    groupId: uniqueName("echo-inbox"),
    log,
  });
  try {
    // A reply nobody waits for is ignored and does not disturb the others.
    await bus.publish(replyTopic, [{ value: JSON.stringify({ correlationId: "stray" }) }]);
    const texts = ["slow", "a", "b", "c", "d"];
    const ids = texts.map(() => crypto.randomUUID());
    const replies = ids.map((id) => inbox.expect(id, 10_000));
    await bus.publish(
      requestTopic,
      texts.map((text, index) => ({
        key: ids[index],
        value: JSON.stringify({ correlationId: ids[index], replyTo: replyTopic, text }),
      })),
    );
    const answered = await Promise.all(replies);
    assert.deepEqual(
      answered,
      texts.map((text, index) => ({ correlationId: ids[index], echo: text.toUpperCase() })),
    );
    assert.equal(inbox.pending, 0);
    await assert.rejects(
      inbox.expect("never-answered", 50),
      /No reply with correlation id never-answered .* within 50 ms/,
    );
  } finally {
    await inbox.close();
    await server.close();
  }
});

contract("a handler that throws gets the record again (at-least-once)", async (bus) => {
  const topic = uniqueName("retry");
  await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
  const attempts = new Map<number, number>();
  const handled: number[] = [];
  const subscription = await bus.subscribe({
    groupId: uniqueName("retry"),
    topics: [topic],
    handler: (record) => {
      const n = valueOf(record);
      attempts.set(n, (attempts.get(n) ?? 0) + 1);
      if (n === 3 && attempts.get(n)! <= 2) throw new Error("Transient failure");
      handled.push(n);
      return Promise.resolve();
    },
  });
  await bus.publish(topic, numbered(6));
  await waitFor("all 6 records handled", () => handled.length >= 6);
  assert.equal(attempts.get(3), 3, "the failing record is delivered until it succeeds");
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 5], "records after it wait for it (order kept)");
  await subscription.close();
});

contract(
  "closing a member mid-handler finishes the handler and loses nothing",
  async (bus) => {
    const topic = uniqueName("inflight");
    await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
    const groupId = uniqueName("inflight");
    const finished: number[] = [];
    let started = -1;
    const first = await bus.subscribe({
      groupId,
      topics: [topic],
      handler: async (record) => {
        started = valueOf(record);
        await delay(valueOf(record) === 2 ? 400 : 0);
        finished.push(valueOf(record));
      },
    });
    await bus.publish(topic, numbered(10));
    await waitFor("the slow record to start", () => started === 2);
    await first.close();
    assert.equal(finished.at(-1), 2, "close resolves only after the in-flight handler finished");
    const handledByFirst = [...finished];
    const rest: number[] = [];
    const second = await collectNumbers(bus, { groupId, topics: [topic], into: rest });
    await waitFor("the new member to get the rest", () => rest.includes(9));
    const all = new Set([...handledByFirst, ...rest]);
    assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: 10 }, (_, n) => n));
    assert.ok(!rest.includes(0), "offsets of finished records were committed before close");
    await second.close();
  },
);

contract("closing the bus waits for in-flight handlers", async (bus) => {
  const topic = uniqueName("shutdown");
  let finished = false;
  let started = false;
  await bus.subscribe({
    groupId: uniqueName("shutdown"),
    topics: [topic],
    handler: async () => {
      started = true;
      await delay(300);
      finished = true;
    },
  });
  await bus.publish(topic, numbered(1));
  await waitFor("the handler to start", () => started);
  await bus.close();
  assert.ok(finished, "bus.close() returned before the handler finished");
});

contract("an invalid message is dead-lettered and consumption goes on", async (bus) => {
  const topic = uniqueName("invalid");
  await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
  const letters: DeadLetter[] = [];
  const deadLetters = await subscribeMessages(bus, {
    groupId: uniqueName("dead-letters"),
    topics: [DEAD_LETTER_TOPIC],
    schema: DeadLetter,
    fromBeginning: false,
    log,
    handler: (letter) => {
      if (letter.sourceTopic === topic) letters.push(letter);
      return Promise.resolve();
    },
  });
  const valid: number[] = [];
  const subscription = await subscribeMessages(bus, {
    groupId: uniqueName("invalid"),
    topics: [topic],
    schema: z.object({ n: z.number() }),
    log,
    handler: (message) => {
      valid.push(message.n);
      return Promise.resolve();
    },
  });
  await bus.publish(topic, [
    { value: JSON.stringify({ n: 1 }) },
    { value: "{not json" },
    { value: JSON.stringify({ n: "two" }) },
    { value: JSON.stringify({ n: 3 }) },
  ]);
  await waitFor(
    "valid messages and two dead letters",
    () => valid.length >= 2 && letters.length >= 2,
  );
  assert.deepEqual(valid, [1, 3]);
  assert.deepEqual(letters.map((letter) => letter.offset), ["1", "2"]);
  assert.match(letters[0]!.reason, /Invalid JSON/);
  assert.match(letters[1]!.reason, /Schema mismatch: n:/);
  assert.equal(letters[0]!.value, "{not json");
  await subscription.close();
  await deadLetters.close();
});

contract("endOffsets and readAll read up to the end seen at call time", async (bus) => {
  const topic = uniqueName("read-all");
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: -1 }]);
  const empty: BusRecord[] = [];
  await bus.readAll(topic, (record) => {
    empty.push(record);
    return Promise.resolve();
  });
  assert.equal(empty.length, 0);
  await bus.publish(topic, numbered(12));
  const ends = await bus.endOffsets(topic);
  assert.deepEqual([...ends.keys()].sort(), [0, 1, 2]);
  assert.equal([...ends.values()].reduce((sum, end) => sum + Number(end), 0), 12);
  const read: number[] = [];
  await bus.readAll(topic, async (record) => {
    // Records published during the read are past the end captured at call time.
    if (read.length === 0) await bus.publish(topic, numbered(3, 100));
    read.push(valueOf(record));
  });
  assert.deepEqual(read.sort((a, b) => a - b), Array.from({ length: 12 }, (_, n) => n));
  const after = await bus.endOffsets(topic);
  assert.equal([...after.values()].reduce((sum, end) => sum + Number(end), 0), 15);
});

contract("a new group that skips old records still gets every new one", async (bus) => {
  const topic = uniqueName("latest");
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 60_000 }]);
  await bus.publish(topic, numbered(5));
  const received: number[] = [];
  const subscription = await collectNumbers(bus, {
    groupId: uniqueName("latest"),
    topics: [topic],
    fromBeginning: false,
    into: received,
  });
  await bus.publish(topic, numbered(5, 5));
  await waitFor("5 new messages", () => received.length >= 5);
  await delay(200);
  assert.deepEqual(received.sort((a, b) => a - b), [5, 6, 7, 8, 9]);
  await subscription.close();
});

contract("topics are created with the partitions asked for", async (bus) => {
  const topic = uniqueName("created");
  await bus.ensureTopics([{ topic, partitions: 5, retentionMs: -1 }]);
  await bus.ensureTopics([{ topic, partitions: 5, retentionMs: -1 }]);
  assert.equal((await bus.endOffsets(topic)).size, 5);
  const dynamic = uniqueName("dynamic");
  await bus.publish(dynamic, [{ value: "{}" }]);
  assert.equal((await bus.endOffsets(dynamic)).size, 3, "unknown topics get dynamicTopic()");
});

contract("a compacted topic gives the latest record of every key to a reader", async (bus) => {
  const topic = uniqueName("compacted");
  await bus.ensureTopics([{ topic, partitions: 2, retentionMs: -1, cleanupPolicy: "compact" }]);
  await bus.publish(topic, [
    { key: "BTC-USD", value: JSON.stringify({ n: 1 }) },
    { key: "ETH-USD", value: JSON.stringify({ n: 2 }) },
  ]);
  await bus.publish(topic, [{ key: "BTC-USD", value: JSON.stringify({ n: 3 }) }]);
  // Compaction may or may not have run: a reader keeps the last record per key either way.
  const latest = new Map<string, number>();
  await bus.readAll(topic, (record) => {
    latest.set(record.key!, valueOf(record));
    return Promise.resolve();
  });
  assert.deepEqual(Object.fromEntries(latest), { "BTC-USD": 3, "ETH-USD": 2 });
});

contract("with perKey, records of different keys run at once, in order per key", async (bus) => {
  const topic = uniqueName("per-key");
  await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
  const seen = new Map<string, number[]>();
  let running = 0;
  let mostRunning = 0;
  const subscription = await bus.subscribe({
    groupId: uniqueName("per-key"),
    topics: [topic],
    concurrency: 3,
    perKey: true,
    handler: async (record) => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      // Uneven handler times would reorder a key's records if keys were not kept in order.
      await delay(valueOf(record) % 4 === 0 ? 40 : 10);
      const list = seen.get(record.key!) ?? [];
      list.push(valueOf(record));
      seen.set(record.key!, list);
      running--;
    },
  });
  // One partition: without perKey, its records would run one at a time.
  await bus.publish(
    topic,
    Array.from({ length: 24 }, (_, n) => ({ key: `agent-${n % 4}`, value: JSON.stringify({ n }) })),
  );
  await waitFor("24 records", () => [...seen.values()].flat().length >= 24);
  await subscription.close();
  for (let key = 0; key < 4; key++) {
    assert.deepEqual(
      seen.get(`agent-${key}`),
      Array.from({ length: 6 }, (_, index) => key + index * 4),
      `agent-${key}'s records in order`,
    );
  }
  assert.ok(mostRunning > 1, `records of different keys ran at once (at most ${mostRunning})`);
  assert.ok(mostRunning <= 3, `no more than the concurrency ran at once (${mostRunning})`);
});

contract(
  "with perKey, a record of another key published while a handler runs does not wait for it",
  async (bus) => {
    const topic = uniqueName("per-key-fetch");
    await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
    const release = Promise.withResolvers<void>();
    const handled: number[] = [];
    let slowStarted = false;
    const member = await bus.subscribe({
      groupId: uniqueName("per-key-fetch"),
      topics: [topic],
      concurrency: 4,
      perKey: true,
      handler: async (record) => {
        if (valueOf(record) === 0) {
          slowStarted = true;
          await release.promise;
        }
        handled.push(valueOf(record));
      },
    });
    try {
      await bus.publish(topic, [{ key: "A", value: JSON.stringify({ n: 0 }) }]);
      await waitFor("the slow record's handler to start", () => slowStarted);
      // Fetched after the slow record: a fetch loop waiting for its batch would never see it.
      await bus.publish(topic, [{ key: "B", value: JSON.stringify({ n: 1 }) }]);
      await waitFor("key B's record while key A's runs", () => handled.includes(1));
      assert.deepEqual(handled, [1]);
    } finally {
      release.resolve();
      await member.close();
    }
    assert.deepEqual(handled, [1, 0]);
  },
);

contract(
  "with perKey, a record still running holds back later records' commits; close commits",
  async (bus) => {
    const topic = uniqueName("per-key-commit");
    await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
    const groupId = uniqueName("per-key-commit");
    const release = Promise.withResolvers<void>();
    const first: number[] = [];
    let slowStarted = false;
    const member = await bus.subscribe({
      groupId,
      topics: [topic],
      concurrency: 2,
      perKey: true,
      handler: async (record) => {
        if (valueOf(record) === 0) {
          slowStarted = true;
          await release.promise;
        }
        first.push(valueOf(record));
      },
    });
    // Offsets 0..4: the slow record 0 and record 3 have key A; 1, 2 and 4 have key B.
    const keys = ["A", "B", "B", "A", "B"];
    await bus.publish(
      topic,
      keys.map((key, n) => ({ key, value: JSON.stringify({ n }) })),
    );
    await waitFor("key B's records while key A's first one runs", () => first.includes(2));
    assert.ok(slowStarted);
    assert.ok(!first.includes(3), "record 3 waits for record 0 of its key");
    const closing = member.close();
    await delay(50);
    release.resolve();
    await closing;
    assert.ok(first.includes(0), "close waited for the running handler");
    const rest: number[] = [];
    const second = await collectNumbers(bus, { groupId, topics: [topic], into: rest });
    await bus.publish(topic, [{ key: "C", value: JSON.stringify({ n: 5 }) }]);
    await waitFor("the new member to reach the end", () => rest.includes(5));
    await second.close();
    assert.deepEqual(
      [...new Set([...first, ...rest])].sort(),
      [0, 1, 2, 3, 4, 5],
      "nothing is lost",
    );
    assert.ok(
      !rest.some((n) => n <= 2),
      `records below the lowest unfinished one at close were committed (got ${rest})`,
    );
  },
);

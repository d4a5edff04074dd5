/** PlatformaticKafkaBus behaviour the shared contract cannot observe, and its building blocks. */

import assert from "node:assert/strict";
import { Admin, ConfigResourceTypes } from "@platformatic/kafka";
import type { BusRecord } from "../../core/bus/bus.ts";
import {
  type CommittableOffset,
  PlatformaticKafkaBus,
  platformaticSecurity,
  RecordDispatcher,
} from "../../core/bus/platformatic/mod.ts";
import type { SaslMechanism } from "../../core/bus/kafka_security.ts";
import { createLogger } from "../../core/log.ts";
import { startBroker } from "../../scripts/_kafka_broker.ts";
import { kafkaBootstrap, testBusSettings, testKafkaBus, uniqueName } from "../_kafka.ts";

const quiet = createLogger("test.platformatic", { level: "error" });

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await delay(10);
  }
}

function record(partition: number, offset: number, key: string | null = null): BusRecord {
  return { topic: "t", partition, offset: String(offset), key, value: "{}", headers: {} };
}

// --- Security settings (no broker) ---

Deno.test("platformatic security: plaintext needs no tls or sasl settings", () => {
  assert.deepEqual(platformaticSecurity(undefined), {});
  assert.deepEqual(platformaticSecurity({ protocol: "PLAINTEXT" }), {});
});

Deno.test("platformatic security: SASL_SSL maps the CA and the SCRAM mechanism", () => {
  const options = platformaticSecurity({
    protocol: "SASL_SSL",
    caPem: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
    sasl: { mechanism: "scram-sha-512", username: "arena", password: "secret" },
  });
  assert.deepEqual(options.tls, {
    ca: ["-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----"],
  });
  assert.deepEqual(options.sasl, {
    mechanism: "SCRAM-SHA-512",
    username: "arena",
    password: "secret",
  });
});

Deno.test("platformatic security: SSL uses the system roots, SASL_PLAINTEXT no TLS", () => {
  assert.deepEqual(platformaticSecurity({ protocol: "SSL" }), { tls: {} });
  const plain = platformaticSecurity({
    protocol: "SASL_PLAINTEXT",
    sasl: { mechanism: "plain", username: "u", password: "p" },
  });
  assert.equal(plain.tls, undefined);
  assert.equal(plain.sasl?.mechanism, "PLAIN");
  assert.equal(
    platformaticSecurity({
      protocol: "SASL_PLAINTEXT",
      sasl: { mechanism: "scram-sha-256", username: "u", password: "p" },
    }).sasl?.mechanism,
    "SCRAM-SHA-256",
  );
});

Deno.test("platformatic security: a SASL protocol without credentials is a clear error", () => {
  assert.throws(
    () => platformaticSecurity({ protocol: "SASL_SSL" }),
    /Security protocol SASL_SSL needs SASL credentials/,
  );
});

// --- Record dispatcher (no broker) ---

Deno.test("dispatcher: per key, different keys run at once and one key keeps its order", async () => {
  const events: string[] = [];
  let running = 0;
  let most = 0;
  const dispatcher = new RecordDispatcher({
    concurrency: 4,
    perKey: true,
    log: quiet,
    onCommittable: () => {},
    handler: async (item) => {
      events.push(`start ${item.key}${item.offset}`);
      most = Math.max(most, ++running);
      await delay(item.key === "a" ? 30 : 5);
      running--;
      events.push(`end ${item.key}${item.offset}`);
    },
  });
  for (const [offset, key] of ["a", "b", "a", "b", "c"].entries()) {
    dispatcher.push(record(0, offset, key));
  }
  await waitFor("5 records", () => events.filter((event) => event.startsWith("end")).length === 5);
  const ends = events.filter((event) => event.startsWith("end")).map((event) => event.slice(4));
  assert.equal(most, 3, "keys a, b and c of one partition ran at once");
  assert.deepEqual(ends.filter((name) => name.startsWith("a")), ["a0", "a2"]);
  assert.deepEqual(ends.filter((name) => name.startsWith("b")), ["b1", "b3"]);
  assert.ok(events.indexOf("start b1") < events.indexOf("end a0"), "b did not wait for a");
  assert.ok(events.indexOf("end a0") < events.indexOf("start a2"), "a2 waited for a0");
});

Deno.test("dispatcher: without per key, one partition runs one record at a time", async () => {
  let running = 0;
  let most = 0;
  const dispatcher = new RecordDispatcher({
    concurrency: 4,
    perKey: false,
    log: quiet,
    onCommittable: () => {},
    handler: async () => {
      most = Math.max(most, ++running);
      await delay(2);
      running--;
    },
  });
  for (let offset = 0; offset < 6; offset++) dispatcher.push(record(0, offset, `k${offset}`));
  for (let offset = 0; offset < 6; offset++) dispatcher.push(record(1, offset, `k${offset}`));
  await dispatcher.idle();
  await waitFor("all records", () => dispatcher.backlog === 0);
  assert.equal(most, 2, "two partitions, one record each at a time");
});

Deno.test("dispatcher: the committable offset moves only past records all handled", async () => {
  const commits: CommittableOffset[] = [];
  const gates = new Map<string, () => void>();
  const dispatcher = new RecordDispatcher({
    concurrency: 3,
    perKey: true,
    log: quiet,
    onCommittable: (commit) => commits.push(commit),
    handler: (item) => new Promise((resolve) => gates.set(item.offset, resolve)),
  });
  dispatcher.push(record(0, 10, "a"), 7);
  dispatcher.push(record(0, 11, "b"), 7);
  dispatcher.push(record(0, 12, "c"), 7);
  await waitFor("three handlers", () => gates.size === 3);
  gates.get("12")!();
  gates.get("11")!();
  await delay(5);
  assert.deepEqual(commits, [], "offset 10 is still running: nothing may be committed");
  gates.get("10")!();
  await dispatcher.idle();
  assert.deepEqual(commits, [{ topic: "t", partition: 0, offset: 13n, leaderEpoch: 7 }]);
});

Deno.test("dispatcher: a record fetched again after a rebalance is not handled twice", async () => {
  const handled: string[] = [];
  const dispatcher = new RecordDispatcher({
    concurrency: 1,
    perKey: false,
    log: quiet,
    onCommittable: () => {},
    handler: (item) => {
      handled.push(item.offset);
      return Promise.resolve();
    },
  });
  dispatcher.push(record(0, 0));
  dispatcher.push(record(0, 1));
  dispatcher.revoke(new Set(["t:0"]));
  dispatcher.push(record(0, 0));
  dispatcher.push(record(0, 1));
  dispatcher.push(record(0, 2));
  await waitFor("three records", () => handled.length >= 3);
  await dispatcher.idle();
  assert.deepEqual(handled, ["0", "1", "2"]);
});

Deno.test("dispatcher: a revoked partition's waiting records are dropped", async () => {
  const handled: string[] = [];
  let release = () => {};
  const dispatcher = new RecordDispatcher({
    concurrency: 1,
    perKey: false,
    log: quiet,
    onCommittable: () => {},
    handler: async (item) => {
      if (item.partition === 0 && item.offset === "0") {
        await new Promise<void>((resolve) => release = resolve);
      }
      handled.push(`${item.partition}:${item.offset}`);
    },
  });
  dispatcher.push(record(0, 0));
  dispatcher.push(record(0, 1));
  dispatcher.push(record(1, 0));
  await delay(5);
  dispatcher.revoke(new Set(["t:1"]));
  release();
  await waitFor("partition 1", () => handled.includes("1:0"));
  await dispatcher.idle();
  assert.deepEqual(handled, ["0:0", "1:0"], "0:1 belonged to a revoked partition");
});

Deno.test("dispatcher: a throwing handler is retried with growing delays until it succeeds", async () => {
  const times: number[] = [];
  const commits: CommittableOffset[] = [];
  const dispatcher = new RecordDispatcher({
    concurrency: 1,
    perKey: false,
    log: quiet,
    redeliveryDelayMs: 20,
    onCommittable: (commit) => commits.push(commit),
    handler: () => {
      times.push(performance.now());
      if (times.length < 4) return Promise.reject(new Error("Transient failure"));
      return Promise.resolve();
    },
  });
  dispatcher.push(record(0, 5));
  await waitFor("4 attempts", () => times.length === 4);
  await dispatcher.idle();
  const gaps = times.slice(1).map((time, index) => time - times[index]!);
  assert.ok(gaps[0]! >= 18 && gaps[1]! >= 38 && gaps[2]! >= 78, `gaps ${gaps.join(", ")}`);
  assert.deepEqual(commits.map((commit) => commit.offset), [6n]);
});

Deno.test("dispatcher: stop gives up a record waiting for redelivery, without committing it", async () => {
  let attempts = 0;
  const commits: CommittableOffset[] = [];
  const dispatcher = new RecordDispatcher({
    concurrency: 1,
    perKey: false,
    log: quiet,
    redeliveryDelayMs: 60_000,
    onCommittable: (commit) => commits.push(commit),
    handler: () => {
      attempts++;
      return Promise.reject(new Error("Always fails"));
    },
  });
  dispatcher.push(record(0, 0));
  await waitFor("the first attempt", () => attempts === 1);
  const started = performance.now();
  await dispatcher.stop();
  assert.ok(performance.now() - started < 1_000, "stop did not wait out the redelivery delay");
  assert.equal(attempts, 1);
  assert.deepEqual(commits, []);
});

Deno.test("dispatcher: concurrency must be a positive whole number", () => {
  assert.throws(
    () =>
      new RecordDispatcher({
        concurrency: 0,
        perKey: false,
        log: quiet,
        onCommittable: () => {},
        handler: () => Promise.resolve(),
      }),
    /Concurrency must be a positive whole number, got 0/,
  );
});

// --- Against the broker ---

Deno.test({
  name:
    "platformatic bus: a running broker answers the probe and no timer or socket outlives close",
  fn: async () => {
    const bus = new PlatformaticKafkaBus(testBusSettings());
    try {
      await bus.probe();
      const topic = uniqueName("clean");
      await bus.ensureTopics([{ topic, partitions: 2, retentionMs: 60_000 }]);
      const seen: string[] = [];
      const subscription = await bus.subscribe({
        groupId: uniqueName("clean"),
        topics: [topic],
        handler: (item) => {
          seen.push(item.value);
          return Promise.resolve();
        },
      });
      await bus.publish(topic, [{ key: "a", value: "1" }, { key: "b", value: "2" }]);
      await waitFor("both records", () => seen.length === 2);
      await subscription.close();
      const read: string[] = [];
      await bus.readAll(topic, (item) => {
        read.push(item.value);
        return Promise.resolve();
      });
      assert.deepEqual(read.sort(), ["1", "2"]);
    } finally {
      await bus.close();
    }
    // The test sanitizers (on by default) fail this test if a timer or socket is left behind.
  },
});

Deno.test({
  name: "platformatic bus: ensureTopics sets retention and cleanup policy",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bus = new PlatformaticKafkaBus(testBusSettings());
    const admin = new Admin({
      clientId: uniqueName("inspect"),
      bootstrapBrokers: [kafkaBootstrap()],
    });
    try {
      const compacted = uniqueName("compacted");
      const forever = uniqueName("forever");
      await bus.ensureTopics([
        { topic: compacted, partitions: 2, retentionMs: 86_400_000, cleanupPolicy: "compact" },
        { topic: forever, partitions: 1, retentionMs: -1 },
      ]);
      const described = await admin.describeConfigs({
        resources: [compacted, forever].map((name) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: name,
          configurationKeys: ["retention.ms", "cleanup.policy"],
        })),
      });
      const config = (topic: string, name: string) =>
        described.find((entry) => entry.resourceName === topic)?.configs
          .find((entry) => entry.name === name)?.value;
      assert.equal(config(compacted, "cleanup.policy"), "compact");
      assert.equal(config(compacted, "retention.ms"), "86400000");
      assert.equal(config(forever, "cleanup.policy"), "delete");
      assert.equal(config(forever, "retention.ms"), "-1");
      assert.equal((await bus.endOffsets(compacted)).size, 2);
    } finally {
      await admin.close();
      await bus.close();
    }
  },
});

Deno.test({
  name: "platformatic bus: keyed records land on the partition kafkajs picks for the key",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const platformatic = new PlatformaticKafkaBus(testBusSettings());
    const kafkajs = testKafkaBus();
    try {
      const topic = uniqueName("partitioner");
      await platformatic.ensureTopics([{ topic, partitions: 6, retentionMs: 60_000 }]);
      const keys = Array.from({ length: 12 }, (_, index) => `agent-${index}`);
      await platformatic.publish(topic, keys.map((key) => ({ key, value: "platformatic" })));
      await kafkajs.publish(topic, keys.map((key) => ({ key, value: "kafkajs" })));
      const partitions = new Map<string, Set<number>>();
      await platformatic.readAll(topic, (item) => {
        const set = partitions.get(item.key!) ?? new Set();
        set.add(item.partition);
        partitions.set(item.key!, set);
        return Promise.resolve();
      });
      assert.equal(partitions.size, 12);
      for (const [key, used] of partitions) {
        assert.equal(used.size, 1, `key ${key} went to partitions ${[...used].join(", ")}`);
      }
      assert.ok(new Set([...partitions.values()].map((set) => [...set][0])).size > 1);
    } finally {
      await kafkajs.close();
      await platformatic.close();
    }
  },
});

Deno.test({
  name: "platformatic bus: perKey handles keys of one partition at once, each key in order",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bus = new PlatformaticKafkaBus(testBusSettings());
    try {
      const topic = uniqueName("per-key");
      await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
      const seen = new Map<string, number[]>();
      let running = 0;
      let most = 0;
      const subscription = await bus.subscribe({
        groupId: uniqueName("per-key"),
        topics: [topic],
        concurrency: 4,
        perKey: true,
        handler: async (item) => {
          most = Math.max(most, ++running);
          await delay(20);
          running--;
          const list = seen.get(item.key!) ?? [];
          list.push(Number(item.value));
          seen.set(item.key!, list);
        },
      });
      await bus.publish(
        topic,
        Array.from({ length: 24 }, (_, n) => ({ key: `k${n % 4}`, value: String(n) })),
      );
      await waitFor("24 records", () => [...seen.values()].flat().length >= 24);
      await subscription.close();
      assert.ok(most >= 3, `records of different keys ran at once (at most ${most})`);
      for (const [key, values] of seen) {
        assert.deepEqual(values, [...values].sort((a, b) => a - b), `key ${key} out of order`);
      }
    } finally {
      await bus.close();
    }
  },
});

// --- Against brokers of their own (started here, never the shared one) ---

Deno.test({
  name: "platformatic bus: SASL_SSL works with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const password = `Pw-${crypto.randomUUID().replaceAll("-", "")}`;
    const broker = await startBroker({
      ephemeral: true,
      port: 0,
      saslSsl: { users: [{ username: "arena", password }] },
      progress: () => {},
    });
    try {
      const caPem = await Deno.readTextFile(broker.saslSsl!.caFile);
      const lines: string[] = [];
      const open = (mechanism: SaslMechanism, secret = password) =>
        new PlatformaticKafkaBus({
          brokers: [broker.saslSsl!.bootstrap],
          clientId: uniqueName("sasl"),
          log: createLogger("test.sasl", { level: "debug", sink: (line) => lines.push(line) }),
          security: {
            protocol: "SASL_SSL",
            caPem,
            sasl: { mechanism, username: "arena", password: secret },
          },
        });
      for (const mechanism of ["scram-sha-256", "scram-sha-512", "plain"] as const) {
        const bus = open(mechanism);
        try {
          await bus.probe();
          const topic = uniqueName(`sasl.${mechanism}`);
          await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
          const received: string[] = [];
          const subscription = await bus.subscribe({
            groupId: uniqueName("sasl"),
            topics: [topic],
            handler: (item) => {
              received.push(item.value);
              return Promise.resolve();
            },
          });
          await bus.publish(topic, [{ key: "k", value: mechanism }]);
          await waitFor(`a record over ${mechanism}`, () => received.length === 1);
          await subscription.close();
          assert.deepEqual(received, [mechanism]);
        } finally {
          await bus.close();
        }
      }
      const wrong = open("scram-sha-512", "not-the-password");
      const started = performance.now();
      try {
        await assert.rejects(wrong.probe({ timeoutMs: 15_000 }), (error: unknown) => {
          assert.match(String(error), /SASL authentication failed for user "arena"/);
          return true;
        });
        assert.ok(performance.now() - started < 10_000, "a wrong password fails fast");
      } finally {
        await wrong.close();
      }
      assert.ok(!lines.some((line) => line.includes(password)), "the password is never logged");
    } finally {
      await broker.stop();
    }
  },
});

/** Kafka-only behaviour of KafkaBus that the shared contract cannot observe. */

import assert from "node:assert/strict";
import { type Admin, ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import type { Subscription } from "../../core/bus/bus.ts";
import { KafkaBus } from "../../core/bus/kafka/mod.ts";
import { createLogger } from "../../core/log.ts";
import { kafkaBootstrap, testKafkaBus, type TestKafkaBusOptions, uniqueName } from "../_kafka.ts";

/** A kafkajs admin client on the test broker, connected. */
async function connectedAdmin(): Promise<Admin> {
  const admin = new Kafka({
    clientId: uniqueName("inspect"),
    brokers: [kafkaBootstrap()],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return admin;
}

/** A test with a fresh test bus, closed afterwards even when the test fails. */
function busTest(
  name: string,
  body: (bus: KafkaBus) => Promise<void>,
  options: TestKafkaBusOptions = {},
): void {
  Deno.test({
    name,
    // kafkajs keeps socket reads and a few timers alive briefly after disconnect.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const bus = testKafkaBus(options);
      try {
        await body(bus);
      } finally {
        await bus.close();
      }
    },
  });
}

async function topicConfig(topic: string, name: string): Promise<string | undefined> {
  const admin = await connectedAdmin();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
    });
    return described.resources[0]?.configEntries.find((entry) => entry.configName === name)
      ?.configValue;
  } finally {
    await admin.disconnect();
  }
}

busTest(
  "kafka bus: ensureTopics sets the retention asked for (-1 keeps records forever)",
  async (bus) => {
    const forever = uniqueName("retention.forever");
    const day = uniqueName("retention.day");
    await bus.ensureTopics([
      { topic: forever, partitions: 2, retentionMs: -1 },
      { topic: day, partitions: 1, retentionMs: 86_400_000 },
    ]);
    assert.equal(await topicConfig(forever, "retention.ms"), "-1");
    assert.equal(await topicConfig(day, "retention.ms"), "86400000");
    assert.equal((await bus.endOffsets(forever)).size, 2);
  },
);

Deno.test({
  name: "kafka bus: a closed bus refuses work with a clear error",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bus = testKafkaBus();
    await bus.close();
    await assert.rejects(bus.publish(uniqueName("closed"), [{ value: "{}" }]), /Bus is closed/);
  },
});

Deno.test("kafka bus: a bus without brokers is refused at construction", () => {
  assert.throws(
    () => new KafkaBus({ brokers: [" , "], clientId: "none" }),
    /needs at least one broker as host:port, got none/,
  );
});

busTest(
  "kafka bus: a handler slower than the session timeout keeps its partition (no redelivery)",
  async (bus) => {
    // testKafkaBus uses a 6 s session timeout; the bus heartbeats while the handler runs.
    const topic = uniqueName("slow");
    await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
    const deliveries: string[] = [];
    const subscription = await bus.subscribe({
      groupId: uniqueName("slow"),
      topics: [topic],
      handler: async (record) => {
        deliveries.push(record.value);
        if (record.value === "slow") await new Promise((resolve) => setTimeout(resolve, 7_500));
      },
    });
    await bus.publish(topic, [{ value: "slow" }, { value: "next" }]);
    const deadline = Date.now() + 20_000;
    while (!deliveries.includes("next") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    await subscription.close();
    assert.deepEqual(deliveries, ["slow", "next"], "the slow record was delivered once");
  },
);

busTest(
  "kafka bus: concurrent publishes all arrive, in call order per key, across topics",
  async (bus) => {
    const existing = uniqueName("coalesce.existing");
    const fresh = uniqueName("coalesce.fresh");
    await bus.ensureTopics([{ topic: existing, partitions: 3, retentionMs: 600_000 }]);
    const callers = 40;
    const callsPerCaller = 10;
    const burst = 300;
    // Callers that each await their own publishes (like routers and nodes in one process).
    const awaited = Array.from({ length: callers }, async (_, caller) => {
      for (let call = 0; call < callsPerCaller; call++) {
        await bus.publish(existing, [
          { key: `caller-${caller}`, value: JSON.stringify({ caller, n: call * 2 }) },
          { key: `caller-${caller}`, value: JSON.stringify({ caller, n: call * 2 + 1 }) },
        ]);
      }
    });
    // A burst of calls not awaited one by one, alternating with a topic that does not exist
    // yet (those wait for its creation without overtaking one another).
    const burstCalls = Array.from(
      { length: burst },
      (_, index) =>
        bus.publish(index % 2 === 0 ? existing : fresh, [
          { key: `burst-${index % 6}`, value: JSON.stringify({ index }) },
        ]),
    );
    await Promise.all([...awaited, ...burstCalls]);

    const read = async (topic: string) => {
      const byKey = new Map<string, Record<string, number>[]>();
      await bus.readAll(topic, (record) => {
        const values = byKey.get(record.key ?? "") ?? [];
        values.push(JSON.parse(record.value));
        byKey.set(record.key ?? "", values);
        return Promise.resolve();
      });
      return byKey;
    };
    const onExisting = await read(existing);
    const onFresh = await read(fresh);
    for (let caller = 0; caller < callers; caller++) {
      assert.deepEqual(
        onExisting.get(`caller-${caller}`)?.map((value) => value.n),
        Array.from({ length: callsPerCaller * 2 }, (_, n) => n),
        `caller ${caller}'s records arrive once each, in order`,
      );
    }
    for (
      const [topic, byKey, parity] of [[existing, onExisting, 0], [fresh, onFresh, 1]] as const
    ) {
      for (let key = 0; key < 6; key++) {
        const expected = Array.from({ length: burst }, (_, index) => index)
          .filter((index) => index % 2 === parity && index % 6 === key);
        assert.deepEqual(
          byKey.get(`burst-${key}`)?.map((value) => value.index) ?? [],
          expected,
          `burst key ${key} on ${topic} arrives in call order`,
        );
      }
    }
    assert.equal(onFresh.size, 3, "only burst keys of odd calls reach the new topic");
  },
);

busTest(
  "kafka bus: a failed request rejects every publish coalesced into it; the bus goes on",
  async (bus) => {
    const topic = uniqueName("coalesce.fail");
    // A topic that takes record batches of at most 2,048 bytes: one 1,500-byte record fits,
    // two publishes sent in one request (same partition) do not.
    const admin = await connectedAdmin();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic,
          numPartitions: 1,
          configEntries: [{ name: "max.message.bytes", value: "2048" }],
        }],
      });
    } finally {
      await admin.disconnect();
    }
    const record = (
      name: string,
    ) => [{ key: "k", value: JSON.stringify({ name, pad: "x".repeat(1_500) }) }];
    await bus.publish(topic, record("alone"));
    const outcomes = await Promise.allSettled([
      bus.publish(topic, record("first")),
      bus.publish(topic, record("second")),
    ]);
    assert.equal(outcomes[0]!.status, "rejected", "the first caller of the failed request");
    assert.equal(outcomes[1]!.status, "rejected", "the second caller of the failed request");
    const reasons = outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason);
    assert.match(String(reasons[0]), /larger than the max message size/);
    assert.equal(reasons[0], reasons[1], "both callers get the request's error");
    await bus.publish(topic, record("after"));
    const names: string[] = [];
    await bus.readAll(topic, (stored) => {
      names.push(JSON.parse(stored.value).name);
      return Promise.resolve();
    });
    assert.deepEqual(names, ["alone", "after"]);
  },
  { log: createLogger("test.bus", { level: "error" }) },
);

busTest(
  "kafka bus: many subscriptions from now on, opened at once on new topics, all receive",
  async (bus) => {
    const subscriptions: Subscription[] = [];
    try {
      const count = 50;
      const topics = Array.from({ length: count }, () => uniqueName("many.inbox"));
      const received = topics.map(() => Promise.withResolvers<string>());
      const input = uniqueName("many.input");
      await bus.ensureTopics([{ topic: input, partitions: 1, retentionMs: 600_000 }]);
      // Like many agent routers starting at once on one bus: each creates its own topics, then
      // opens its reply inbox and its input subscription from now on, so topic creations
      // (metadata lookups) interleave with other routers' end-offset lookups. Starts spread over
      // a few tens of milliseconds.
      const opened = await Promise.allSettled(topics.map(async (topic, index) => {
        await new Promise((resolve) => setTimeout(resolve, (index * 7) % 60));
        await bus.ensureTopics([
          { topic: `${topic}.chat`, partitions: 1, retentionMs: 600_000 },
          { topic, partitions: 1, retentionMs: 600_000 },
        ]);
        const reply = await bus.subscribe({
          groupId: uniqueName("many.group"),
          topics: [topic],
          fromBeginning: false,
          handler: (record) => {
            received[index]!.resolve(record.value);
            return Promise.resolve();
          },
        });
        subscriptions.push(reply);
        return await bus.subscribe({
          groupId: uniqueName("many.input"),
          topics: [input],
          fromBeginning: false,
          handler: () => Promise.resolve(),
        });
      }));
      for (const outcome of opened) {
        if (outcome.status === "fulfilled") subscriptions.push(outcome.value);
      }
      const failures = opened.flatMap((outcome) =>
        outcome.status === "rejected" ? [String(outcome.reason)] : []
      );
      assert.deepEqual(failures, [], "every subscription opens");
      await Promise.all(
        topics.map((topic, index) => bus.publish(topic, [{ value: `reply-${index}` }])),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("Not every subscription received its record within 30 s")),
          30_000,
        );
      });
      try {
        const values = await Promise.race([
          Promise.all(received.map((entry) => entry.promise)),
          timeout,
        ]);
        assert.deepEqual(values, topics.map((_, index) => `reply-${index}`));
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    }
  },
);

busTest(
  "kafka bus: end-offset lookups made while topics are being created all succeed",
  async (bus) => {
    const existing = Array.from({ length: 20 }, () => uniqueName("race.existing"));
    await bus.ensureTopics(
      existing.map((topic) => ({ topic, partitions: 2, retentionMs: 600_000 })),
    );
    // Creating a topic looks up its metadata, which kafkajs answers by replacing its cached
    // metadata with that topic's alone; an end-offset lookup of another topic running at that
    // moment used to fail with "Cannot destructure property 'partitions' of 'low.pop(...)'".
    const spread = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
    const lookups: Promise<Map<number, string>>[] = [];
    const creations: Promise<void>[] = [];
    for (let round = 0; round < 3; round++) {
      for (let index = 0; index < 40; index++) {
        lookups.push(spread().then(() => bus.endOffsets(existing[index % existing.length]!)));
        creations.push(
          spread().then(() =>
            bus.ensureTopics([
              { topic: uniqueName("race.new"), partitions: 1, retentionMs: 600_000 },
            ])
          ),
        );
      }
      await Promise.all([...lookups, ...creations].map((call) => call.catch(() => {})));
    }
    const outcomes = await Promise.allSettled([...lookups, ...creations]);
    const failures = outcomes.flatMap((outcome) =>
      outcome.status === "rejected" ? [String(outcome.reason)] : []
    );
    assert.deepEqual(failures, [], "no lookup or creation fails");
    for (const offsets of await Promise.all(lookups)) {
      assert.deepEqual([...offsets.keys()].sort(), [0, 1], "each lookup names both partitions");
    }
  },
);

busTest("kafka bus: a compacted topic is created with cleanup.policy=compact", async (bus) => {
  const compacted = uniqueName("policy.compact");
  const plain = uniqueName("policy.delete");
  await bus.ensureTopics([
    { topic: compacted, partitions: 1, retentionMs: -1, cleanupPolicy: "compact" },
    { topic: plain, partitions: 1, retentionMs: 60_000 },
  ]);
  assert.equal(await topicConfig(compacted, "cleanup.policy"), "compact");
  assert.equal(await topicConfig(plain, "cleanup.policy"), "delete");
});

Deno.test("kafka bus: SASL security without credentials is refused at construction", () => {
  assert.throws(
    () =>
      new KafkaBus({
        brokers: ["127.0.0.1:9092"],
        clientId: "sasl",
        security: { protocol: "SASL_SSL" },
      }),
    /Security protocol SASL_SSL needs SASL credentials/,
  );
});

busTest(
  "kafka bus: finished records are committed in the background while the member runs",
  async (bus) => {
    const admin = await connectedAdmin();
    try {
      const topic = uniqueName("background-commit");
      const groupId = uniqueName("background-commit");
      await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
      let handled = 0;
      const subscription = await bus.subscribe({
        groupId,
        topics: [topic],
        handler: () => {
          handled++;
          return Promise.resolve();
        },
      });
      await bus.publish(topic, [{ value: "{}" }, { value: "{}" }, { value: "{}" }]);
      const deadline = Date.now() + 10_000;
      let committed = "-1";
      while (committed !== "3" && Date.now() < deadline) {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        committed = offsets?.partitions[0]?.offset ?? "-1";
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(handled, 3);
      assert.equal(committed, "3", "the group's offset moves past handled records before close");
      await subscription.close();
    } finally {
      await admin.disconnect();
    }
  },
);

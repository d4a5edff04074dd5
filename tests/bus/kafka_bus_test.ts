/** Kafka-only behaviour of KafkaBus that the shared contract cannot observe. */

import assert from "node:assert/strict";
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { KafkaBus } from "../../core/bus/kafka_bus.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";

async function topicConfig(topic: string, name: string): Promise<string | undefined> {
  const admin = new Kafka({
    clientId: uniqueName("inspect"),
    brokers: [kafkaBootstrap()],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
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

Deno.test({
  name: "kafka bus: ensureTopics sets the retention asked for (-1 keeps records forever)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bus = testKafkaBus();
    try {
      const forever = uniqueName("retention.forever");
      const day = uniqueName("retention.day");
      await bus.ensureTopics([
        { topic: forever, partitions: 2, retentionMs: -1 },
        { topic: day, partitions: 1, retentionMs: 86_400_000 },
      ]);
      assert.equal(await topicConfig(forever, "retention.ms"), "-1");
      assert.equal(await topicConfig(day, "retention.ms"), "86400000");
      assert.equal((await bus.endOffsets(forever)).size, 2);
    } finally {
      await bus.close();
    }
  },
});

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

Deno.test({
  name: "kafka bus: a handler slower than the session timeout keeps its partition (no redelivery)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // testKafkaBus uses a 6 s session timeout; the bus heartbeats while the handler runs.
    const bus = testKafkaBus();
    try {
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
    } finally {
      await bus.close();
    }
  },
});

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

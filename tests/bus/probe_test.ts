/** Bus probe on each Kafka client: a quick, quiet start-up check that a broker answers. */

import assert from "node:assert/strict";
import { BrokerUnreachableError } from "../../core/bus/kafka/mod.ts";
import { KAFKA_CLIENTS, openKafkaBus } from "../../core/bus/kafka_client.ts";
import { createLogger } from "../../core/log.ts";
import { freePort } from "../../scripts/_kafka_broker.ts";
import { testBusSettings, uniqueName } from "../_kafka.ts";

for (const client of KAFKA_CLIENTS) {
  Deno.test(`probe (${client}): no broker is a BrokerUnreachableError within the budget, logging nothing`, async () => {
    const lines: string[] = [];
    const address = `127.0.0.1:${freePort()}`;
    const bus = await openKafkaBus(
      client,
      testBusSettings({
        bootstrap: address,
        clientId: uniqueName("probe"),
        log: createLogger("test.probe", { level: "debug", sink: (line) => lines.push(line) }),
      }),
    );
    const started = performance.now();
    try {
      await assert.rejects(bus.probe({ timeoutMs: 1_000 }), (error: unknown) => {
        assert.ok(error instanceof BrokerUnreachableError);
        assert.equal(error.bootstrap, address);
        assert.match(
          error.message,
          /^No Kafka broker answers at 127\.0\.0\.1:\d+ — start one with/,
        );
        return true;
      });
      const ms = performance.now() - started;
      assert.ok(ms >= 900 && ms < 4_000, `tried for about the budget, took ${ms} ms`);
      assert.deepEqual(lines, [], "the probe logs nothing");
    } finally {
      await bus.close();
    }
  });

  Deno.test(`probe (${client}): a running broker answers at once and the bus works after it`, async () => {
    const bus = await openKafkaBus(client, testBusSettings({ clientId: uniqueName("probe") }));
    try {
      const started = performance.now();
      await bus.probe();
      assert.ok(performance.now() - started < 5_000);
      const topic = uniqueName("probe");
      await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
      await bus.publish(topic, [{ value: "hello" }]);
      const values: string[] = [];
      await bus.readAll(topic, (record) => {
        values.push(record.value);
        return Promise.resolve();
      });
      assert.deepEqual(values, ["hello"]);
    } finally {
      await bus.close();
    }
  });
}

/** A bus on each Kafka client rides out a broker restart: publishing and consuming resume. */

import assert from "node:assert/strict";
import { KAFKA_CLIENTS, openKafkaBus } from "../../core/bus/kafka_client.ts";
import { createLogger } from "../../core/log.ts";
import { freePort, type RunningBroker, startBroker } from "../../scripts/_kafka_broker.ts";
import { testBusSettings, uniqueName } from "../_kafka.ts";

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const client of KAFKA_CLIENTS) {
  Deno.test({
    name: `${client} bus: a consumer and a producer keep going after the broker restarts`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const port = freePort();
      const dataDir = await Deno.makeTempDir({ prefix: "arena-restart-" });
      const quiet = () => {};
      let broker: RunningBroker | undefined = await startBroker({ port, dataDir, progress: quiet });
      // The outage makes the client log connection errors; keep them out of the test output.
      const logLines: string[] = [];
      const bus = await openKafkaBus(
        client,
        testBusSettings({
          bootstrap: broker.bootstrap,
          clientId: uniqueName("restart"),
          log: createLogger("test.restart", {
            level: "debug",
            sink: (line) => logLines.push(line),
          }),
        }),
      );
      try {
        const topic = uniqueName("restart");
        await bus.ensureTopics([{ topic, partitions: 2, retentionMs: -1 }]);
        const received = new Set<number>();
        await bus.subscribe({
          groupId: uniqueName("restart"),
          topics: [topic],
          handler: (record) => {
            received.add((JSON.parse(record.value) as { n: number }).n);
            return Promise.resolve();
          },
        });
        const publish = (from: number) =>
          bus.publish(
            topic,
            Array.from({ length: 5 }, (_, index) => ({
              key: `k${index}`,
              value: JSON.stringify({ n: from + index }),
            })),
          );
        await publish(0);
        await waitFor("the first 5 records", () => received.size >= 5, 15_000);

        await broker.stop();
        // Publish while the broker is down: the producer retries until it is back.
        const duringOutage = publish(5);
        broker = await startBroker({ port, dataDir, progress: quiet });
        await duringOutage;
        await publish(10);
        await waitFor("all 15 records after the restart", () => received.size >= 15, 60_000);
        assert.deepEqual(
          [...received].sort((a, b) => a - b),
          Array.from({ length: 15 }, (_, n) => n),
        );
      } catch (error) {
        const interesting = logLines.filter((line) => !line.includes("ECONNREFUSED"));
        console.error(`Bus log before the failure:\n${interesting.slice(-60).join("\n")}`);
        throw error;
      } finally {
        await bus.close();
        await broker?.stop();
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
    },
  });
}

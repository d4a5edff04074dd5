import assert from "node:assert/strict";
import { encodeMessage } from "../../core/bus/messages.ts";
import { ReplayFeed } from "../../core/connector/replay.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import { testKafkaBus, uniqueName } from "../_kafka.ts";
import { mainFixture } from "../market/_fixtures.ts";
import { quietLog, waitFor } from "./_helpers.ts";

Deno.test("a replay on Kafka publishes snapshots that a consumer group receives", async () => {
  const bus = testKafkaBus();
  // Private topics: the test must not feed 2017 snapshots to agents on the shared broker.
  const topics = {
    snapshots: uniqueName("test.agent_router.input"),
    prices: uniqueName("test.arena.prices"),
    activity: uniqueName("test.arena.activity"),
  };
  const received = new Set<string>();
  const warmupSeconds = 5 * 3600 + 17 * 60;
  const expected = [...new CsvMarket(mainFixture(), { warmupSeconds }).ticks(5)].map((tick) =>
    encodeMessage(tick.snapshot)
  );
  try {
    await bus.ensureTopics([{ topic: topics.snapshots, partitions: 1, retentionMs: 3_600_000 }]);
    const subscription = await bus.subscribe({
      groupId: uniqueName("connector-test"),
      topics: [topics.snapshots],
      fromBeginning: false,
      handler: (record) => {
        received.add(record.value);
        return Promise.resolve();
      },
    });
    try {
      const result = await new ReplayFeed({
        bus,
        source: mainFixture(),
        maxTicks: 5,
        warmupSeconds,
        topics,
        log: quietLog(),
      }).run();
      assert.equal(result.ticks, 5);
      await waitFor(() => expected.every((value) => received.has(value)), {
        what: "the consumer to receive the 5 snapshots",
        timeoutMs: 20_000,
      });
    } finally {
      await subscription.close();
    }
  } finally {
    await bus.close();
  }
});

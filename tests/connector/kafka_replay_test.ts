import assert from "node:assert/strict";
import { encodeMessage } from "../../core/bus/messages.ts";
import { AGENT_INPUT_TOPIC } from "../../core/bus/topics.ts";
import { ReplayFeed } from "../../core/connector/replay.ts";
import { CsvMarket } from "../../core/market/csv_market.ts";
import { testKafkaBus, uniqueName } from "../_kafka.ts";
import { mainFixture } from "../market/_fixtures.ts";
import { quietLog, waitFor } from "./_helpers.ts";

Deno.test("a replay on Kafka publishes snapshots that a consumer group receives", async () => {
  const bus = testKafkaBus();
  const received = new Set<string>();
  const warmupSeconds = 5 * 3600 + 17 * 60;
  const expected = [...new CsvMarket(mainFixture(), { warmupSeconds }).ticks(5)].map((tick) =>
    encodeMessage(tick.snapshot)
  );
  try {
    const subscription = await bus.subscribe({
      groupId: uniqueName("connector-test"),
      topics: [AGENT_INPUT_TOPIC],
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

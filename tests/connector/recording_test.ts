import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { AGENT_INPUT_TOPIC } from "../../core/bus/topics.ts";
import type { MarketSnapshot } from "../../core/contracts/market.ts";
import { CoinbaseFeed } from "../../core/connector/coinbase_feed.ts";
import { Recorder } from "../../core/connector/recording.ts";
import { loadReplaySource, ReplayFeed } from "../../core/connector/replay.ts";
import { FakeExchange } from "../_fake_exchange.ts";
import { mainFixture } from "../market/_fixtures.ts";
import { quietLog, topicValues, waitFor } from "./_helpers.ts";

Deno.test("a recording replays to the same snapshots the live feed published", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/session.jsonl`;
  const exchange = FakeExchange.start({ products: mainFixture(), tickerIntervalMs: 20 });
  const liveBus = new MemoryBus();
  const recorder = await Recorder.create(path);
  const feed = new CoinbaseFeed({
    bus: liveBus,
    productIds: ["BTC-USD", "ETH-USD"],
    intervalSeconds: 0.15,
    wsUrl: exchange.wsUrl,
    restUrl: exchange.restUrl,
    restRequestsPerSecond: 200,
    recorder,
    log: quietLog(),
  });
  try {
    await feed.start();
    await waitFor(() => feed.snapshots >= 3, { what: "3 live snapshots" });
    await feed.close();
    recorder.close();
    const live = await topicValues<MarketSnapshot>(liveBus, AGENT_INPUT_TOPIC);

    const source = await loadReplaySource([path]);
    assert.ok(!Array.isArray(source), "detected as a recording");
    const replayBus = new MemoryBus();
    try {
      const result = await new ReplayFeed({ bus: replayBus, source, log: quietLog() }).run();
      const replayed = await topicValues<MarketSnapshot>(replayBus, AGENT_INPUT_TOPIC);
      assert.equal(result.ticks, live.length);
      assert.deepEqual(
        replayed.map((snapshot) => ({ ...snapshot, source: "live" })),
        live,
      );
    } finally {
      await replayBus.close();
    }
  } finally {
    await feed.close();
    await liveBus.close();
    await exchange.close();
    await Deno.remove(dir, { recursive: true });
  }
});

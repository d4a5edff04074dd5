import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { publishMessages, subscribeMessages } from "../../core/bus/messages.ts";
import { ACTIVITY_TOPIC, AGENT_INPUT_TOPIC, PRICE_TOPIC } from "../../core/bus/topics.ts";
import type { ActivityEvent } from "../../core/contracts/activity.ts";
import { MarketSnapshot } from "../../core/contracts/market.ts";
import { loadFixtureCandles, loadReplaySource, ReplayFeed } from "../../core/connector/replay.ts";
import { createLogger } from "../../core/log.ts";
import { mainFixture } from "../market/_fixtures.ts";
import { quietLog, topicValues } from "./_helpers.ts";

async function replayStream(maxTicks: number): Promise<string> {
  const bus = new MemoryBus();
  try {
    const result = await new ReplayFeed({ bus, source: mainFixture(), maxTicks, log: quietLog() })
      .run();
    assert.equal(result.ticks, maxTicks);
    const lines: string[] = [];
    for (const topic of [AGENT_INPUT_TOPIC, PRICE_TOPIC]) {
      await bus.readAll(topic, (record) => {
        lines.push(`${topic} ${record.partition} ${record.key} ${record.value}`);
        return Promise.resolve();
      });
    }
    return lines.join("\n");
  } finally {
    await bus.close();
  }
}

Deno.test("two replays of the same file publish byte-identical streams", async () => {
  const first = await replayStream(400);
  const second = await replayStream(400);
  assert.ok(first.length > 1_000_000, "the stream is substantial");
  assert.equal(first, second);
});

Deno.test("a CSV replay publishes one valid snapshot per market minute from tick 1", async () => {
  const bus = new MemoryBus();
  try {
    await new ReplayFeed({ bus, source: mainFixture(), maxTicks: 5, log: quietLog() }).run();
    const snapshots = (await topicValues<unknown>(bus, AGENT_INPUT_TOPIC)).map((value) =>
      MarketSnapshot.parse(value)
    );
    assert.deepEqual(snapshots.map((snapshot) => snapshot.tick), [1, 2, 3, 4, 5]);
    assert.deepEqual(
      snapshots.map((snapshot) => Date.parse(snapshot.time) / 1000 - 1504411200),
      [0, 60, 120, 180, 240],
    );
    const ticks = await topicValues<{ productId: string }>(bus, PRICE_TOPIC);
    assert.equal(ticks.length, 10);
  } finally {
    await bus.close();
  }
});

Deno.test("speed N paces a replay at N x real time", async () => {
  const bus = new MemoryBus();
  try {
    const started = Date.now();
    await new ReplayFeed({ bus, source: mainFixture(), maxTicks: 3, speed: 600, log: quietLog() })
      .run();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 190, `3 ticks of 60 s at 600x take >= 200 ms, took ${elapsed}`);
  } finally {
    await bus.close();
  }
});

function decision(agent: string, tick: number, time: string): ActivityEvent {
  return {
    v: 1,
    agent,
    time,
    tick,
    kind: "decision",
    steps: 1,
    outcome: "answered",
    skippedTicks: 0,
  };
}

Deno.test("lockstep waits for the slowest agent before the next tick", async () => {
  const bus = new MemoryBus();
  const order: string[] = [];
  const log = quietLog();
  const subscriptions = await Promise.all(
    [["fast", 0], ["slow", 80]].map(([agent, delayMs]) =>
      subscribeMessages(bus, {
        groupId: String(agent),
        topics: [AGENT_INPUT_TOPIC],
        schema: MarketSnapshot,
        log,
        handler: async (snapshot) => {
          if (agent === "fast") order.push(`snapshot ${snapshot.tick}`);
          await new Promise((resolve) => setTimeout(resolve, Number(delayMs)));
          order.push(`${agent} ${snapshot.tick}`);
          await publishMessages(bus, ACTIVITY_TOPIC, [{
            key: String(agent),
            message: decision(String(agent), snapshot.tick, snapshot.time),
          }]);
        },
      })
    ),
  );
  try {
    const started = Date.now();
    const result = await new ReplayFeed({
      bus,
      source: mainFixture(),
      maxTicks: 4,
      lockstep: { agents: ["fast", "slow"], timeoutMs: 5_000 },
      log,
    }).run();
    assert.equal(result.ticks, 4);
    assert.ok(Date.now() - started >= 4 * 80, "each tick waited for the slow agent");
    for (let tick = 1; tick < 4; tick++) {
      assert.ok(
        order.indexOf(`slow ${tick}`) < order.indexOf(`snapshot ${tick + 1}`),
        `tick ${tick + 1} came after the slow agent's decision on tick ${tick}: ${order}`,
      );
    }
  } finally {
    for (const subscription of subscriptions) await subscription.close();
    await bus.close();
  }
});

Deno.test("lockstep moves on after the timeout and names the late agents", async () => {
  const bus = new MemoryBus();
  const lines: string[] = [];
  const log = createLogger("test", { level: "warn", sink: (line) => lines.push(line) });
  try {
    const started = Date.now();
    const result = await new ReplayFeed({
      bus,
      source: mainFixture(),
      maxTicks: 2,
      lockstep: { agents: ["absent"], timeoutMs: 50 },
      log,
    }).run();
    assert.equal(result.ticks, 2);
    assert.ok(Date.now() - started >= 100);
    const late = lines.map((line) => JSON.parse(line)).filter((line) =>
      line.message.startsWith("Lockstep timeout")
    );
    assert.deepEqual(late.map((line) => [line.tick, line.late]), [[1, ["absent"]], [2, [
      "absent",
    ]]]);
  } finally {
    await bus.close();
  }
});

Deno.test("replay input is detected by content with clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/BTC-USD-1m.csv`, "time,low,high,open,close,volume\n60,1");
    await assert.rejects(
      () => loadReplaySource([`${dir}/BTC-USD-1m.csv`]),
      /BTC-USD line 2: expected 6/,
    );
    await Deno.writeTextFile(`${dir}/rec.jsonl`, '{"type":"start"}\n');
    await assert.rejects(() => loadReplaySource([`${dir}/rec.jsonl`]), /Recording line 1/);
    const fixtures = new URL("../../fixtures/market/", import.meta.url).pathname;
    const source = await loadReplaySource([fixtures]);
    assert.ok(Array.isArray(source));
    assert.deepEqual(source.map((product) => product.productId), ["BTC-USD", "ETH-USD"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the bundled fixture sets load with their products", async () => {
  const main = await loadFixtureCandles();
  assert.deepEqual(main.map((product) => product.productId), ["BTC-USD", "ETH-USD"]);
  const alt = await loadFixtureCandles("alt-2018-04-05");
  assert.deepEqual(alt.map((product) => product.productId), ["BTC-USD", "ETH-USD", "LTC-USD"]);
  assert.equal(alt[2]!.candles.length, 1439);
});

import assert from "node:assert/strict";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { publishMessages } from "../../core/bus/messages.ts";
import {
  ARENA_TOPICS,
  DEAD_LETTER_TOPIC,
  LEDGER_TOPIC,
  PRICE_TOPIC,
} from "../../core/bus/topics.ts";
import { createLogger } from "../../core/log.ts";
import {
  connectDashboard,
  DashboardStore,
  readDashboardState,
} from "../../core/dashboard/store.ts";
import { buildDashboardView } from "../../core/dashboard/view.ts";
import { sampleLedger, samplePrices, scalperSell } from "./_fixtures.ts";

async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function sampleBus(): Promise<MemoryBus> {
  const bus = new MemoryBus();
  await bus.ensureTopics(ARENA_TOPICS);
  await publishMessages(
    bus,
    LEDGER_TOPIC,
    sampleLedger().map((event) => ({ key: event.agent, message: event })),
  );
  await publishMessages(
    bus,
    PRICE_TOPIC,
    samplePrices().map((tick) => ({ key: tick.productId, message: tick })),
  );
  return bus;
}

Deno.test("two dashboards each rebuild everything from the beginning, then follow live", async () => {
  const bus = await sampleBus();
  const log = createLogger("test", { level: "error" });
  const first = new DashboardStore();
  const second = new DashboardStore();
  const subscriptions = [
    await connectDashboard(bus, first, { log }),
    await connectDashboard(bus, second, { log }),
  ];
  try {
    for (const store of [first, second]) {
      await waitFor("catching up", () => store.state.status === "live");
      assert.equal(store.state.counts.ledger, sampleLedger().length);
      assert.equal(store.state.counts.prices, samplePrices().length);
    }
    let changes = 0;
    const stop = first.onChange(() => changes++);
    await publishMessages(bus, LEDGER_TOPIC, [{
      key: "scalper",
      message: scalperSell({ quantity: "1000" }),
    }]);
    await waitFor("the live trade", () => first.state.trades.length === 5);
    await waitFor("the live trade", () => second.state.trades.length === 5);
    assert.equal(changes, 1);
    stop();
  } finally {
    for (const subscription of subscriptions) await subscription.close();
    await bus.close();
  }
});

Deno.test("an invalid record is logged and skipped; the read-only dashboard publishes nothing", async () => {
  const bus = await sampleBus();
  await bus.publish(LEDGER_TOPIC, [{ key: "momentum", value: '{"type":"trade_executed"}' }]);
  await bus.publish(PRICE_TOPIC, [{ key: "BTC-USD", value: "not json" }]);
  const warnings: string[] = [];
  const log = createLogger("test", { level: "warn", sink: (line) => warnings.push(line) });
  const store = new DashboardStore();
  const subscription = await connectDashboard(bus, store, { log });
  try {
    await waitFor("catching up", () => store.state.status === "live");
    assert.equal(store.state.counts.ledger, sampleLedger().length);
    assert.equal(warnings.filter((line) => line.includes("Skipping invalid message")).length, 2);
    const deadLetters = [...(await bus.endOffsets(DEAD_LETTER_TOPIC)).values()];
    assert.ok(deadLetters.every((end) => end === "0"), "nothing dead-lettered by a reader");
  } finally {
    await subscription.close();
    await bus.close();
  }
});

Deno.test("an empty arena is live at once", async () => {
  const bus = new MemoryBus();
  const store = new DashboardStore();
  const subscription = await connectDashboard(bus, store, {
    log: createLogger("test", { level: "error" }),
  });
  try {
    assert.equal(store.state.status, "live");
    assert.deepEqual(buildDashboardView(store.state).agents, []);
  } finally {
    await subscription.close();
    await bus.close();
  }
});

Deno.test("readDashboardState reads every topic to its end and marks the run finished", async () => {
  const bus = await sampleBus();
  try {
    const state = await readDashboardState(bus, {
      log: createLogger("test", { level: "error" }),
    });
    assert.equal(state.status, "finished");
    assert.equal(state.trades.length, 4);
    const view = buildDashboardView(state);
    assert.deepEqual(view.agents.map((agent) => agent.name), [
      "momentum",
      "brainrot-daytrader",
      "scalper",
    ]);
  } finally {
    await bus.close();
  }
});

Deno.test("a dashboard started first creates the arena topics with their real specs", async () => {
  const created: string[] = [];
  const bus = new MemoryBus();
  const ensure = bus.ensureTopics.bind(bus);
  bus.ensureTopics = (specs) => {
    created.push(...specs.map((spec) => `${spec.topic}:${spec.partitions}:${spec.retentionMs}`));
    return ensure(specs);
  };
  const subscription = await connectDashboard(bus, new DashboardStore(), {
    log: createLogger("test", { level: "error" }),
  });
  try {
    assert.ok(created.includes(`${LEDGER_TOPIC}:6:-1`), created.join(", "));
    assert.ok(created.some((entry) => entry.startsWith(`${PRICE_TOPIC}:3:`)));
  } finally {
    await subscription.close();
    await bus.close();
  }
});

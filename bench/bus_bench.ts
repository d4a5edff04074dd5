/**
 * Bus benchmark: request/reply round trip and sustained publish throughput of 1 KB JSON
 * messages, on Kafka at $KAFKA_BOOTSTRAP_SERVERS (127.0.0.1) and on the in-memory bus; then the
 * Kafka bus before and after its two fixes, side by side in one run: offsets committed per
 * batch (kafkajs' way) vs in the background, and the idle CPU of 100 subscriptions with
 * kafkajs' request-queue timer unpatched vs patched. Run through `deno task bench`, which
 * provides the broker; `--compare` runs only the before/after table. Prints markdown tables.
 */

import process from "node:process";
import type { Bus } from "../core/bus/bus.ts";
import { KafkaBus } from "../core/bus/kafka/mod.ts";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import { createLogger } from "../core/log.ts";
import { patchRequestQueue, unpatchRequestQueue } from "../core/bus/kafka/request_queue_patch.ts";
import {
  BATCH_SIZE,
  BATCHED_MESSAGES,
  type Comparison,
  comparisonRow,
  kafkaBootstrapOrExit,
  measureBatchedPublish,
  measureConsume,
  measureRoundTrips,
  openRoundTripper,
  PAYLOAD,
  percentile,
  ROUND_TRIPS,
  WARM_UP,
  withLimit as withPhaseLimit,
} from "./_bus_measures.ts";
const SINGLE_MESSAGES = 2_000;
/** Publishers running at once, each awaiting one message at a time (like routers and nodes). */
const CONCURRENT_PUBLISHERS = 50;
const CONCURRENT_MESSAGES = 10_000;
/** Upper bound for any one phase, so a stuck broker cannot hang the benchmark. */
const PHASE_LIMIT_MS = 180_000;

const log = createLogger("bench.bus", { level: "error" });

interface Figures {
  rttP50: number;
  rttP99: number;
  rttMean: number;
  batchedPerSecond: number;
  singlePerSecond: number;
  concurrentPerSecond: number;
  consumePerSecond: number;
}

function withLimit<T>(what: string, work: Promise<T>): Promise<T> {
  return withPhaseLimit(what, work, PHASE_LIMIT_MS);
}

async function measureSingle(bus: Bus, topic: string): Promise<number> {
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 3_600_000 }]);
  await bus.publish(topic, [{ key: "warm-up", value: PAYLOAD }]);
  const started = performance.now();
  for (let sent = 0; sent < SINGLE_MESSAGES; sent++) {
    await bus.publish(topic, [{ key: `product-${sent % 16}`, value: PAYLOAD }]);
  }
  return SINGLE_MESSAGES / ((performance.now() - started) / 1000);
}

async function measureConcurrent(bus: Bus, topic: string): Promise<number> {
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 3_600_000 }]);
  await bus.publish(topic, [{ key: "warm-up", value: PAYLOAD }]);
  const perPublisher = CONCURRENT_MESSAGES / CONCURRENT_PUBLISHERS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENT_PUBLISHERS }, async (_, publisher) => {
      for (let sent = 0; sent < perPublisher; sent++) {
        await bus.publish(topic, [{ key: `publisher-${publisher}`, value: PAYLOAD }]);
      }
    }),
  );
  return CONCURRENT_MESSAGES / ((performance.now() - started) / 1000);
}

async function measure(bus: Bus, name: string): Promise<Figures> {
  const run = `${name}.${crypto.randomUUID().slice(0, 8)}`;
  try {
    const { samples } = await withLimit("round trips", measureRoundTrips(bus, run, log));
    const batchedTopic = `bench.${run}.batched`;
    const batchedPerSecond = await withLimit(
      "batched publish",
      measureBatchedPublish(bus, batchedTopic),
    );
    const singlePerSecond = await withLimit(
      "one-at-a-time publish",
      measureSingle(bus, `bench.${run}.single`),
    );
    const concurrentPerSecond = await withLimit(
      "concurrent publish",
      measureConcurrent(bus, `bench.${run}.concurrent`),
    );
    const consumePerSecond = await withLimit("consume", measureConsume(bus, batchedTopic, run));
    return {
      rttP50: percentile(samples, 50),
      rttP99: percentile(samples, 99),
      rttMean: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
      batchedPerSecond,
      singlePerSecond,
      concurrentPerSecond,
      consumePerSecond,
    };
  } finally {
    await bus.close();
  }
}

/** Subscriptions kept idle while CPU time is measured. */
const IDLE_SUBSCRIPTIONS = 100;
/** How long the idle CPU is measured. */
const IDLE_WINDOW_MS = 5_000;

/**
 * Round trips (sorted ms) on two Kafka buses, offsets committed per batch and in the
 * background, taken in turns so both see the same machine load.
 */
async function compareRoundTrips(
  bootstrap: string,
): Promise<{ perBatch: number[]; background: number[] }> {
  const modes = ["background", "per-batch"] as const;
  const buses = modes.map((commitMode) =>
    new KafkaBus({ brokers: [bootstrap], clientId: `bus-bench.${commitMode}`, log, commitMode })
  );
  try {
    const id = crypto.randomUUID().slice(0, 8);
    const trippers = await Promise.all(
      buses.map((bus, index) => openRoundTripper(bus, `${modes[index]}.${id}`, log)),
    );
    const samples: number[][] = [[], []];
    for (let index = 0; index < WARM_UP + ROUND_TRIPS; index++) {
      for (const [which, tripper] of trippers.entries()) {
        const sample = await withLimit("round trip", tripper.once());
        if (index >= WARM_UP) samples[which]!.push(sample);
      }
    }
    await Promise.all(trippers.map((tripper) => tripper.close()));
    const [background, perBatch] = samples.map((list) => list.sort((a, b) => a - b));
    return { perBatch: perBatch!, background: background! };
  } finally {
    await Promise.all(buses.map((bus) => bus.close()));
  }
}

/** CPU share of one core used by idle subscriptions on a Kafka bus over the idle window. */
async function idleCpuShare(bootstrap: string, patched: boolean): Promise<number> {
  const bus = new KafkaBus({ brokers: [bootstrap], clientId: "bus-bench.idle", log });
  // Connections open on first use, so a bus unpatched right after construction runs unpatched.
  if (!patched) unpatchRequestQueue();
  try {
    const topic = `bench.idle.${crypto.randomUUID().slice(0, 8)}`;
    await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 3_600_000 }]);
    await withLimit(
      "idle subscriptions",
      Promise.all(Array.from({ length: IDLE_SUBSCRIPTIONS }, (_, index) =>
        bus.subscribe({
          groupId: `${topic}.${index}`,
          topics: [topic],
          handler: () => Promise.resolve(),
        }))),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1_000 / (performance.now() - started);
  } finally {
    await bus.close();
    patchRequestQueue();
  }
}

const bootstrap = kafkaBootstrapOrExit();

const { perBatch, background } = await compareRoundTrips(bootstrap);
const idleUnpatched = await idleCpuShare(bootstrap, false);
const idlePatched = await idleCpuShare(bootstrap, true);

console.log("### Kafka bus before/after (kafkajs on Kafka at 127.0.0.1)\n");
console.log("| Measure | Before | After | Gain |");
console.log("|---|---:|---:|---:|");
console.log(comparisonRow(
  `Request/reply round trip p50 (ms, n=${ROUND_TRIPS}), commit per batch -> in background`,
  {
    first: percentile(perBatch, 50),
    second: percentile(background, 50),
    better: "lower",
    digits: 2,
    ratioDigits: 1,
  },
));
console.log(comparisonRow(
  `Request/reply round trip p99 (ms, n=${ROUND_TRIPS}), commit per batch -> in background`,
  {
    first: percentile(perBatch, 99),
    second: percentile(background, 99),
    better: "lower",
    digits: 2,
    ratioDigits: 1,
  },
));
console.log(comparisonRow(
  `CPU of ${IDLE_SUBSCRIPTIONS} idle subscriptions (% of a core over ${
    IDLE_WINDOW_MS / 1000
  } s), ` +
    "request-queue timers unpatched -> patched",
  {
    first: idleUnpatched * 100,
    second: idlePatched * 100,
    better: "lower",
    digits: 1,
    ratioDigits: 1,
  },
));
if (Deno.args.includes("--compare")) Deno.exit(0);
console.log();

const kafka = await measure(
  new KafkaBus({ brokers: [bootstrap], clientId: "bus-bench", log }),
  "kafka",
);
const memory = await measure(new MemoryBus(), "memory");

const latency: Omit<Comparison, "first" | "second"> = {
  better: "lower",
  digits: [2, 3],
  ratioDigits: 0,
};
const rate: Omit<Comparison, "first" | "second"> = { better: "higher", digits: 0, ratioDigits: 1 };
const rows = [
  comparisonRow(`Request/reply round trip p50 (ms, n=${ROUND_TRIPS})`, {
    first: kafka.rttP50,
    second: memory.rttP50,
    ...latency,
  }),
  comparisonRow(`Request/reply round trip p99 (ms, n=${ROUND_TRIPS})`, {
    first: kafka.rttP99,
    second: memory.rttP99,
    ...latency,
  }),
  comparisonRow(`Publish 1 KB JSON, batches of ${BATCH_SIZE} (msg/s, n=${BATCHED_MESSAGES})`, {
    first: kafka.batchedPerSecond,
    second: memory.batchedPerSecond,
    ...rate,
  }),
  comparisonRow(`Publish 1 KB JSON, one awaited at a time (msg/s, n=${SINGLE_MESSAGES})`, {
    first: kafka.singlePerSecond,
    second: memory.singlePerSecond,
    ...rate,
  }),
  comparisonRow(
    `Publish 1 KB JSON, ${CONCURRENT_PUBLISHERS} publishers each awaiting one at a time ` +
      `(msg/s, n=${CONCURRENT_MESSAGES})`,
    { first: kafka.concurrentPerSecond, second: memory.concurrentPerSecond, ...rate },
  ),
  comparisonRow(`Consume 1 KB JSON, one group (msg/s, n=${BATCHED_MESSAGES + 1})`, {
    first: kafka.consumePerSecond,
    second: memory.consumePerSecond,
    ...rate,
  }),
];
console.log("### Bus (kafkajs on Kafka at 127.0.0.1 vs in-memory)\n");
console.log("| Measure | Kafka | Memory | Memory advantage |");
console.log("|---|---:|---:|---:|");
for (const row of rows) console.log(row);
console.log(
  `\nKafka: idempotent producer, acks=all, single broker at ${bootstrap}; ` +
    `1 KB = ${PAYLOAD.length} bytes of JSON per message.`,
);

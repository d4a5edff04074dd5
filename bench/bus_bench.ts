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

function format(value: number, digits: number): string {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
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

const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS");
if (!bootstrap) {
  console.error("KAFKA_BOOTSTRAP_SERVERS is not set: run `deno task bench`, which starts a broker");
  Deno.exit(1);
}

const { perBatch, background } = await compareRoundTrips(bootstrap);
const idleUnpatched = await idleCpuShare(bootstrap, false);
const idlePatched = await idleCpuShare(bootstrap, true);

function compareRow(measure: string, before: number, after: number, unit: string): string {
  const digits = unit === "%" ? 1 : 2;
  return `| ${measure} | ${format(before, digits)} | ${format(after, digits)} | ` +
    `${format(before / after, 1)}x |`;
}

console.log("### Kafka bus before/after (kafkajs on Kafka at 127.0.0.1)\n");
console.log("| Measure | Before | After | Gain |");
console.log("|---|---:|---:|---:|");
console.log(compareRow(
  `Request/reply round trip p50 (ms, n=${ROUND_TRIPS}), commit per batch -> in background`,
  percentile(perBatch, 50),
  percentile(background, 50),
  "ms",
));
console.log(compareRow(
  `Request/reply round trip p99 (ms, n=${ROUND_TRIPS}), commit per batch -> in background`,
  percentile(perBatch, 99),
  percentile(background, 99),
  "ms",
));
console.log(compareRow(
  `CPU of ${IDLE_SUBSCRIPTIONS} idle subscriptions (% of a core over ${
    IDLE_WINDOW_MS / 1000
  } s), ` +
    "request-queue timers unpatched -> patched",
  idleUnpatched * 100,
  idlePatched * 100,
  "%",
));
if (Deno.args.includes("--compare")) Deno.exit(0);
console.log();

const kafka = await measure(
  new KafkaBus({ brokers: [bootstrap], clientId: "bus-bench", log }),
  "kafka",
);
const memory = await measure(new MemoryBus(), "memory");

const rows: [string, string, string, string][] = [
  [
    `Request/reply round trip p50 (ms, n=${ROUND_TRIPS})`,
    format(kafka.rttP50, 2),
    format(memory.rttP50, 3),
    `${format(kafka.rttP50 / memory.rttP50, 0)}x`,
  ],
  [
    `Request/reply round trip p99 (ms, n=${ROUND_TRIPS})`,
    format(kafka.rttP99, 2),
    format(memory.rttP99, 3),
    `${format(kafka.rttP99 / memory.rttP99, 0)}x`,
  ],
  [
    `Publish 1 KB JSON, batches of ${BATCH_SIZE} (msg/s, n=${BATCHED_MESSAGES})`,
    format(kafka.batchedPerSecond, 0),
    format(memory.batchedPerSecond, 0),
    `${format(memory.batchedPerSecond / kafka.batchedPerSecond, 1)}x`,
  ],
  [
    `Publish 1 KB JSON, one awaited at a time (msg/s, n=${SINGLE_MESSAGES})`,
    format(kafka.singlePerSecond, 0),
    format(memory.singlePerSecond, 0),
    `${format(memory.singlePerSecond / kafka.singlePerSecond, 1)}x`,
  ],
  [
    `Publish 1 KB JSON, ${CONCURRENT_PUBLISHERS} publishers each awaiting one at a time ` +
    `(msg/s, n=${CONCURRENT_MESSAGES})`,
    format(kafka.concurrentPerSecond, 0),
    format(memory.concurrentPerSecond, 0),
    `${format(memory.concurrentPerSecond / kafka.concurrentPerSecond, 1)}x`,
  ],
  [
    `Consume 1 KB JSON, one group (msg/s, n=${BATCHED_MESSAGES + 1})`,
    format(kafka.consumePerSecond, 0),
    format(memory.consumePerSecond, 0),
    `${format(memory.consumePerSecond / kafka.consumePerSecond, 1)}x`,
  ],
];
console.log("### Bus (kafkajs on Kafka at 127.0.0.1 vs in-memory)\n");
console.log("| Measure | Kafka | Memory | Memory advantage |");
console.log("|---|---:|---:|---:|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
console.log(
  `\nKafka: idempotent producer, acks=all, single broker at ${bootstrap}; ` +
    `1 KB = ${PAYLOAD.length} bytes of JSON per message.`,
);

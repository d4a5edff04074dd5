/** Measurements shared by the bus benchmarks: round trips, publish and consume rates, idle CPU. */

import process from "node:process";
import { z } from "zod";
import type { Bus, Subscription } from "../core/bus/bus.ts";
import { ReplyInbox, serveRequests } from "../core/bus/request_reply.ts";
import type { Logger } from "../core/log.ts";

/** Round trips measured per run, after the warm-up ones. */
export const ROUND_TRIPS = 500;
/** Round trips made first and not counted. */
export const WARM_UP = 25;
/** Messages of the batched publish and of the consume that reads them back. */
export const BATCHED_MESSAGES = 20_000;
/** Messages per batched publish call. */
export const BATCH_SIZE = 500;

/** One 1 KB JSON message, shaped like a price tick. */
export const PAYLOAD: string = oneKilobyteMessage();

function oneKilobyteMessage(): string {
  const base = {
    v: 1,
    kind: "bench",
    product: "BTC-USD",
    bestBid: "64123.45",
    bestAsk: "64123.46",
    time: "2024-01-01T00:00:00.000Z",
    padding: "",
  };
  const overhead = JSON.stringify(base).length;
  return JSON.stringify({ ...base, padding: "x".repeat(1024 - overhead) });
}

/** The broker address of `deno task bench`; without one, prints how to get it and exits. */
export function kafkaBootstrapOrExit(): string {
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS");
  if (!bootstrap) {
    console.error(
      "KAFKA_BOOTSTRAP_SERVERS is not set: run `deno task bench`, which starts a broker",
    );
    Deno.exit(1);
  }
  return bootstrap;
}

/** A number with exactly `digits` decimals and thousands separators, for the tables. */
export function format(value: number, digits: number): string {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Two figures of one measure, and which way is better. */
export interface Comparison {
  /** The figure compared against (before, or the first client). */
  first: number;
  /** The figure whose advantage is shown. */
  second: number;
  /** `lower` for times and CPU, `higher` for rates. */
  better: "lower" | "higher";
  /** Decimals of both figures, or of each. */
  digits: number | readonly [number, number];
  /** Decimals of the advantage. */
  ratioDigits: number;
}

/** A markdown table row: the measure, both figures, and how many times better the second is. */
export function comparisonRow(measure: string, comparison: Comparison): string {
  const { first, second, digits } = comparison;
  const [firstDigits, secondDigits] = typeof digits === "number" ? [digits, digits] : digits;
  const advantage = comparison.better === "lower" ? first / second : second / first;
  return `| ${measure} | ${format(first, firstDigits)} | ${format(second, secondDigits)} | ` +
    `${format(advantage, comparison.ratioDigits)}x |`;
}

/** The p-th percentile of ascending samples (NaN when there are none). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** Runs one phase, failing it after `limitMs` so a stuck broker cannot hang the benchmark. */
export async function withLimit<T>(what: string, work: Promise<T>, limitMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A request/reply pair on one bus: a server and an inbox, timing one round trip at a time. */
export interface RoundTripper {
  /** Sends one request and resolves with the ms until its reply arrived. */
  once(): Promise<number>;
  /** Closes the inbox and the server. */
  close(): Promise<void>;
}

/** Opens a request server and a reply inbox on topics named after `run`. */
export async function openRoundTripper(bus: Bus, run: string, log: Logger): Promise<RoundTripper> {
  const requestTopic = `bench.${run}.request`;
  const replyTopic = `bench.${run}.reply`;
  await bus.ensureTopics([
    { topic: requestTopic, partitions: 3, retentionMs: 3_600_000 },
    { topic: replyTopic, partitions: 3, retentionMs: 3_600_000 },
  ]);
  const server = await serveRequests(bus, {
    groupId: `bench.${run}.server`,
    topic: requestTopic,
    schema: z.object({ correlationId: z.string(), replyTo: z.string() }),
    log,
    concurrency: 3,
    handle: (request) =>
      Promise.resolve({
        replyTo: request.replyTo,
        key: request.correlationId,
        reply: { correlationId: request.correlationId, ok: true },
      }),
  });
  const inbox = await ReplyInbox.open(bus, { replyTopic, groupId: `bench.${run}.inbox`, log });
  return {
    once: async () => {
      const correlationId = crypto.randomUUID();
      const started = performance.now();
      const reply = inbox.expect(correlationId, 10_000);
      await bus.publish(requestTopic, [{
        key: correlationId,
        value: JSON.stringify({ correlationId, replyTo: replyTopic }),
      }]);
      await reply;
      return performance.now() - started;
    },
    close: async () => {
      await inbox.close();
      await server.close();
    },
  };
}

/** Ascending round-trip samples (ms) and the process CPU time (ms) they took. */
export async function measureRoundTrips(
  bus: Bus,
  run: string,
  log: Logger,
): Promise<{ samples: number[]; cpuMs: number }> {
  const tripper = await openRoundTripper(bus, run, log);
  const samples: number[] = [];
  let cpuBefore = process.cpuUsage();
  try {
    for (let index = 0; index < WARM_UP + ROUND_TRIPS; index++) {
      if (index === WARM_UP) cpuBefore = process.cpuUsage();
      const sample = await tripper.once();
      if (index >= WARM_UP) samples.push(sample);
    }
  } finally {
    await tripper.close();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { samples: samples.sort((a, b) => a - b), cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Messages per second published in batches of {@linkcode BATCH_SIZE}, each call awaited. */
export async function measureBatchedPublish(bus: Bus, topic: string): Promise<number> {
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 3_600_000 }]);
  // Warm the producer and topic metadata.
  await bus.publish(topic, [{ key: "warm-up", value: PAYLOAD }]);
  const started = performance.now();
  for (let sent = 0; sent < BATCHED_MESSAGES; sent += BATCH_SIZE) {
    await bus.publish(
      topic,
      Array.from({ length: BATCH_SIZE }, (_, index) => ({
        key: `product-${(sent + index) % 16}`,
        value: PAYLOAD,
      })),
    );
  }
  return BATCHED_MESSAGES / ((performance.now() - started) / 1000);
}

/** Messages per second one new group reads back of what {@linkcode measureBatchedPublish} wrote. */
export async function measureConsume(bus: Bus, topic: string, run: string): Promise<number> {
  const expected = BATCHED_MESSAGES + 1;
  let received = 0;
  const { promise: done, resolve } = Promise.withResolvers<void>();
  const started = performance.now();
  const subscription = await bus.subscribe({
    groupId: `bench.${run}.consume`,
    topics: [topic],
    concurrency: 3,
    handler: () => {
      if (++received === expected) resolve();
      return Promise.resolve();
    },
  });
  try {
    await done;
    return expected / ((performance.now() - started) / 1000);
  } finally {
    await subscription.close();
  }
}

/** Options for {@linkcode measureIdleCpu}. */
export interface IdleCpuOptions {
  /** How many subscriptions wait for records. */
  subscriptions: number;
  /** How many are started at once. */
  parallelism: number;
  /** Pause after the last join before measuring. */
  settleMs: number;
  /** How long the CPU time is measured. */
  windowMs: number;
}

/** Process CPU (% of one core) while idle subscriptions wait, and how long they took to start. */
export async function measureIdleCpu(
  bus: Bus,
  topic: string,
  options: IdleCpuOptions,
): Promise<{ percent: number; subscribeMs: number }> {
  await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 3_600_000 }]);
  const subscriptions: Subscription[] = [];
  const started = performance.now();
  try {
    for (let first = 0; first < options.subscriptions; first += options.parallelism) {
      const count = Math.min(options.parallelism, options.subscriptions - first);
      subscriptions.push(
        ...await Promise.all(Array.from({ length: count }, (_, index) =>
          bus.subscribe({
            groupId: `${topic}.${first + index}`,
            topics: [topic],
            handler: () => Promise.resolve(),
          }))),
      );
    }
    const subscribeMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const before = process.cpuUsage();
    const windowStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.windowMs));
    const used = process.cpuUsage(before);
    const elapsedUs = (performance.now() - windowStarted) * 1000;
    return { percent: ((used.user + used.system) / elapsedUs) * 100, subscribeMs };
  } finally {
    await Promise.all(subscriptions.map((subscription) => subscription.close()));
  }
}

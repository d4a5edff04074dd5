/**
 * Kafka client benchmark: the kafkajs bus (KafkaBus) against the @platformatic/kafka bus
 * (PlatformaticKafkaBus) on the same broker at $KAFKA_BOOTSTRAP_SERVERS, in one run: request/reply
 * round trip, batched publish throughput of 1 KB JSON, consume throughput, and the idle CPU of
 * 100 subscriptions. Each client runs in its own child process, so timers one client leaves
 * behind cannot bill the other; `--rounds N` alternates the clients N times and reports medians.
 * Run through `deno task bench kafka_clients`, or with a broker up:
 * `deno run -A bench/kafka_clients_bench.ts --rounds 3`. Prints a markdown table; `--json` prints
 * one JSON line per client instead.
 */

import { z } from "zod";
import type { Bus } from "../core/bus/bus.ts";
import { KafkaBus } from "../core/bus/kafka/mod.ts";
import { PlatformaticKafkaBus } from "../core/bus/platformatic/mod.ts";
import { createLogger } from "../core/log.ts";
import {
  BATCH_SIZE,
  BATCHED_MESSAGES,
  comparisonRow,
  kafkaBootstrapOrExit,
  measureBatchedPublish,
  measureConsume,
  measureIdleCpu,
  measureRoundTrips,
  PAYLOAD,
  percentile,
  ROUND_TRIPS,
  withLimit as withPhaseLimit,
} from "./_bus_measures.ts";
const IDLE_SUBSCRIPTIONS = 100;
const IDLE_MEASURE_MS = 5_000;
/** Subscriptions started at once while setting up the idle phase. */
const SUBSCRIBE_PARALLELISM = 10;
/** Upper bound for any one phase, so a stuck broker cannot hang the benchmark. */
const PHASE_LIMIT_MS = 300_000;

const CLIENTS = ["kafkajs", "platformatic"] as const;
type Client = typeof CLIENTS[number];

const log = createLogger("bench.kafka_clients", { level: "error" });

/** What one client measured; parsed from its child process's last output line. */
const Figures = z.object({
  client: z.enum(CLIENTS),
  rttP50Ms: z.number(),
  rttP99Ms: z.number(),
  /** Process CPU time (both sides of the exchange) per round trip: robust to other load. */
  rttCpuMs: z.number(),
  publishPerSecond: z.number(),
  consumePerSecond: z.number(),
  idleCpuPercent: z.number(),
  subscribeMs: z.number(),
});
type Figures = z.infer<typeof Figures>;

function withLimit<T>(what: string, work: Promise<T>): Promise<T> {
  return withPhaseLimit(what, work, PHASE_LIMIT_MS);
}

function openBus(client: Client, bootstrap: string): Bus {
  const options = { brokers: [bootstrap], clientId: `bench-${client}`, log };
  return client === "kafkajs" ? new KafkaBus(options) : new PlatformaticKafkaBus(options);
}

async function measure(client: Client, bootstrap: string): Promise<Figures> {
  const bus = openBus(client, bootstrap);
  const run = `${client}.${crypto.randomUUID().slice(0, 8)}`;
  try {
    const trips = await withLimit("round trips", measureRoundTrips(bus, run, log));
    const topic = `bench.${run}.batched`;
    const publishPerSecond = await withLimit("batched publish", measureBatchedPublish(bus, topic));
    const consumePerSecond = await withLimit("consume", measureConsume(bus, topic, run));
    const idle = await withLimit(
      "idle subscriptions",
      measureIdleCpu(bus, `bench.${run}.idle`, {
        subscriptions: IDLE_SUBSCRIPTIONS,
        parallelism: SUBSCRIBE_PARALLELISM,
        settleMs: 2_000,
        windowMs: IDLE_MEASURE_MS,
      }),
    );
    return {
      client,
      rttP50Ms: percentile(trips.samples, 50),
      rttP99Ms: percentile(trips.samples, 99),
      rttCpuMs: trips.cpuMs / ROUND_TRIPS,
      publishPerSecond,
      consumePerSecond,
      idleCpuPercent: idle.percent,
      subscribeMs: idle.subscribeMs,
    };
  } finally {
    await bus.close();
  }
}

/** Runs this file for one client in a child process and parses its figures. */
async function measureInChild(client: Client, bootstrap: string): Promise<Figures> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1,localhost",
      "--allow-read",
      "--allow-env",
      new URL(import.meta.url).pathname,
      "--client",
      client,
    ],
    env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  if (!output.success) {
    throw new Error(`The ${client} run failed with exit code ${output.code}`);
  }
  return Figures.parse(JSON.parse(lines.at(-1) ?? "{}"));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of every figure over several runs of one client. */
function medianFigures(runs: Figures[]): Figures {
  return {
    client: runs[0]!.client,
    rttP50Ms: median(runs.map((run) => run.rttP50Ms)),
    rttP99Ms: median(runs.map((run) => run.rttP99Ms)),
    rttCpuMs: median(runs.map((run) => run.rttCpuMs)),
    publishPerSecond: median(runs.map((run) => run.publishPerSecond)),
    consumePerSecond: median(runs.map((run) => run.consumePerSecond)),
    idleCpuPercent: median(runs.map((run) => run.idleCpuPercent)),
    subscribeMs: median(runs.map((run) => run.subscribeMs)),
  };
}

function printTable(
  kafkajs: Figures,
  platformatic: Figures,
  bootstrap: string,
  rounds: number,
): void {
  const rows = [
    comparisonRow(`Request/reply round trip p50 (ms, n=${ROUND_TRIPS})`, {
      first: kafkajs.rttP50Ms,
      second: platformatic.rttP50Ms,
      better: "lower",
      digits: 2,
      ratioDigits: 2,
    }),
    comparisonRow(`Request/reply round trip p99 (ms, n=${ROUND_TRIPS})`, {
      first: kafkajs.rttP99Ms,
      second: platformatic.rttP99Ms,
      better: "lower",
      digits: 2,
      ratioDigits: 2,
    }),
    comparisonRow("Process CPU per round trip, client and server side (ms)", {
      first: kafkajs.rttCpuMs,
      second: platformatic.rttCpuMs,
      better: "lower",
      digits: 3,
      ratioDigits: 2,
    }),
    comparisonRow(`Publish 1 KB JSON, batches of ${BATCH_SIZE} (msg/s, n=${BATCHED_MESSAGES})`, {
      first: kafkajs.publishPerSecond,
      second: platformatic.publishPerSecond,
      better: "higher",
      digits: 0,
      ratioDigits: 2,
    }),
    comparisonRow(`Consume 1 KB JSON, one group (msg/s, n=${BATCHED_MESSAGES + 1})`, {
      first: kafkajs.consumePerSecond,
      second: platformatic.consumePerSecond,
      better: "higher",
      digits: 0,
      ratioDigits: 2,
    }),
    comparisonRow(
      `Idle CPU, ${IDLE_SUBSCRIPTIONS} subscriptions (% of one core over ${
        IDLE_MEASURE_MS / 1000
      } s)`,
      {
        first: kafkajs.idleCpuPercent,
        second: platformatic.idleCpuPercent,
        better: "lower",
        digits: 1,
        ratioDigits: 1,
      },
    ),
    comparisonRow(
      `Start ${IDLE_SUBSCRIPTIONS} subscriptions, ${SUBSCRIBE_PARALLELISM} at a time (s)`,
      {
        first: kafkajs.subscribeMs / 1000,
        second: platformatic.subscribeMs / 1000,
        better: "lower",
        digits: 1,
        ratioDigits: 1,
      },
    ),
  ];
  console.log("### Kafka clients (kafkajs vs @platformatic/kafka, same broker, same bus API)\n");
  console.log("| Measure | kafkajs | platformatic | platformatic advantage |");
  console.log("|---|---:|---:|---:|");
  for (const row of rows) console.log(row);
  console.log(
    `\nBoth: idempotent producer, acks=all, commits after each handled record, default bus ` +
      `timings, single broker at ${bootstrap}; each client in its own process; median of ` +
      `${rounds} run(s) per client, clients alternating; ` +
      `1 KB = ${PAYLOAD.length} bytes of JSON per message.`,
  );
}

const bootstrap = kafkaBootstrapOrExit();
const clientFlag = Deno.args.indexOf("--client");
if (clientFlag >= 0) {
  const client = CLIENTS.find((name) => name === Deno.args[clientFlag + 1]);
  if (!client) {
    console.error(
      `--client must be one of ${CLIENTS.join(", ")}, got ${Deno.args[clientFlag + 1]}`,
    );
    Deno.exit(2);
  }
  const figures = await measure(client, bootstrap);
  console.log(JSON.stringify(figures));
  Deno.exit(0);
}
const roundsFlag = Deno.args.indexOf("--rounds");
const rounds = roundsFlag >= 0 ? Number(Deno.args[roundsFlag + 1]) : 1;
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a positive whole number, got ${Deno.args[roundsFlag + 1]}`);
  Deno.exit(2);
}
// Alternate the clients, so a load change on a shared machine bills both alike.
const runs: Record<Client, Figures[]> = { kafkajs: [], platformatic: [] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? CLIENTS : [...CLIENTS].reverse();
  for (const client of order) runs[client].push(await measureInChild(client, bootstrap));
}
const kafkajs = medianFigures(runs.kafkajs);
const platformatic = medianFigures(runs.platformatic);
if (Deno.args.includes("--json")) {
  console.log(JSON.stringify(kafkajs));
  console.log(JSON.stringify(platformatic));
} else {
  printTable(kafkajs, platformatic, bootstrap, rounds);
}

/** Kafka bus on kafkajs: works with Apache Kafka (KRaft) and Redpanda. */

import {
  type Admin,
  type Consumer,
  type EachMessagePayload,
  Kafka,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
  type RetryOptions,
} from "kafkajs";
import type {
  Bus,
  BusRecord,
  OutgoingRecord,
  RecordHandler,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "./bus.ts";
import process from "node:process";
import { dynamicTopic } from "./topics.ts";
import { createLogger, type Logger } from "../log.ts";

/** Options for {@linkcode KafkaBus}. */
export interface KafkaBusOptions {
  /** Bootstrap servers as `host:port`; an entry may hold a comma-separated list. */
  brokers: string[];
  /** Client id reported to the broker (shows in broker logs and consoles). */
  clientId: string;
  /** Where bus and kafkajs warnings go; default a logger named `bus`. */
  log?: Logger;
  /** Consumer session timeout: a member silent this long is removed (default 30000). */
  sessionTimeoutMs?: number;
  /** How often members heartbeat; bounds how fast a rebalance is noticed (default 1000). */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin (default 60000). */
  rebalanceTimeoutMs?: number;
  /** Longest time a fetch waits for new records when a partition is idle (default 500). */
  maxWaitTimeMs?: number;
}

/** First delay before a record whose handler threw is delivered again. */
const REDELIVERY_DELAY_MS = 100;
/** Longest delay between deliveries of a record whose handler keeps throwing. */
const MAX_REDELIVERY_DELAY_MS = 5_000;

/**
 * Retries for broker requests: bounded per attempt (about 40 s in all), after which a consumer
 * restarts itself, so a consumer survives a broker restart of any length.
 */
const RETRY: RetryOptions = {
  initialRetryTime: 200,
  maxRetryTime: 5_000,
  retries: 10,
  factor: 0.2,
  multiplier: 2,
};

/** How long a new topic may take to get a leader for every partition. */
const TOPIC_READY_TIMEOUT_MS = 30_000;

/** First and longest delay between tries of an end-offsets lookup that failed transiently. */
const OFFSETS_RETRY_DELAY_MS = 50;
const MAX_OFFSETS_RETRY_DELAY_MS = 2_000;

/** How often a short-lived consumer (read-all, group start) is tried before giving up. */
const CONSUMER_ATTEMPTS = 8;

/** kafkajs messages that describe normal operation; logged at debug instead of warn. */
const ROUTINE_MESSAGES = [
  "The group is rebalancing, re-joining",
  "Limiting retries for the idempotent producer may invalidate EoS guarantees",
];

/** Error responses kafkajs logs at error level but handles itself (rebalances, leader moves). */
const ROUTINE_RESPONSE_ERRORS =
  /rebalancing|coordinator is loading|not the correct coordinator|coordinator is not available|no leader|does not host this topic-partition|leader is not available|not the leader for that topic-partition/i;

let timeoutWarningSilenced = false;

/**
 * Drops the runtime's TimeoutNegativeWarning caused by kafkajs; other warnings still print.
 *
 * kafkajs 2.2.4 schedules its request-queue check with a negative delay when not throttled
 * (harmless: the timer fires at once), and the runtime prints a TimeoutNegativeWarning for it.
 * Drop that one warning; every other warning still reaches the original listeners.
 */
export function silenceNegativeTimeoutWarning(): void {
  if (timeoutWarningSilenced) return;
  timeoutWarningSilenced = true;
  const listeners = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error) => {
    if (warning.name === "TimeoutNegativeWarning") return;
    for (const listener of listeners) listener(warning);
  });
}

/** How long {@linkcode KafkaBus.probe} tries the broker by default. */
const PROBE_TIMEOUT_MS = 6_000;
/** Pause between two probe attempts (a broker that is starting refuses for a moment). */
const PROBE_RETRY_DELAY_MS = 300;

/** Options for {@linkcode KafkaBus.probe}. */
export interface ProbeOptions {
  /** How long to keep trying before giving up (default 6000 ms). */
  timeoutMs?: number;
}

/** No broker answered at the bootstrap servers within the probe's time budget. */
export class BrokerUnreachableError extends Error {
  /** The bootstrap servers tried, comma separated. */
  readonly bootstrap: string;

  /** Creates the error; the message says what to start. */
  constructor(bootstrap: string, options?: ErrorOptions) {
    super(
      `No Kafka broker answers at ${bootstrap} — start one with \`deno task broker\`, ` +
        "or `docker compose up -d redpanda`",
      options,
    );
    this.name = "BrokerUnreachableError";
    this.bootstrap = bootstrap;
  }
}

/** Most value bytes sent in one coalesced request (the broker takes 1 MiB per partition). */
const MAX_BATCH_BYTES = 512 * 1024;

/** A publish call waiting for its produce request. */
interface PendingPublish {
  topic: string;
  messages: Message[];
  bytes: number;
  /** Resolves once the publish succeeded or failed. */
  settled: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface ActiveSubscription {
  close(): Promise<void>;
}

/** A bus on a Kafka-protocol broker: idempotent producer, one consumer per subscription. */
export class KafkaBus implements Bus {
  #kafka: Kafka;
  #log: Logger;
  #options: KafkaBusOptions;
  #producer?: Promise<Producer>;
  #admin?: Promise<Admin>;
  /** Keeps admin calls that replace kafkajs' metadata cache apart from end-offset lookups. */
  #metadataGate = new MetadataGate();
  #knownTopics = new Map<string, Promise<void>>();
  #subscriptions = new Set<ActiveSubscription>();
  #closed = false;
  #brokers: string[];
  /** Publishes not sent yet, in call order. */
  #pending: PendingPublish[] = [];
  /** Topics known to exist, whose pending publishes may be sent. */
  #readyTopics = new Set<string>();
  /** Topics being created for pending publishes. */
  #preparingTopics = new Set<string>();
  #pumpScheduled = false;
  /** The produce request in flight, if any. */
  #sending?: Promise<void>;

  /** Creates a bus; connections open lazily on first use. */
  constructor(options: KafkaBusOptions) {
    const brokers = options.brokers.flatMap((entry) => entry.split(","))
      .map((broker) => broker.trim())
      .filter((broker) => broker.length > 0);
    if (brokers.length === 0) {
      throw new Error("Kafka bus needs at least one broker as host:port, got none");
    }
    silenceNegativeTimeoutWarning();
    this.#brokers = brokers;
    this.#options = options;
    this.#log = options.log ?? createLogger("bus");
    const kafkaLog = this.#log.child("kafkajs");
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers,
      retry: RETRY,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => routeKafkaLog(kafkaLog, entry),
    });
  }

  /**
   * Checks that a broker answers (connect and read the cluster metadata), trying again for a
   * short time budget and logging nothing; throws {@linkcode BrokerUnreachableError} otherwise.
   * Call it once at start: after that, the bus's own retries ride out broker restarts.
   */
  async probe(options: ProbeOptions = {}): Promise<void> {
    this.#assertOpen();
    const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (let left = timeoutMs; left > 0; left = deadline - Date.now()) {
      const admin = new Kafka({
        clientId: `${this.#options.clientId}.probe`,
        brokers: this.#brokers,
        logLevel: logLevel.NOTHING,
        connectionTimeout: Math.min(left, 2_000),
        requestTimeout: Math.max(left, 1_000),
        retry: { retries: 0 },
      }).admin();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          (async () => {
            await admin.connect();
            await admin.describeCluster();
          })(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`No answer within ${left} ms`)), left);
          }),
        ]);
        return;
      } catch (error) {
        lastError = error;
      } finally {
        clearTimeout(timer);
        await admin.disconnect().catch(() => {});
      }
      const pause = Math.min(PROBE_RETRY_DELAY_MS, deadline - Date.now());
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
    throw new BrokerUnreachableError(this.#brokers.join(","), { cause: lastError });
  }

  /** Creates the topics that do not exist yet with their partitions and retention. */
  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.#assertOpen();
    const missing = specs.filter((spec) => !this.#knownTopics.has(spec.topic));
    if (missing.length === 0) {
      await Promise.all(specs.map((spec) => this.#knownTopics.get(spec.topic)));
      return;
    }
    const creation = this.#createTopics(missing);
    for (const spec of missing) this.#knownTopics.set(spec.topic, creation);
    try {
      await creation;
    } catch (error) {
      for (const spec of missing) this.#knownTopics.delete(spec.topic);
      throw error;
    }
    await Promise.all(specs.map((spec) => this.#knownTopics.get(spec.topic)));
  }

  /**
   * Publishes records with acks from all in-sync replicas; unknown topics are created.
   *
   * Calls made while a produce request is in flight are queued and sent together in one
   * request when it returns (the idempotent producer allows one request at a time). Each call
   * resolves when the request holding its records is acknowledged, or rejects with that
   * request's error. Records keep their order within a call, and calls keep the order made.
   */
  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.#assertOpen();
    if (records.length === 0) return;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({
      settled: promise.catch(() => {}),
      topic,
      messages: records.map((record) => ({
        key: record.key ?? null,
        value: record.value,
        headers: record.headers,
      })),
      bytes: records.reduce((sum, record) => sum + record.value.length, 0),
      resolve,
      reject,
    });
    this.#prepareTopic(topic);
    this.#schedulePump();
    await promise;
  }

  /** Joins a consumer group; offsets are committed only after the handler resolved. */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#assertOpen();
    const fromBeginning = options.fromBeginning ?? true;
    await Promise.all(options.topics.map((topic) => this.#ensureTopic(topic)));
    if (!fromBeginning) await this.#startNewGroupAtEnd(options.groupId, options.topics);
    const log = this.#log.child(`consumer.${options.groupId}`);
    let closing = false;
    /** Wakes handlers waiting to retry a failed record (one per partition in flight). */
    const redeliveryWakers = new Set<() => void>();
    let restartTimer: ReturnType<typeof setTimeout> | undefined;
    let wakeRestart: (() => void) | undefined;
    let failures = 0;

    const eachMessage = async (payload: EachMessagePayload): Promise<void> => {
      const record = toBusRecord(payload);
      const stopHeartbeat = keepAlive(payload.heartbeat, this.#options.heartbeatIntervalMs);
      try {
        for (let attempt = 0;; attempt++) {
          try {
            await options.handler(record);
            return;
          } catch (error) {
            if (closing) throw error;
            const delay = Math.min(REDELIVERY_DELAY_MS * 2 ** attempt, MAX_REDELIVERY_DELAY_MS);
            log.warn("Handler failed; the record will be delivered again", {
              topic: record.topic,
              partition: record.partition,
              offset: record.offset,
              attempt: attempt + 1,
              retryInMs: delay,
              error: error instanceof Error ? error.message : String(error),
            });
            await new Promise<void>((resolve) => {
              const wake = () => {
                clearTimeout(timer);
                redeliveryWakers.delete(wake);
                resolve();
              };
              const timer = setTimeout(wake, delay);
              redeliveryWakers.add(wake);
            });
            if (closing) {
              throw new Error(`Subscription closed before ${record.topic} was handled`);
            }
          }
        }
      } finally {
        stopHeartbeat();
      }
    };

    const start = async (): Promise<Consumer> => {
      const consumer = this.#kafka.consumer({
        groupId: options.groupId,
        ...this.#consumerTimings(),
        retry: {
          ...RETRY,
          restartOnFailure: (error: Error) => {
            log.warn("Kafka consumer failed, restarting", { error: error.message });
            return Promise.resolve(!closing);
          },
        },
      });
      consumer.on(consumer.events.GROUP_JOIN, () => failures = 0);
      consumer.on(consumer.events.CRASH, (event) => {
        if (event.payload.restart || closing) return;
        // kafkajs gives up on some errors it calls non-retriable (e.g. "Failed to find group
        // coordinator" while a fresh broker loads its offsets topic); start a new consumer.
        const delay = Math.min(1_000 * 2 ** failures++, 10_000);
        log.warn("Kafka consumer stopped after an error; starting a new one", {
          error: event.payload.error,
          retryInMs: delay,
        });
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          current = replace(consumer);
        }, delay);
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: options.topics, fromBeginning });
        await consumer.run({
          partitionsConsumedConcurrently: Math.max(1, options.concurrency ?? 1),
          eachMessage,
        });
      } catch (error) {
        await consumer.disconnect().catch(() => {});
        throw error;
      }
      return consumer;
    };

    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        restartTimer = setTimeout(resolve, ms);
        wakeRestart = resolve;
      });

    const replace = async (old: Consumer): Promise<Consumer | undefined> => {
      await old.disconnect().catch(() => {});
      while (!closing) {
        try {
          return await start();
        } catch (error) {
          if (closing) break;
          const delay = Math.min(1_000 * 2 ** failures++, 10_000);
          log.warn("Could not start a new Kafka consumer; trying again", {
            error: error instanceof Error ? error.message : String(error),
            retryInMs: delay,
          });
          await pause(delay);
        }
      }
      return undefined;
    };

    let current: Promise<Consumer | undefined> = Promise.resolve(await start());
    let closed: Promise<void> | undefined;
    const active: ActiveSubscription = {
      close: () => {
        closed ??= (async () => {
          closing = true;
          clearTimeout(restartTimer);
          wakeRestart?.();
          for (const wake of [...redeliveryWakers]) wake();
          try {
            const consumer = await current.catch(() => undefined);
            await consumer?.disconnect();
          } finally {
            this.#subscriptions.delete(active);
          }
        })();
        return closed;
      },
    };
    this.#subscriptions.add(active);
    return { close: () => active.close() };
  }

  /** Next offset to be written in every partition of a topic. */
  async endOffsets(topic: string): Promise<Map<number, string>> {
    this.#assertOpen();
    await this.#ensureTopic(topic);
    const offsets = await this.#fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, entry.high]));
  }

  /** Reads every record from the beginning up to the end offsets seen at call time. */
  async readAll(topic: string, handler: RecordHandler): Promise<void> {
    this.#assertOpen();
    await this.#ensureTopic(topic);
    const admin = await this.#connectedAdmin();
    const offsets = await this.#fetchTopicOffsets(topic);
    /** End offset captured now, per partition that still has records to read. */
    const remaining = new Map<number, bigint>();
    /** Next offset to hand over per partition, so a restarted reader skips what was read. */
    const next = new Map<number, bigint>();
    for (const entry of offsets) {
      if (BigInt(entry.high) > BigInt(entry.low)) {
        remaining.set(entry.partition, BigInt(entry.high));
      }
    }
    if (remaining.size === 0) return;
    const groupId = `${this.#options.clientId}.read-all.${crypto.randomUUID()}`;
    let failure: { error: unknown } | undefined;
    try {
      for (let attempt = 1;; attempt++) {
        const consumer = this.#kafka.consumer({
          groupId,
          ...this.#consumerTimings(),
          retry: RETRY,
        });
        const { promise: outcome, resolve } = Promise.withResolvers<"done" | "crashed">();
        consumer.on(consumer.events.CRASH, (event) => {
          if (!event.payload.restart) resolve("crashed");
        });
        let result: "done" | "crashed";
        try {
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({
            autoCommit: false,
            eachMessage: async (payload) => {
              const end = remaining.get(payload.partition);
              const offset = BigInt(payload.message.offset);
              if (failure || end === undefined || offset >= end) return;
              if (offset < (next.get(payload.partition) ?? 0n)) return;
              try {
                await handler(toBusRecord(payload));
              } catch (error) {
                failure = { error };
                resolve("done");
                return;
              }
              next.set(payload.partition, offset + 1n);
              if (offset + 1n >= end) {
                remaining.delete(payload.partition);
                if (remaining.size === 0) resolve("done");
              }
            },
          });
          result = await outcome;
        } catch (error) {
          this.#log.debug("Read-all consumer failed", { topic, error });
          result = "crashed";
        } finally {
          await consumer.disconnect().catch(() => {});
        }
        if (result === "done") break;
        if (attempt >= CONSUMER_ATTEMPTS) {
          throw new Error(`Reading ${topic} failed: its consumer stopped ${attempt} times`);
        }
        this.#log.warn("Read-all consumer stopped; resuming with a new one", { topic, attempt });
        await new Promise((wait) => setTimeout(wait, Math.min(500 * 2 ** attempt, 10_000)));
      }
    } finally {
      await admin.deleteGroups([groupId]).catch((error) => {
        this.#log.debug("Could not delete the read-all group", { groupId, error });
      });
    }
    if (failure) throw failure.error;
  }

  /** Closes subscriptions (after in-flight handlers), the producer and the admin client. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#drainPublishes();
    const producer = this.#producer;
    const admin = this.#admin;
    await Promise.all([
      producer?.then((connected) => connected.disconnect()).catch(() => {}),
      admin?.then((connected) => connected.disconnect()).catch(() => {}),
    ]);
  }

  /** Marks a topic ready for sending once it exists; its pending publishes fail otherwise. */
  #prepareTopic(topic: string): void {
    if (this.#readyTopics.has(topic) || this.#preparingTopics.has(topic)) return;
    this.#preparingTopics.add(topic);
    this.#ensureTopic(topic).then(
      () => {
        this.#preparingTopics.delete(topic);
        this.#readyTopics.add(topic);
        this.#schedulePump();
      },
      (error: unknown) => {
        this.#preparingTopics.delete(topic);
        const failed = this.#pending.filter((entry) => entry.topic === topic);
        this.#pending = this.#pending.filter((entry) => entry.topic !== topic);
        for (const entry of failed) entry.reject(error);
      },
    );
  }

  /** Starts a send on the next microtask, so publishes made in one turn share a request. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /**
   * Sends every pending publish whose topic exists in one request, unless one is in flight.
   * Publishes to a topic still being created wait (later ones to that topic wait with them).
   */
  #pump(): void {
    if (this.#sending) return;
    const batch: PendingPublish[] = [];
    const waiting: PendingPublish[] = [];
    /** Topics with a publish left waiting: later publishes to them wait too, to keep order. */
    const held = new Set<string>();
    let bytes = 0;
    for (const entry of this.#pending) {
      const fits = batch.length === 0 || bytes + entry.bytes <= MAX_BATCH_BYTES;
      if (fits && this.#readyTopics.has(entry.topic) && !held.has(entry.topic)) {
        batch.push(entry);
        bytes += entry.bytes;
      } else {
        waiting.push(entry);
        held.add(entry.topic);
      }
    }
    if (batch.length === 0) return;
    this.#pending = waiting;
    this.#sending = this.#sendBatch(batch).finally(() => {
      this.#sending = undefined;
      this.#pump();
    });
  }

  async #sendBatch(batch: PendingPublish[]): Promise<void> {
    // kafkajs keeps one entry per topic in a request: merge a topic's calls in call order.
    const byTopic = new Map<string, Message[]>();
    for (const entry of batch) {
      const messages = byTopic.get(entry.topic);
      if (messages) messages.push(...entry.messages);
      else byTopic.set(entry.topic, [...entry.messages]);
    }
    try {
      const producer = await this.#connectedProducer();
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    for (const entry of batch) entry.resolve();
  }

  /** Waits until every publish made so far was sent (or failed). */
  async #drainPublishes(): Promise<void> {
    while (this.#sending || this.#pending.length > 0) {
      await Promise.all([this.#sending, ...this.#pending.map((entry) => entry.settled)]);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("Bus is closed");
  }

  #ensureTopic(topic: string): Promise<void> {
    return this.#knownTopics.get(topic) ?? this.ensureTopics([dynamicTopic(topic)]);
  }

  async #createTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.#connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const toCreate = specs.filter((spec) => !existing.has(spec.topic));
    if (toCreate.length === 0) return;
    for (const spec of toCreate) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new Error(
          `Topic ${spec.topic} needs a positive whole number of partitions, got ${spec.partitions}`,
        );
      }
    }
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: toCreate.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          configEntries: [{ name: "retention.ms", value: String(spec.retentionMs) }],
        })),
      });
    } catch (error) {
      // Another process may have created the same topics at the same moment.
      const now = new Set(await admin.listTopics());
      if (!toCreate.every((spec) => now.has(spec.topic))) throw error;
    }
    await this.#waitForLeaders(toCreate.map((spec) => spec.topic));
    this.#log.debug("Created topics", { topics: toCreate.map((spec) => spec.topic) });
  }

  /**
   * Waits until every partition of new topics has a leader. kafkajs' own wait gives up when the
   * broker briefly answers "does not host this topic-partition" right after creation.
   */
  async #waitForLeaders(topics: string[]): Promise<void> {
    const admin = await this.#connectedAdmin();
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    let lastError: unknown;
    for (;;) {
      try {
        // Exclusive: kafkajs replaces its whole metadata cache with these topics only.
        const metadata = await this.#metadataGate.exclusive(() =>
          admin.fetchTopicMetadata({ topics })
        );
        const ready = metadata.topics.length === topics.length &&
          metadata.topics.every((topic) =>
            topic.partitions.length > 0 &&
            topic.partitions.every((partition) => partition.leader >= 0)
          );
        // Metadata can name a leader before it serves requests; ListOffsets asks the leaders.
        if (ready) {
          await Promise.all(
            topics.map((topic) => this.#metadataGate.shared(() => admin.fetchTopicOffsets(topic))),
          );
          return;
        }
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
        throw new Error(
          `Topics ${topics.join(", ")} had no leader within ${TOPIC_READY_TIMEOUT_MS} ms${reason}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * End offsets of a topic, retrying with backoff errors Kafka calls retriable (e.g. a leader
   * moving) and the kafkajs metadata race (see {@linkcode isMetadataRace}); other errors throw.
   */
  async #fetchTopicOffsets(
    topic: string,
  ): Promise<{ partition: number; high: string; low: string }[]> {
    const admin = await this.#connectedAdmin();
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#metadataGate.shared(() => admin.fetchTopicOffsets(topic));
      } catch (error) {
        const retriable = (error as { retriable?: boolean }).retriable === true;
        if (!retriable && !isMetadataRace(error)) throw error;
        if (Date.now() > deadline) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(
            `End offsets of ${topic} could not be read within ${TOPIC_READY_TIMEOUT_MS} ms ` +
              `(${attempt + 1} tries): ${reason}`,
            { cause: error },
          );
        }
        const delay = Math.min(OFFSETS_RETRY_DELAY_MS * 2 ** attempt, MAX_OFFSETS_RETRY_DELAY_MS);
        this.#log.debug("Retrying end offsets", { topic, attempt: attempt + 1, delay, error });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * A new group that must not read old records starts at the end offsets of now: they are
   * committed before the real member joins (kafkajs would otherwise look up the end lazily, at
   * its first fetch, and miss records published in between).
   */
  async #startNewGroupAtEnd(groupId: string, topics: string[]): Promise<void> {
    const admin = await this.#connectedAdmin();
    const committed = await admin.fetchOffsets({ groupId, topics });
    const fresh = committed
      .filter(({ partitions }) => partitions.every((partition) => partition.offset === "-1"))
      .map(({ topic }) => topic);
    if (fresh.length === 0) return;
    const ends = await Promise.all(
      fresh.map(async (topic) => ({ topic, offsets: await this.#fetchTopicOffsets(topic) })),
    );
    for (let attempt = 1;; attempt++) {
      const consumer = this.#kafka.consumer({
        groupId,
        ...this.#consumerTimings(),
        maxWaitTimeInMs: 20,
        retry: RETRY,
      });
      // Like kafkajs' admin.setOffsets, without its five-second fetch wait: seeks commit at
      // the next fetch, and the consumer leaves right after it.
      const { promise: outcome, resolve } = Promise.withResolvers<"done" | "crashed">();
      consumer.on(consumer.events.FETCH, () => resolve("done"));
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) resolve("crashed");
      });
      let result: "done" | "crashed";
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: fresh, fromBeginning: false });
        const running = consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => {} });
        consumer.pause(fresh.map((topic) => ({ topic })));
        for (const { topic, offsets } of ends) {
          for (const entry of offsets) {
            consumer.seek({ topic, partition: entry.partition, offset: entry.high });
          }
        }
        await running;
        result = await outcome;
      } catch (error) {
        this.#log.debug("Could not set the start offsets of a new group", { groupId, error });
        result = "crashed";
      } finally {
        await consumer.disconnect().catch(() => {});
      }
      if (result === "done") return;
      if (attempt >= CONSUMER_ATTEMPTS) {
        throw new Error(`Could not set the start offsets of new group ${groupId}`);
      }
      await new Promise((wait) => setTimeout(wait, Math.min(500 * 2 ** attempt, 10_000)));
    }
  }

  #consumerTimings(): {
    sessionTimeout: number;
    heartbeatInterval: number;
    rebalanceTimeout: number;
    maxWaitTimeInMs: number;
    allowAutoTopicCreation: boolean;
  } {
    return {
      sessionTimeout: this.#options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.#options.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: this.#options.rebalanceTimeoutMs ?? 60_000,
      maxWaitTimeInMs: this.#options.maxWaitTimeMs ?? 500,
      allowAutoTopicCreation: false,
    };
  }

  #connectedProducer(): Promise<Producer> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: RETRY,
      });
      await producer.connect();
      return producer;
    })();
    this.#producer.catch(() => this.#producer = undefined);
    return this.#producer;
  }

  #connectedAdmin(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin({ retry: RETRY });
      await admin.connect();
      return admin;
    })();
    this.#admin.catch(() => this.#admin = undefined);
    return this.#admin;
  }
}

/**
 * Runs admin calls either side by side (shared) or alone (exclusive), in arrival order.
 *
 * kafkajs' admin.fetchTopicOffsets looks the topic up in the client's metadata cache twice (for
 * the high and the low offsets), while admin.fetchTopicMetadata for topics not cached replaces
 * that cache with metadata of only those topics. Run between the two look-ups, it leaves the
 * offsets lookup with no partitions, and kafkajs fails with a TypeError it does not retry.
 */
class MetadataGate {
  #shared = 0;
  #exclusive = false;
  #waiting: { exclusive: boolean; enter: () => void }[] = [];

  /** Runs a call that may overlap other shared calls, but no exclusive one. */
  shared<T>(call: () => Promise<T>): Promise<T> {
    return this.#run(false, call);
  }

  /** Runs a call once nothing else runs, keeping later calls out until it is done. */
  exclusive<T>(call: () => Promise<T>): Promise<T> {
    return this.#run(true, call);
  }

  async #run<T>(exclusive: boolean, call: () => Promise<T>): Promise<T> {
    if (this.#waiting.length === 0 && this.#mayEnter(exclusive)) {
      this.#enter(exclusive);
    } else {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiting.push({ exclusive, enter: resolve });
      await promise;
    }
    try {
      return await call();
    } finally {
      if (exclusive) this.#exclusive = false;
      else this.#shared--;
      this.#admit();
    }
  }

  #mayEnter(exclusive: boolean): boolean {
    return exclusive ? !this.#exclusive && this.#shared === 0 : !this.#exclusive;
  }

  #enter(exclusive: boolean): void {
    if (exclusive) this.#exclusive = true;
    else this.#shared++;
  }

  /** Lets waiting calls in, in arrival order, as far as the first that must still wait. */
  #admit(): void {
    while (this.#waiting.length > 0 && this.#mayEnter(this.#waiting[0]!.exclusive)) {
      const next = this.#waiting.shift()!;
      this.#enter(next.exclusive);
      next.enter();
    }
  }
}

/**
 * The failure kafkajs' fetchTopicOffsets reports when its metadata cache lost the topic midway
 * (a TypeError such as "Cannot destructure property 'partitions' of 'low.pop(...)'"), which it
 * wraps as not retriable although a new lookup succeeds.
 */
function isMetadataRace(error: unknown): boolean {
  if (error instanceof TypeError) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof TypeError;
}

function toBusRecord(payload: EachMessagePayload): BusRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload.message.headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString();
  }
  return {
    topic: payload.topic,
    partition: payload.partition,
    offset: payload.message.offset,
    key: payload.message.key?.toString() ?? null,
    value: payload.message.value?.toString() ?? "",
    headers,
  };
}

/** Heartbeats while a long handler runs, so the member keeps its partitions. */
function keepAlive(heartbeat: () => Promise<void>, intervalMs = 1_000): () => void {
  const timer = setInterval(() => {
    heartbeat().catch(() => {
      // A rebalance is signalled here; kafkajs rejoins once the handler returns.
    });
  }, intervalMs);
  return () => clearInterval(timer);
}

function routeKafkaLog(log: Logger, entry: LogEntry): void {
  const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log as {
    message: string;
    timestamp?: string;
    logger?: string;
    [field: string]: unknown;
  };
  const context = { namespace: entry.namespace, ...fields };
  const routineResponse = entry.namespace === "Connection" && message.startsWith("Response ") &&
    ROUTINE_RESPONSE_ERRORS.test(String(fields.error ?? ""));
  if (routineResponse || ROUTINE_MESSAGES.some((routine) => message.startsWith(routine))) {
    log.debug(message, context);
  } else if (entry.level === logLevel.ERROR) {
    log.error(message, context);
  } else if (entry.level === logLevel.WARN) {
    log.warn(message, context);
  } else {
    log.debug(message, context);
  }
}

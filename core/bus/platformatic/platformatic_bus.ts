/** Kafka bus on @platformatic/kafka: works with Apache Kafka (KRaft) and Redpanda. */

import {
  Admin,
  type BaseOptions,
  compatibilityPartitioner,
  Consumer,
  type MessageToProduce,
  Producer,
  stringSerializers,
} from "@platformatic/kafka";
import type {
  Bus,
  OutgoingRecord,
  RecordHandler,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../bus.ts";
import {
  bootstrapBrokers,
  KnownTopics,
  probeBrokers,
  type ProbeOptions,
} from "../broker_connection.ts";
import { describeKafkaFailure, type KafkaSecurity } from "../kafka_security.ts";
import { dynamicTopic } from "../topics.ts";
import { backoffDelay } from "../../backoff.ts";
import { createLogger, type Logger } from "../../log.ts";
import { GroupMember, type MemberClientOptions } from "./_subscription.ts";
import { sendWithPlatformatic } from "./_produce.ts";
import { CoalescingPublisher } from "../coalescing_publisher.ts";
import { readRange } from "./_reader.ts";
import { TopicAdmin } from "./_topics.ts";
import { platformaticSecurity } from "./security.ts";

/** Options for {@linkcode PlatformaticKafkaBus}. */
export interface PlatformaticKafkaBusOptions {
  /** Bootstrap servers as `host:port`; an entry may hold a comma-separated list. */
  brokers: string[];
  /** Client id reported to the broker (shows in broker logs and consoles). */
  clientId: string;
  /** Where bus warnings go; default a logger named `bus`. */
  log?: Logger;
  /** Consumer session timeout: a member silent this long is removed (default 30000). */
  sessionTimeoutMs?: number;
  /** How often members heartbeat; bounds how fast a rebalance is noticed (default 3000). */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin (default 60000). */
  rebalanceTimeoutMs?: number;
  /** Longest time a fetch waits for new records when a partition is idle (default 500). */
  maxWaitTimeMs?: number;
  /** TLS and SASL settings; plaintext when absent. */
  security?: KafkaSecurity;
}

/** Retries of one broker request; with the delays below about 40 s in all. */
const RETRIES = 10;

/** Backoff between retries of one request: 200 ms doubling up to 5 s, with jitter. */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return backoffDelay(attempt, { initialMs: 200, maxMs: 5_000 });
}

type StringMessage = MessageToProduce<string, string, string, string>;

/** A bus on a Kafka-protocol broker: idempotent producer, one consumer per subscription. */
export class PlatformaticKafkaBus implements Bus {
  #options: PlatformaticKafkaBusOptions;
  #log: Logger;
  #brokers: string[];
  #base: BaseOptions;
  #producer?: Producer<string, string, string, string>;
  #admin?: Admin;
  #reader?: Consumer;
  #topics: TopicAdmin;
  #publisher: CoalescingPublisher;
  #knownTopics = new KnownTopics();
  #members = new Set<GroupMember>();
  #roundRobin = new Map<string, number>();
  #closed = false;

  /** Creates a bus; connections open lazily on first use. */
  constructor(options: PlatformaticKafkaBusOptions) {
    const brokers = bootstrapBrokers(options.brokers);
    this.#brokers = brokers;
    this.#options = options;
    this.#log = options.log ?? createLogger("bus");
    this.#base = {
      clientId: options.clientId,
      bootstrapBrokers: brokers,
      retries: RETRIES,
      retryDelay,
      ...platformaticSecurity(options.security),
    };
    this.#topics = new TopicAdmin(() => this.#connectedAdmin(), this.#log);
    this.#publisher = new CoalescingPublisher({
      send: (calls) => sendWithPlatformatic(this.#connectedProducer(), calls),
      ensureTopic: (topic) => this.#ensureTopic(topic),
    });
  }

  /**
   * Checks that a broker answers (connect and read the cluster metadata), trying again for a
   * short time budget and logging nothing; throws `BrokerUnreachableError` otherwise,
   * or an error with one clear line when two tries in a row fail the same unfixable way (a
   * wrong password, an unknown CA, plaintext on a TLS port).
   * Call it once at start: after that, the bus's own retries ride out broker restarts.
   */
  async probe(options: ProbeOptions = {}): Promise<void> {
    this.#assertOpen();
    await probeBrokers({
      brokers: this.#brokers,
      // A failure retrying cannot fix (wrong password, unknown CA) ends the probe with one line.
      describeFailure: (error) => describeKafkaFailure(error, this.#options.security),
      attempt: async (left) => {
        const admin = new Admin({
          ...this.#base,
          clientId: `${this.#options.clientId}.probe`,
          retries: 0,
          connectTimeout: Math.min(left, 2_000),
          timeout: Math.max(left, 1_000),
        });
        try {
          await admin.metadata({ topics: [] });
        } finally {
          await admin.close().catch(() => {});
        }
      },
    }, options);
  }

  /** Creates the topics that do not exist yet with their partitions, retention and policy. */
  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.#assertOpen();
    await this.#knownTopics.ensure(specs, (missing) => this.#topics.createTopics(missing));
  }

  /**
   * Publishes records with acks from all in-sync replicas; unknown topics are created. Calls
   * made while a produce request is in flight are sent together in the next request; each
   * resolves when the request holding its records is acknowledged. Records keep their order
   * within a call, and calls keep the order made.
   */
  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.#assertOpen();
    await this.#publisher.publish(topic, records);
  }

  /** Joins a consumer group; offsets are committed only after the handler resolved. */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#assertOpen();
    await Promise.all(options.topics.map((topic) => this.#ensureTopic(topic)));
    if (options.fromBeginning === false) {
      await this.#topics.startNewGroupAtEnd(options.groupId, options.topics);
    }
    const member = new GroupMember({
      subscribe: options,
      client: this.#memberOptions(),
      log: this.#log.child(`consumer.${options.groupId}`),
    });
    await member.start();
    this.#members.add(member);
    let closed: Promise<void> | undefined;
    return {
      close: () => {
        closed ??= member.close().finally(() => this.#members.delete(member));
        return closed;
      },
    };
  }

  /** Next offset to be written in every partition of a topic. */
  async endOffsets(topic: string): Promise<Map<number, string>> {
    this.#assertOpen();
    await this.#ensureTopic(topic);
    const ranges = await this.#topics.ranges(topic);
    return new Map(ranges.map((range) => [range.partition, range.high.toString()]));
  }

  /** Reads every record from the beginning up to the end offsets seen at call time. */
  async readAll(topic: string, handler: RecordHandler): Promise<void> {
    this.#assertOpen();
    await this.#ensureTopic(topic);
    const ranges = (await this.#topics.ranges(topic)).filter((range) => range.high > range.low);
    if (ranges.length === 0) return;
    this.#reader ??= new Consumer({
      ...this.#base,
      clientId: `${this.#options.clientId}.reader`,
      groupId: `${this.#options.clientId}.reader.${crypto.randomUUID()}`,
    });
    await readRange(this.#reader, topic, ranges, handler);
  }

  /** Closes subscriptions (after in-flight handlers), the producer and the other clients. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#members].map((member) => member.close()));
    this.#members.clear();
    await this.#publisher.drain();
    await Promise.all([
      this.#producer?.close().catch(() => {}),
      this.#admin?.close().catch(() => {}),
      this.#reader?.close(true).catch(() => {}),
    ]);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("Bus is closed");
  }

  #ensureTopic(topic: string): Promise<void> {
    return this.#knownTopics.get(topic) ?? this.ensureTopics([dynamicTopic(topic)]);
  }

  #memberOptions(): MemberClientOptions {
    const sessionTimeout = this.#options.sessionTimeoutMs ?? 30_000;
    return {
      ...this.#base,
      sessionTimeout,
      heartbeatInterval: this.#options.heartbeatIntervalMs ?? 3_000,
      // This client refuses a rebalance timeout below the session timeout (kafkajs accepts it).
      rebalanceTimeout: Math.max(this.#options.rebalanceTimeoutMs ?? 60_000, sessionTimeout),
      maxWaitTime: this.#options.maxWaitTimeMs ?? 500,
    };
  }

  /**
   * Partition of a record: keyed records go where Java clients and kafkajs put them (murmur2),
   * so services on either client keep one key's order; records without a key go round-robin.
   */
  #partition(message: StringMessage, key: Uint8Array | undefined): number {
    if (key !== undefined && key.length > 0) {
      return compatibilityPartitioner(
        message,
        key as Parameters<typeof compatibilityPartitioner>[1],
      );
    }
    const next = this.#roundRobin.get(message.topic) ?? 0;
    this.#roundRobin.set(message.topic, (next + 1) % 0x7fffffff);
    return next;
  }

  #connectedProducer(): Producer<string, string, string, string> {
    this.#producer ??= new Producer({
      ...this.#base,
      idempotent: true,
      serializers: stringSerializers,
      partitioner: (message, key) => this.#partition(message, key),
    });
    return this.#producer;
  }

  #connectedAdmin(): Admin {
    this.#admin ??= new Admin(this.#base);
    return this.#admin;
  }
}

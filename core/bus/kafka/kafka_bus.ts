/** Kafka bus on kafkajs: works with Apache Kafka (KRaft) and Redpanda. */

import { Kafka, type LogEntry, logLevel, Partitioners, type Producer } from "kafkajs";
import type {
  Bus,
  OutgoingRecord,
  RecordHandler,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../bus.ts";
import { describeKafkaFailure, kafkajsSecurity, type KafkaSecurity } from "../kafka_security.ts";
import { createLogger, type Logger } from "../../log.ts";
import { routeKafkaLog } from "./log_routing.ts";
import { probeBroker } from "./probe.ts";
import { bootstrapBrokers, type ProbeOptions } from "../broker_connection.ts";
import { sendWithKafkajs } from "./produce.ts";
import { CoalescingPublisher } from "../coalescing_publisher.ts";
import { patchRequestQueue, silenceNegativeTimeoutWarning } from "./request_queue_patch.ts";
import { type ConsumerTimingOptions, consumerTimings, RETRY } from "./settings.ts";
import {
  readTopicToEnd,
  type ShortLivedConsumerOptions,
  startNewGroupAtEnd,
} from "./short_lived_consumer.ts";
import { startSupervisedConsumer } from "./supervised_consumer.ts";
import { TopicAdmin } from "./topic_admin.ts";

/** Options for {@linkcode KafkaBus}. */
export interface KafkaBusOptions extends ConsumerTimingOptions {
  /** Bootstrap servers as `host:port`; an entry may hold a comma-separated list. */
  brokers: string[];
  /** Client id reported to the broker (shows in broker logs and consoles). */
  clientId: string;
  /** Where bus and kafkajs warnings go; default a logger named `bus`. */
  log?: Logger;
  /** TLS and SASL settings; default plaintext. */
  security?: KafkaSecurity;
  /**
   * When consumers commit offsets: `background` (default) commits finished records without
   * holding up the next fetch; `per-batch` is kafkajs' own way (commit each batch, then fetch),
   * kept to measure against.
   */
  commitMode?: "background" | "per-batch";
}

/** A bus on a Kafka-protocol broker: idempotent producer, one consumer per subscription. */
export class KafkaBus implements Bus {
  #kafka: Kafka;
  #log: Logger;
  #options: KafkaBusOptions;
  #brokers: string[];
  #security: ReturnType<typeof kafkajsSecurity>;
  #producer?: Promise<Producer>;
  #topics: TopicAdmin;
  #publishes: CoalescingPublisher;
  #subscriptions = new Set<Subscription>();
  #closed = false;

  /** Creates a bus; connections open lazily on first use. */
  constructor(options: KafkaBusOptions) {
    const brokers = bootstrapBrokers(options.brokers);
    const commitMode = options.commitMode ?? "background";
    if (commitMode !== "background" && commitMode !== "per-batch") {
      throw new Error(`Commit mode must be background or per-batch, got ${commitMode}`);
    }
    patchRequestQueue();
    silenceNegativeTimeoutWarning();
    this.#brokers = brokers;
    this.#options = options;
    this.#security = kafkajsSecurity(options.security);
    this.#log = options.log ?? createLogger("bus");
    const kafkaLog = this.#log.child("kafkajs");
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers,
      ...this.#security,
      retry: RETRY,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => routeKafkaLog(kafkaLog, entry),
    });
    this.#topics = new TopicAdmin({ kafka: this.#kafka, log: this.#log });
    this.#publishes = new CoalescingPublisher({
      send: async (calls) => sendWithKafkajs(await this.#connectedProducer(), calls),
      ensureTopic: (topic) => this.#topics.ensureTopic(topic),
    });
  }

  /**
   * Checks that a broker answers (connect and read the cluster metadata), trying again for a
   * short time budget and logging nothing; throws {@linkcode BrokerUnreachableError} otherwise.
   * Call it once at start: after that, the bus's own retries ride out broker restarts.
   */
  async probe(options: ProbeOptions = {}): Promise<void> {
    this.#assertOpen();
    await probeBroker(
      {
        brokers: this.#brokers,
        clientId: this.#options.clientId,
        security: this.#security,
        describeFailure: (error) => describeKafkaFailure(error, this.#options.security),
      },
      options,
    );
  }

  /** Creates the topics that do not exist yet with their partitions, retention and policy. */
  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.#assertOpen();
    await this.#topics.ensure(specs);
  }

  /**
   * Publishes records with acks from all in-sync replicas; unknown topics are created.
   *
   * Calls made while a produce request is in flight are queued and sent together in one
   * request when it returns. Each call resolves when the request holding its records is
   * acknowledged, or rejects with that request's error. Records keep their order within a
   * call, and calls keep the order made.
   */
  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    this.#assertOpen();
    await this.#publishes.publish(topic, records);
  }

  /** Joins a consumer group; offsets are committed only after the handler resolved. */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#assertOpen();
    await Promise.all(options.topics.map((topic) => this.#topics.ensureTopic(topic)));
    if (!(options.fromBeginning ?? true)) {
      await startNewGroupAtEnd(options.groupId, options.topics, this.#shortLived());
    }
    const running = await startSupervisedConsumer({
      kafka: this.#kafka,
      log: this.#log.child(`consumer.${options.groupId}`),
      timings: consumerTimings(this.#options),
      subscription: options,
      commitPerBatch: this.#options.commitMode === "per-batch",
    });
    let closed: Promise<void> | undefined;
    const subscription: Subscription = {
      close: () => {
        closed ??= running.close().finally(() => this.#subscriptions.delete(subscription));
        return closed;
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Next offset to be written in every partition of a topic. */
  async endOffsets(topic: string): Promise<Map<number, string>> {
    this.#assertOpen();
    await this.#topics.ensureTopic(topic);
    const offsets = await this.#topics.topicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, entry.high]));
  }

  /** Reads every record from the beginning up to the end offsets seen at call time. */
  async readAll(topic: string, handler: RecordHandler): Promise<void> {
    this.#assertOpen();
    await this.#topics.ensureTopic(topic);
    await readTopicToEnd(topic, handler, this.#shortLived());
  }

  /** Closes subscriptions (after in-flight handlers), the producer and the admin client. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#publishes.drain();
    const producer = this.#producer;
    await Promise.all([
      producer?.then((connected) => connected.disconnect()).catch(() => {}),
      this.#topics.close(),
    ]);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("Bus is closed");
  }

  #shortLived(): ShortLivedConsumerOptions {
    return {
      kafka: this.#kafka,
      admin: this.#topics,
      timings: consumerTimings(this.#options),
      log: this.#log,
      clientId: this.#options.clientId,
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
}

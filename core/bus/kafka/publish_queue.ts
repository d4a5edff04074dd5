/** Coalesces publish calls into produce requests, keeping call order per topic. */

import type { Message, Producer } from "kafkajs";
import type { OutgoingRecord } from "../bus.ts";

/** Most value bytes sent in one coalesced request (the broker takes 1 MiB per partition). */
const MAX_BATCH_BYTES = 512 * 1024;

/** Options for {@linkcode PublishQueue}. */
export interface PublishQueueOptions {
  /** The connected producer (idempotent, acks from all in-sync replicas). */
  producer: () => Promise<Producer>;
  /** Resolves once a topic exists (creating it if needed); rejects if it cannot. */
  ensureTopic: (topic: string) => Promise<void>;
}

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

/**
 * Publishes through one produce request at a time: calls made while a request is in flight are
 * queued and sent together when it returns.
 *
 * kafkajs' idempotent producer holds a lock per broker from assigning sequence numbers until
 * the broker answers, so a second request would only wait behind the first; sending the calls
 * queued meanwhile as one request gives the same order with fewer round trips.
 */
export class PublishQueue {
  #options: PublishQueueOptions;
  /** Publishes not sent yet, in call order. */
  #pending: PendingPublish[] = [];
  /** Topics known to exist, whose pending publishes may be sent. */
  #readyTopics = new Set<string>();
  /** Topics being created for pending publishes. */
  #preparingTopics = new Set<string>();
  #pumpScheduled = false;
  /** The produce request in flight, if any. */
  #sending?: Promise<void>;

  /** Creates an empty queue. */
  constructor(options: PublishQueueOptions) {
    this.#options = options;
  }

  /**
   * Queues records for one topic; resolves when the request holding them is acknowledged, or
   * rejects with that request's error. Records keep their order within a call, and calls keep
   * the order made.
   */
  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
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

  /** Waits until every publish made so far was sent (or failed). */
  async drain(): Promise<void> {
    while (this.#sending || this.#pending.length > 0) {
      await Promise.all([this.#sending, ...this.#pending.map((entry) => entry.settled)]);
    }
  }

  /** Marks a topic ready for sending once it exists; its pending publishes fail otherwise. */
  #prepareTopic(topic: string): void {
    if (this.#readyTopics.has(topic) || this.#preparingTopics.has(topic)) return;
    this.#preparingTopics.add(topic);
    this.#options.ensureTopic(topic).then(
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
      const producer = await this.#options.producer();
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
}

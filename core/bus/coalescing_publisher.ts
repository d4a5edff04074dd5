/**
 * Coalesces publish calls into produce requests, one request in flight, keeping call order per
 * topic: the calls made while a request is in flight are sent together when it returns. Both
 * Kafka clients keep one produce request in flight per broker anyway (kafkajs' idempotent
 * producer holds a lock per broker until the broker answers), so a batch costs one round trip.
 */

import type { OutgoingRecord } from "./bus.ts";

/** Most value bytes sent in one coalesced request (the broker takes 1 MiB per partition). */
const MAX_BATCH_BYTES = 512 * 1024;

/** Records of one publish call, as handed to the client's send. */
export interface PublishCall {
  /** The topic. */
  topic: string;
  /** The records, in call order. */
  records: OutgoingRecord[];
}

/** Options for {@linkcode CoalescingPublisher}. */
export interface CoalescingPublisherOptions {
  /** Sends the calls (call order kept) as one produce request; resolves once acknowledged. */
  send: (calls: PublishCall[]) => Promise<void>;
  /** Resolves once a topic exists (creating it if needed); rejects if it cannot. */
  ensureTopic: (topic: string) => Promise<void>;
}

/** A publish call waiting for its produce request. */
interface PendingPublish extends PublishCall {
  bytes: number;
  /** Resolves once the publish succeeded or failed. */
  settled: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Publishes through one produce request at a time, coalescing the calls made meanwhile. */
export class CoalescingPublisher {
  #options: CoalescingPublisherOptions;
  /** Publishes not sent yet, in call order. */
  #pending: PendingPublish[] = [];
  /** Topics known to exist, whose pending publishes may be sent. */
  #readyTopics = new Set<string>();
  /** Topics being created for pending publishes. */
  #preparingTopics = new Set<string>();
  #pumpScheduled = false;
  /** The produce request in flight, if any. */
  #sending?: Promise<void>;

  /** Creates an empty publisher. */
  constructor(options: CoalescingPublisherOptions) {
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
      topic,
      records,
      bytes: records.reduce((sum, record) => sum + record.value.length, 0),
      settled: promise.catch(() => {}),
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
    this.#sending = this.#send(batch).finally(() => {
      this.#sending = undefined;
      this.#pump();
    });
  }

  async #send(batch: PendingPublish[]): Promise<void> {
    try {
      await this.#options.send(batch);
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    for (const entry of batch) entry.resolve();
  }
}

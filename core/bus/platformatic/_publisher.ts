/** Coalescing publisher: one produce request in flight, later calls share the next request. */

import type { MessageToProduce, Producer } from "@platformatic/kafka";
import type { OutgoingRecord } from "../bus.ts";

/** Most value bytes sent in one coalesced request (the broker takes 1 MiB per partition). */
const MAX_BATCH_BYTES = 512 * 1024;

type StringMessage = MessageToProduce<string, string, string, string>;

/** A publish call waiting for its produce request. */
interface PendingPublish {
  topic: string;
  messages: StringMessage[];
  bytes: number;
  settled: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Options for {@linkcode Publisher}. */
export interface PublisherOptions {
  /** The connected producer, created on first use. */
  producer: () => Producer<string, string, string, string>;
  /** Resolves once a topic exists (creating it when unknown). */
  ensureTopic: (topic: string) => Promise<void>;
}

/**
 * Queues publish calls and sends every queued call whose topic exists in one request whenever
 * none is in flight. Calls keep their order per topic; each resolves when its request is acked.
 */
export class Publisher {
  #options: PublisherOptions;
  #pending: PendingPublish[] = [];
  #readyTopics = new Set<string>();
  #preparingTopics = new Set<string>();
  #pumpScheduled = false;
  #sending?: Promise<void>;

  /** Creates a publisher over a producer. */
  constructor(options: PublisherOptions) {
    this.#options = options;
  }

  /** Publishes records to one topic; resolves once the broker acknowledged them. */
  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({
      topic,
      messages: records.map((record) => ({
        topic,
        key: record.key,
        value: record.value,
        headers: record.headers,
      })),
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
      await this.#options.producer().send({
        messages: batch.flatMap((entry) => entry.messages),
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    for (const entry of batch) entry.resolve();
  }
}

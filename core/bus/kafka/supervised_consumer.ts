/**
 * A long-running group member: delivers records to a handler (in order per partition, or per
 * key), redelivers a record whose handler threw, commits finished offsets in the background,
 * and replaces its kafkajs consumer when kafkajs gives up after an error.
 */

import type { Consumer, EachBatchPayload, EachMessagePayload, Kafka } from "kafkajs";
import type { BusRecord, SubscribeOptions, Subscription } from "../bus.ts";
import type { Logger } from "../../log.ts";
import { backoffDelay, sleep, waitAtMost } from "../../backoff.ts";
import { deliverUntilHandled } from "../redelivery.ts";
import { KeyedRunner } from "./keyed_runner.ts";
import { OffsetCommitter } from "../offset_committer.ts";
import { type CommitOffset, OffsetTracker } from "./offset_tracker.ts";
import { keepAlive, toBusRecord } from "./records.ts";
import { type ConsumerTimings, RESTART_BACKOFF, RETRY } from "./settings.ts";

/** Longest wait for the last offset commit when a subscription closes. */
const CLOSING_COMMIT_TIMEOUT_MS = 5_000;
/** Records a per-key member takes ahead of its handlers before its fetch loop waits. */
const MAX_BACKLOG = 1_000;

/** Options for {@linkcode startSupervisedConsumer}. */
export interface SupervisedConsumerOptions {
  /** The kafkajs client. */
  kafka: Kafka;
  /** The consumer's logger. */
  log: Logger;
  /** Consumer timings of the bus. */
  timings: ConsumerTimings;
  /** What to consume and how. */
  subscription: SubscribeOptions;
  /**
   * Commit each batch's offsets before fetching again, as kafkajs does by default (the
   * behaviour before background commits; kept to measure against). Default false.
   */
  commitPerBatch?: boolean;
}

/** Joins the group and starts consuming; resolves once the member has joined. */
export async function startSupervisedConsumer(
  options: SupervisedConsumerOptions,
): Promise<Subscription> {
  const member = new SupervisedConsumer(options);
  await member.start();
  return { close: () => member.close() };
}

class SupervisedConsumer {
  #options: SupervisedConsumerOptions;
  #log: Logger;
  #closing = false;
  /** Aborted on close: ends redelivery and restart waits. */
  #stop = new AbortController();
  #failures = 0;
  #current: Promise<Consumer | undefined> = Promise.resolve(undefined);
  /** The consumer that is running, if any: commits go through it. */
  #live?: Consumer;
  #closed?: Promise<void>;
  #tracker = new OffsetTracker();
  #committer: OffsetCommitter<CommitOffset>;
  #keyed?: KeyedRunner;
  /** Records whose handler runs or waits to run again. */
  #inFlight = 0;
  /** Records handed to the per-key runner and not settled (queued or running). */
  #backlog = 0;
  #backlogWaiters: (() => void)[] = [];
  #idle?: PromiseWithResolvers<void>;

  constructor(options: SupervisedConsumerOptions) {
    this.#options = options;
    this.#log = options.log;
    const concurrency = options.subscription.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(`Concurrency must be a positive whole number, got ${concurrency}`);
    }
    if (options.subscription.perKey) this.#keyed = new KeyedRunner(concurrency);
    this.#committer = new OffsetCommitter({
      tracker: this.#tracker,
      log: this.#log,
      commit: (offsets) => {
        const consumer = this.#live;
        if (!consumer) return Promise.reject(new Error("No running consumer to commit through"));
        return consumer.commitOffsets(offsets);
      },
    });
  }

  async start(): Promise<void> {
    const consumer = await this.#startConsumer();
    this.#current = Promise.resolve(consumer);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      this.#stop.abort();
      for (const wake of this.#backlogWaiters.splice(0)) wake();
      await this.#whenIdle();
      const consumer = await this.#current.catch(() => undefined);
      await waitAtMost(this.#committer.flush(), CLOSING_COMMIT_TIMEOUT_MS);
      this.#live = undefined;
      await consumer?.disconnect();
    })();
    return this.#closed;
  }

  async #startConsumer(): Promise<Consumer> {
    const { kafka, timings, subscription } = this.#options;
    const consumer = kafka.consumer({
      groupId: subscription.groupId,
      ...timings,
      retry: {
        ...RETRY,
        restartOnFailure: (error: Error) => {
          this.#log.warn("Kafka consumer failed, restarting", { error: error.message });
          return Promise.resolve(!this.#closing);
        },
      },
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.#failures = 0;
      this.#tracker.retain(event.payload.memberAssignment);
      try {
        this.#options.subscription.onAssigned?.();
      } catch (error) {
        this.#log.warn("The assignment callback failed", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
    // Partitions may be revoked: commit what finished before the group is joined again.
    consumer.on(consumer.events.REBALANCING, () => void this.#committer.flush());
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || this.#closing) return;
      if (this.#live === consumer) this.#live = undefined;
      // kafkajs gives up on some errors it calls non-retriable (e.g. "Failed to find group
      // coordinator" while a fresh broker loads its offsets topic); start a new consumer.
      const delay = backoffDelay(this.#failures++, RESTART_BACKOFF);
      this.#log.warn("Kafka consumer stopped after an error; starting a new one", {
        error: event.payload.error,
        retryInMs: delay,
      });
      this.#current = sleep(delay, this.#stop.signal).then(() => this.#replace(consumer));
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: subscription.topics, fromBeginning: true });
      const concurrency = subscription.concurrency ?? 1;
      const commitPerBatch = this.#options.commitPerBatch === true;
      await consumer.run(
        this.#keyed
          ? {
            autoCommit: commitPerBatch,
            partitionsConsumedConcurrently: concurrency,
            eachBatch: (payload) => this.#eachBatch(payload),
          }
          : {
            autoCommit: commitPerBatch,
            partitionsConsumedConcurrently: concurrency,
            eachMessage: (payload) => this.#eachMessage(payload),
          },
      );
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    this.#live = consumer;
    return consumer;
  }

  async #replace(old: Consumer): Promise<Consumer | undefined> {
    await old.disconnect().catch(() => {});
    while (!this.#closing) {
      try {
        return await this.#startConsumer();
      } catch (error) {
        if (this.#closing) break;
        const delay = backoffDelay(this.#failures++, RESTART_BACKOFF);
        this.#log.warn("Could not start a new Kafka consumer; trying again", {
          error: error instanceof Error ? error.message : String(error),
          retryInMs: delay,
        });
        await sleep(delay, this.#stop.signal);
      }
    }
    return undefined;
  }

  async #eachMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    if (this.#closing && this.#options.commitPerBatch) {
      // kafkajs would commit a record passed over here with its batch.
      throw new Error(`Subscription closed before ${topic} was handled`);
    }
    if (this.#closing || !this.#tracker.receive(topic, partition, message.offset)) return;
    const stopHeartbeat = keepAlive(payload.heartbeat, this.#options.timings.heartbeatInterval);
    try {
      await this.#deliver(toBusRecord(payload, message));
    } finally {
      stopHeartbeat();
    }
  }

  /**
   * Hands a batch to the per-key runner. With background commits the fetch loop goes on at once
   * (a record of another key fetched next starts without waiting for this batch's handlers)
   * until the backlog reaches its bound; with commits per batch it waits for every handler.
   */
  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const keyed = this.#keyed!;
    const deliveries: Promise<void>[] = [];
    const stopHeartbeat = keepAlive(payload.heartbeat, this.#options.timings.heartbeatInterval);
    try {
      for (const message of batch.messages) {
        if (this.#closing || !payload.isRunning() || payload.isStale()) break;
        if (!this.#tracker.receive(batch.topic, batch.partition, message.offset)) continue;
        const record = toBusRecord(batch, message);
        this.#backlog++;
        // Records without a key keep their partition's order (as without perKey).
        const lane = record.key ?? `${batch.topic}\u0000${batch.partition}`;
        const delivery = keyed.run(lane, () => this.#deliver(record));
        delivery.then(() => this.#settle(), () => this.#settle());
        if (this.#options.commitPerBatch) deliveries.push(delivery);
      }
      if (this.#options.commitPerBatch) await Promise.all(deliveries);
      else await this.#backlogBelow(MAX_BACKLOG);
    } finally {
      stopHeartbeat();
    }
  }

  #settle(): void {
    this.#backlog--;
    const waiters = this.#backlogWaiters;
    this.#backlogWaiters = [];
    for (const wake of waiters) wake();
  }

  async #backlogBelow(bound: number): Promise<void> {
    while (this.#backlog >= bound && !this.#closing) {
      await new Promise<void>((resolve) => this.#backlogWaiters.push(resolve));
    }
  }

  /**
   * Hands a record to the handler until it succeeds, waiting longer after each failure; marks
   * it finished and asks for a commit. On close a record not handled yet is left unfinished
   * (not committed, so the group's next member gets it).
   */
  async #deliver(record: BusRecord): Promise<void> {
    this.#inFlight++;
    try {
      const handled = !this.#closing && await deliverUntilHandled(record, {
        handler: this.#options.subscription.handler,
        log: this.#log,
        stopping: () => this.#closing,
        sleep: (ms) => sleep(ms, this.#stop.signal),
      });
      if (handled) {
        this.#tracker.finish(record.topic, record.partition, record.offset);
        if (!this.#options.commitPerBatch) this.#committer.schedule();
        return;
      }
      if (this.#options.commitPerBatch) {
        // kafkajs would commit the record with its batch: fail the batch instead.
        throw new Error(`Subscription closed before ${record.topic} was handled`);
      }
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#idle?.resolve();
    }
  }

  async #whenIdle(): Promise<void> {
    while (this.#inFlight > 0) {
      this.#idle = Promise.withResolvers<void>();
      await this.#idle.promise;
    }
  }
}

/** Consumers that run once and leave: reading a topic to its end, starting a new group at the end. */

import type { Kafka } from "kafkajs";
import type { RecordHandler } from "../bus.ts";
import type { Logger } from "../../log.ts";
import { backoffDelay, sleep } from "../../backoff.ts";
import { toBusRecord } from "./records.ts";
import { CONSUMER_ATTEMPTS, type ConsumerTimings, RETRY, SHORT_LIVED_BACKOFF } from "./settings.ts";
import type { TopicAdmin } from "./topic_admin.ts";

/** What a short-lived consumer needs from its bus. */
export interface ShortLivedConsumerOptions {
  /** The kafkajs client. */
  kafka: Kafka;
  /** Topic creation and offsets. */
  admin: TopicAdmin;
  /** Consumer timings of the bus. */
  timings: ConsumerTimings;
  /** Where failures and retries are logged. */
  log: Logger;
  /** The bus's client id, the prefix of temporary group ids. */
  clientId: string;
}

/**
 * Reads every record of a topic from the beginning up to the end offsets seen at call time,
 * in a temporary group deleted afterwards; a consumer that stops is replaced and skips what
 * was read. The handler's first error stops the read and is thrown.
 */
export async function readTopicToEnd(
  topic: string,
  handler: RecordHandler,
  options: ShortLivedConsumerOptions,
): Promise<void> {
  const { kafka, log } = options;
  const admin = await options.admin.connected();
  const offsets = await options.admin.topicOffsets(topic);
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
  const groupId = `${options.clientId}.read-all.${crypto.randomUUID()}`;
  let failure: { error: unknown } | undefined;
  try {
    for (let attempt = 1;; attempt++) {
      const consumer = kafka.consumer({ groupId, ...options.timings, retry: RETRY });
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
              await handler(toBusRecord(payload, payload.message));
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
        log.debug("Read-all consumer failed", { topic, error });
        result = "crashed";
      } finally {
        await consumer.disconnect().catch(() => {});
      }
      if (result === "done") break;
      if (attempt >= CONSUMER_ATTEMPTS) {
        throw new Error(`Reading ${topic} failed: its consumer stopped ${attempt} times`);
      }
      log.warn("Read-all consumer stopped; resuming with a new one", { topic, attempt });
      await sleep(backoffDelay(attempt - 1, SHORT_LIVED_BACKOFF));
    }
  } finally {
    await admin.deleteGroups([groupId]).catch((error) => {
      log.debug("Could not delete the read-all group", { groupId, error });
    });
  }
  if (failure) throw failure.error;
}

/**
 * A new group that must not read old records starts at the end offsets of now: they are
 * committed before the real member joins (kafkajs would otherwise look up the end lazily, at
 * its first fetch, and miss records published in between). Groups with commits are left alone.
 */
export async function startNewGroupAtEnd(
  groupId: string,
  topics: string[],
  options: ShortLivedConsumerOptions,
): Promise<void> {
  const { kafka, log } = options;
  const admin = await options.admin.connected();
  const committed = await admin.fetchOffsets({ groupId, topics });
  const fresh = committed
    .filter(({ partitions }) => partitions.every((partition) => partition.offset === "-1"))
    .map(({ topic }) => topic);
  if (fresh.length === 0) return;
  const ends = await Promise.all(
    fresh.map(async (topic) => ({ topic, offsets: await options.admin.topicOffsets(topic) })),
  );
  for (let attempt = 1;; attempt++) {
    const consumer = kafka.consumer({
      groupId,
      ...options.timings,
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
      log.debug("Could not set the start offsets of a new group", { groupId, error });
      result = "crashed";
    } finally {
      await consumer.disconnect().catch(() => {});
    }
    if (result === "done") return;
    if (attempt >= CONSUMER_ATTEMPTS) {
      throw new Error(`Could not set the start offsets of new group ${groupId}`);
    }
    await sleep(backoffDelay(attempt - 1, SHORT_LIVED_BACKOFF));
  }
}

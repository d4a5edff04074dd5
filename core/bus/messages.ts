/** Typed publishing and validated consumption on top of the raw bus. */

import type { z } from "zod";
import type { Bus, BusRecord, Subscription } from "./bus.ts";
import { deadLetterTopicFor } from "./topics.ts";
import type { DeadLetter } from "../contracts/activity.ts";
import type { Logger } from "../log.ts";

const DEAD_LETTER_VALUE_LIMIT = 4096;

/** Serialises a message for the bus. */
export function encodeMessage(message: unknown): string {
  return JSON.stringify(message);
}

/**
 * Publishes typed messages to one topic under one key. A bus that keeps records in the process
 * (MemoryBus) gets the objects themselves (`Bus.publishObjects`): no JSON until someone reads it.
 */
export async function publishMessages<T>(
  bus: Bus,
  topic: string,
  messages: { key?: string; message: T }[],
): Promise<void> {
  if (bus.publishObjects) {
    await bus.publishObjects(topic, messages);
    return;
  }
  await bus.publish(
    topic,
    messages.map(({ key, message }) => ({ key, value: encodeMessage(message) })),
  );
}

/**
 * Parses and validates a record; returns the reason instead of throwing. A record that carries its
 * message object (it never left the process, see `Bus.publishObjects`) is not parsed again.
 */
export function decodeRecord<S extends z.ZodType>(
  schema: S,
  record: BusRecord,
): { ok: true; message: z.infer<S> } | { ok: false; reason: string } {
  if (record.message !== undefined) return { ok: true, message: record.message as z.infer<S> };
  let json: unknown;
  try {
    json = JSON.parse(record.value);
  } catch (error) {
    return { ok: false, reason: `Invalid JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    return { ok: false, reason: `Schema mismatch: ${issues}` };
  }
  return { ok: true, message: parsed.data };
}

/** Dead-letter keys already written through each bus (bounded, oldest forgotten first). */
const deadLettered = new WeakMap<Bus, Set<string>>();
/** How many dead-letter keys a bus remembers. */
const DEAD_LETTER_MEMORY = 10_000;

/** The key of a record's dead letter: where the record is, so every copy has the same key. */
export function deadLetterKey(record: BusRecord): string {
  return `${record.topic}/${record.partition}/${record.offset}`;
}

/** Options for {@linkcode deadLetter}. */
export interface DeadLetterOptions {
  /** Why the record is invalid. */
  reason: string;
  /** Where the record is reported. */
  log: Logger;
  /** Dead-letter topic (default the source topic's prefix + `arena.dead_letter`). */
  topic?: string;
}

/**
 * Logs an invalid record with its topic and offset and sends it to the dead-letter topic of its
 * arena (`<prefix>arena.dead_letter`).
 *
 * Once per record: one bad record on a topic read by many consumer groups (every agent reads the
 * market topic in its own group) would otherwise be dead-lettered once per group. The letter's
 * key is the record's place (`topic/partition/offset`), the same for every reader; a bus writes
 * each key once (the other readers in the process only log at debug level), and the dead-letter
 * topic is compacted, so copies from readers in other processes collapse to one per record.
 * Readers of the dead-letter topic treat the key as the letter's identity.
 */
export async function deadLetter(
  bus: Bus,
  record: BusRecord,
  options: DeadLetterOptions,
): Promise<void> {
  const key = deadLetterKey(record);
  let written = deadLettered.get(bus);
  if (!written) deadLettered.set(bus, written = new Set());
  if (written.has(key)) {
    options.log.debug("Invalid message already dead-lettered", { key, reason: options.reason });
    return;
  }
  written.add(key);
  if (written.size > DEAD_LETTER_MEMORY) written.delete(written.values().next().value!);
  options.log.warn("Skipping invalid message", {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    reason: options.reason,
  });
  const letter: DeadLetter = {
    v: 1,
    sourceTopic: record.topic,
    partition: record.partition,
    offset: record.offset,
    reason: options.reason,
    value: record.value.slice(0, DEAD_LETTER_VALUE_LIMIT),
    time: new Date().toISOString(),
  };
  const topic = options.topic ?? deadLetterTopicFor(record.topic);
  try {
    await bus.publish(topic, [{ key, value: encodeMessage(letter) }]);
  } catch (error) {
    // Not written: the redelivered record (or another reader) tries again.
    written.delete(key);
    throw error;
  }
}

/** Options for {@linkcode subscribeMessages}. */
export interface SubscribeMessagesOptions<S extends z.ZodType> {
  /** Consumer group id. */
  groupId: string;
  /** Topics to consume. */
  topics: string[];
  /** Schema every message must match. */
  schema: S;
  /** Called with each valid message; invalid ones are dead-lettered and skipped. */
  handler: (message: z.infer<S>, record: BusRecord) => Promise<void>;
  /** Where invalid messages are reported. */
  log: Logger;
  /** Start from the earliest record when the group is new (default true). */
  fromBeginning?: boolean;
  /** Dead-letter topic (default the source topic's prefix + `arena.dead_letter`). */
  deadLetterTopic?: string;
}

/** Subscribes with validation: an invalid message never reaches the handler or crashes it. */
export function subscribeMessages<S extends z.ZodType>(
  bus: Bus,
  options: SubscribeMessagesOptions<S>,
): Promise<Subscription> {
  return bus.subscribe({
    groupId: options.groupId,
    topics: options.topics,
    fromBeginning: options.fromBeginning,
    handler: async (record) => {
      const decoded = decodeRecord(options.schema, record);
      if (!decoded.ok) {
        await deadLetter(bus, record, {
          reason: decoded.reason,
          log: options.log,
          topic: options.deadLetterTopic,
        });
        return;
      }
      await options.handler(decoded.message, record);
    },
  });
}

/** Reads a whole topic with validation, skipping (and logging) invalid records. */
export async function readAllMessages<S extends z.ZodType>(
  bus: Bus,
  topic: string,
  options: { schema: S; log: Logger; handler: (message: z.infer<S>) => void | Promise<void> },
): Promise<void> {
  await bus.readAll(topic, async (record) => {
    const decoded = decodeRecord(options.schema, record);
    if (!decoded.ok) {
      options.log.warn("Skipping invalid message", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        reason: decoded.reason,
      });
      return;
    }
    await options.handler(decoded.message);
  });
}

/** Typed publishing and validated consumption on top of the raw bus. */

import type { z } from "zod";
import type { Bus, BusRecord, Subscription } from "./bus.ts";
import { DEAD_LETTER_TOPIC } from "./topics.ts";
import type { DeadLetter } from "../contracts/activity.ts";
import type { Logger } from "../log.ts";

const DEAD_LETTER_VALUE_LIMIT = 4096;

/** Serialises a message for the bus. */
export function encodeMessage(message: unknown): string {
  return JSON.stringify(message);
}

/** Publishes typed messages to one topic under one key. */
export async function publishMessages<T>(
  bus: Bus,
  topic: string,
  messages: { key?: string; message: T }[],
): Promise<void> {
  await bus.publish(
    topic,
    messages.map(({ key, message }) => ({ key, value: encodeMessage(message) })),
  );
}

/** Parses and validates a record; returns the reason instead of throwing. */
export function decodeRecord<S extends z.ZodType>(
  schema: S,
  record: BusRecord,
): { ok: true; message: z.infer<S> } | { ok: false; reason: string } {
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

/** Logs an invalid record with its topic and offset and sends it to the dead-letter topic. */
export async function deadLetter(
  bus: Bus,
  record: BusRecord,
  options: { reason: string; log: Logger },
): Promise<void> {
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
  await bus.publish(DEAD_LETTER_TOPIC, [{ key: record.topic, value: encodeMessage(letter) }]);
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
        await deadLetter(bus, record, { reason: decoded.reason, log: options.log });
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

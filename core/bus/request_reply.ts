/** Request/reply over the bus: requests carry a correlation id and a reply-to topic. */

import type { z } from "zod";
import type { Bus, BusRecord, Subscription } from "./bus.ts";
import { deadLetter, decodeRecord, publishMessages } from "./messages.ts";
import type { Logger } from "../log.ts";

/** Options for {@linkcode ReplyInbox.open}. */
export interface ReplyInboxOptions {
  /** Topic the replies arrive on (the reply-to topic named in requests). */
  replyTopic: string;
  /** Consumer group of the inbox; one per process that waits for replies. */
  groupId: string;
  /** Where ignored and invalid replies are reported. */
  log: Logger;
}

interface Waiter {
  resolve(reply: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Waits for replies on one topic and hands each to the caller that expects its correlation id. */
export class ReplyInbox {
  #waiters = new Map<string, Waiter>();
  #log: Logger;
  #replyTopic: string;
  #subscription?: Subscription;
  #closed = false;

  private constructor(options: ReplyInboxOptions) {
    this.#log = options.log;
    this.#replyTopic = options.replyTopic;
  }

  /** Subscribes to the reply topic, reading only replies published from now on. */
  static async open(bus: Bus, options: ReplyInboxOptions): Promise<ReplyInbox> {
    const inbox = new ReplyInbox(options);
    inbox.#subscription = await bus.subscribe({
      groupId: options.groupId,
      topics: [options.replyTopic],
      fromBeginning: false,
      concurrency: 16,
      handler: (record) => Promise.resolve(inbox.#receive(record)),
    });
    return inbox;
  }

  /** Registers interest in a reply; call before sending the request. Resolves with its JSON. */
  expect(correlationId: string, timeoutMs: number): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(new Error(`Reply inbox on ${this.#replyTopic} is closed`));
    }
    if (this.#waiters.has(correlationId)) {
      return Promise.reject(
        new Error(`A reply with correlation id ${correlationId} is already expected`),
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(correlationId);
        reject(
          new Error(
            `No reply with correlation id ${correlationId} on ${this.#replyTopic} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#waiters.set(correlationId, { resolve, reject, timer });
    });
  }

  /** Number of replies still awaited. */
  get pending(): number {
    return this.#waiters.size;
  }

  /** Stops consuming; replies still awaited are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [correlationId, waiter] of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(
        new Error(`Reply inbox on ${this.#replyTopic} closed before reply ${correlationId}`),
      );
    }
    this.#waiters.clear();
    await this.#subscription?.close();
  }

  #receive(record: BusRecord): void {
    let reply: unknown = record.message;
    try {
      // A reply that never left the process carries its object: no JSON to parse.
      reply ??= JSON.parse(record.value);
    } catch {
      this.#log.warn("Ignoring a reply that is not JSON", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      });
      return;
    }
    const correlationId = typeof reply === "object" && reply !== null
      ? (reply as { correlationId?: unknown }).correlationId
      : undefined;
    const waiter = typeof correlationId === "string" ? this.#waiters.get(correlationId) : undefined;
    if (typeof correlationId !== "string" || !waiter) {
      this.#log.debug("Ignoring a late or unknown reply", {
        topic: record.topic,
        offset: record.offset,
        correlationId,
      });
      return;
    }
    this.#waiters.delete(correlationId);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }
}

/** What a request handler returns: the reply and where it goes. */
export interface ServedReply {
  /** Topic the reply is published to (the request's reply-to). */
  replyTo: string;
  /** Partitioning key of the reply. */
  key?: string;
  /** The reply message; it should carry the request's `correlationId`. */
  reply: unknown;
  /**
   * Records published with the reply (e.g. usage activity): sent at the same time, so one
   * produce request can carry them all, and acknowledged before the request's offset commits.
   */
  alongside?: { topic: string; key?: string; message: unknown }[];
}

/** Options for {@linkcode serveRequests}. */
export interface ServeRequestsOptions<S extends z.ZodType> {
  /** Consumer group: the members of one group share the requests. */
  groupId: string;
  /** Request topic. */
  topic: string;
  /** Schema every request must match; invalid requests are dead-lettered. */
  schema: S;
  /** Where invalid requests are reported. */
  log: Logger;
  /**
   * Requests handled at once (default 1): with `perKey`, requests of different keys (agents) run
   * at once and each key's requests in order; without it, one per partition at a time.
   */
  concurrency?: number;
  /** Handle requests of different keys concurrently, in order per key (default true). */
  perKey?: boolean;
  /** Called when the group (re)assigned request partitions to this member (see the bus). */
  onAssigned?: () => void;
  /** Answers one request; a handler that throws gets the request delivered again. */
  handle(request: z.infer<S>): Promise<ServedReply>;
}

/** Serves validated requests; each reply is published before the request's offset is committed. */
export function serveRequests<S extends z.ZodType>(
  bus: Bus,
  options: ServeRequestsOptions<S>,
): Promise<Subscription> {
  return bus.subscribe({
    groupId: options.groupId,
    topics: [options.topic],
    concurrency: options.concurrency,
    perKey: options.perKey ?? true,
    onAssigned: options.onAssigned,
    handler: async (record) => {
      const decoded = decodeRecord(options.schema, record);
      if (!decoded.ok) {
        await deadLetter(bus, record, { reason: decoded.reason, log: options.log });
        return;
      }
      const { replyTo, key, reply, alongside = [] } = await options.handle(decoded.message);
      await Promise.all([
        publishMessages(bus, replyTo, [{ key, message: reply }]),
        ...alongside.map((side) =>
          publishMessages(bus, side.topic, [{ key: side.key, message: side.message }])
        ),
      ]);
    },
  });
}

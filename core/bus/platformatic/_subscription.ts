/**
 * One consumer-group member on @platformatic/kafka: fetches with a stream, hands records to a
 * {@linkcode RecordDispatcher}, commits handled offsets in the background through the shared
 * {@linkcode OffsetCommitter} (never on the fetch path, at most once a second), and replaces its
 * consumer when the stream fails (a broker restart).
 */

import {
  type BaseOptions,
  type CommitOptionsPartition,
  Consumer,
  type GroupOptions,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
  UserError,
} from "@platformatic/kafka";
import type { BusRecord, SubscribeOptions } from "../bus.ts";
import { backoffDelay, sleep, waitAtMost } from "../../backoff.ts";
import type { Logger } from "../../log.ts";
import { OffsetCommitter } from "../offset_committer.ts";
import { type CommittableOffset, RecordDispatcher } from "./dispatcher.ts";

/** Records buffered past the handlers before the fetch pauses. */
const MAX_BACKLOG = 2_048;
/** How often the first consumer of a subscription is tried before subscribe() fails. */
const START_ATTEMPTS = 4;
/** Pause before a failed commit is tried again. */
const COMMIT_RETRY_MS = 200;
/** How long close() keeps trying to commit handled offsets. */
const CLOSE_COMMIT_BUDGET_MS = 10_000;

type StringConsumer = Consumer<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;
type StringMessage = Message<string, string, string, string>;

/** Consumer settings shared by every member of a bus. */
export type MemberClientOptions = BaseOptions & GroupOptions & {
  /** Longest time a fetch waits for new records when a partition is idle. */
  maxWaitTime?: number;
};

/** Options for {@linkcode GroupMember}. */
export interface GroupMemberOptions {
  /** What to consume and how (the bus's subscribe options). */
  subscribe: SubscribeOptions;
  /** Client settings (brokers, timings, security). */
  client: MemberClientOptions;
  /** Where restarts and redeliveries are reported. */
  log: Logger;
}

function toBusRecord(message: StringMessage): BusRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of message.headers) {
    if (name !== undefined && value !== undefined) headers[String(name)] = String(value);
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    key: message.key ?? null,
    value: message.value ?? "",
    headers,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A running consumer-group member; see the module description. */
export class GroupMember {
  #options: GroupMemberOptions;
  #log: Logger;
  #dispatcher: RecordDispatcher;
  #consumer?: StringConsumer;
  #stream?: StringStream;
  #paused = false;
  /** Partitions assigned at the last join, as "topic:partition". */
  #assigned = new Set<string>();
  #closing = false;
  #restarting?: Promise<void>;
  #failures = 0;
  /** Aborted by close(): ends a wait between consumer restarts. */
  #stopping = new AbortController();
  /** Handled offsets not committed yet, by "topic:partition". */
  #pendingCommits = new Map<string, CommitOptionsPartition>();
  #committer: OffsetCommitter<CommitOptionsPartition>;
  #closed?: Promise<void>;

  /** Creates a member; {@linkcode GroupMember.start} joins the group. */
  constructor(options: GroupMemberOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#dispatcher = new RecordDispatcher({
      handler: options.subscribe.handler,
      concurrency: Math.max(1, options.subscribe.concurrency ?? 1),
      perKey: options.subscribe.perKey ?? false,
      log: options.log,
      onCommittable: (commit) => this.#queueCommit(commit),
      onSettled: () => this.#maybeResume(),
    });
    this.#committer = new OffsetCommitter({
      tracker: {
        uncommitted: () => [...this.#pendingCommits.values()],
        committed: (offsets) => this.#forgetCommitted(offsets),
      },
      commit: (offsets) => this.#commit(offsets),
      log: options.log,
    });
  }

  /**
   * Joins the group and starts fetching; a broker that is still loading (no coordinator yet) is
   * tried again a few times, then the error is thrown. Invalid settings throw at once.
   */
  async start(): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await this.#startConsumer();
        return;
      } catch (error) {
        if (error instanceof UserError || attempt + 1 >= START_ATTEMPTS) throw error;
        const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 5_000 });
        this.#log.debug("Could not join the group yet; trying again", {
          groupId: this.#options.subscribe.groupId,
          error: describe(error),
          retryInMs: delay,
        });
        await sleep(delay);
      }
    }
  }

  /** Stops fetching, finishes running handlers, commits their offsets and leaves the group. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      this.#stopping.abort();
      this.#stream?.pause();
      await this.#dispatcher.stop();
      await this.#restarting;
      await this.#flushCommits(CLOSE_COMMIT_BUDGET_MS);
      await this.#stopConsumer(false);
    })();
    return this.#closed;
  }

  async #startConsumer(): Promise<void> {
    const { subscribe, client } = this.#options;
    const consumer: StringConsumer = new Consumer({
      ...client,
      groupId: subscribe.groupId,
      autocommit: false,
      deserializers: stringDeserializers,
    });
    consumer.on("consumer:group:join", (payload) => {
      const assigned = new Set<string>();
      for (const assignment of payload.assignments ?? consumer.assignments ?? []) {
        for (const partition of assignment.partitions) {
          assigned.add(`${assignment.topic}:${partition}`);
        }
      }
      this.#assigned = assigned;
      this.#dispatcher.revoke(assigned);
      for (const key of [...this.#pendingCommits.keys()]) {
        if (!assigned.has(key)) this.#pendingCommits.delete(key);
      }
      this.#committer.schedule();
      try {
        this.#options.subscribe.onAssigned?.();
      } catch (error) {
        this.#log.warn("onAssigned failed", { error: describe(error) });
      }
    });
    // The client reports a failed rejoin as an "error" event (fatal without a listener) and a
    // member that could not heartbeat for a rebalance timeout as stalled: both need a new member.
    consumer.on("error", (error: Error) => this.#restart(consumer, error));
    consumer.on("consumer:heartbeat:stalled", (payload) => {
      const reason = payload.lastError?.message ?? "no heartbeat answered";
      this.#restart(
        consumer,
        new Error(`Heartbeats stalled for ${payload.stalledFor} ms: ${reason}`),
      );
    });
    let stream: StringStream;
    try {
      stream = await consumer.consume({
        topics: subscribe.topics,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: (subscribe.fromBeginning ?? true)
          ? MessagesStreamFallbackModes.EARLIEST
          : MessagesStreamFallbackModes.LATEST,
        autocommit: false,
      });
    } catch (error) {
      await consumer.close(true).catch(() => {});
      throw error;
    }
    this.#consumer = consumer;
    this.#stream = stream;
    this.#paused = false;
    stream.on("data", (message: StringMessage) => {
      // A fetch sent before a rebalance can answer after it, with partitions now owned by another
      // member: those records are theirs to handle.
      if (!this.#assigned.has(`${message.topic}:${message.partition}`)) return;
      this.#dispatcher.push(toBusRecord(message), message.leaderEpoch);
      if (!this.#paused && this.#dispatcher.backlog >= MAX_BACKLOG) {
        this.#paused = true;
        stream.pause();
      }
    });
    stream.on("error", (error: Error) => this.#restart(consumer, error));
    stream.on("close", () => this.#restart(consumer, new Error("Message stream closed")));
    this.#failures = 0;
  }

  #maybeResume(): void {
    if (!this.#paused || this.#closing) return;
    if (this.#dispatcher.backlog > MAX_BACKLOG / 2) return;
    this.#paused = false;
    this.#stream?.resume();
  }

  /**
   * Replaces the consumer after its stream failed or it lost the group for good (a broker
   * restart longer than the retries); handlers running now finish first.
   */
  #restart(failed: StringConsumer, error: Error): void {
    if (this.#closing || this.#consumer !== failed || this.#restarting) return;
    this.#restarting = (async () => {
      this.#log.warn("Kafka consumer stopped after an error; starting a new one", {
        groupId: this.#options.subscribe.groupId,
        error: error.message,
      });
      this.#dispatcher.revoke(new Set());
      await this.#dispatcher.idle();
      await this.#flushCommits(2_000);
      await this.#stopConsumer(true);
      while (!this.#closing) {
        try {
          await this.#startConsumer();
          break;
        } catch (startError) {
          if (this.#closing) break;
          const delay = backoffDelay(this.#failures++, { initialMs: 500, maxMs: 10_000 });
          this.#log.warn("Could not start a new Kafka consumer; trying again", {
            groupId: this.#options.subscribe.groupId,
            error: describe(startError),
            retryInMs: delay,
          });
          await sleep(delay, this.#stopping.signal);
        }
      }
    })().finally(() => this.#restarting = undefined);
  }

  async #stopConsumer(force: boolean): Promise<void> {
    const stream = this.#stream;
    const consumer = this.#consumer;
    this.#stream = undefined;
    this.#consumer = undefined;
    await stream?.close().catch(() => {});
    await consumer?.close(force).catch(async (error: unknown) => {
      this.#log.debug("Leaving the group failed; closing at once", { error: describe(error) });
      await consumer.close(true).catch(() => {});
    });
  }

  #queueCommit(commit: CommittableOffset): void {
    const key = `${commit.topic}:${commit.partition}`;
    const current = this.#pendingCommits.get(key);
    if (current && current.offset >= commit.offset) return;
    this.#pendingCommits.set(key, { ...commit });
    this.#committer.schedule();
  }

  /** Sends one commit; mid-rebalance it is refused here (sent, it would make the client rejoin). */
  #commit(offsets: CommitOptionsPartition[]): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer?.isActive()) {
      return Promise.reject(new Error("No active consumer to commit through (rebalancing)"));
    }
    return consumer.commit({ offsets });
  }

  /** Drops the committed offsets, keeping any newer one handled while the commit ran. */
  #forgetCommitted(offsets: CommitOptionsPartition[]): void {
    for (const offset of offsets) {
      const key = `${offset.topic}:${offset.partition}`;
      const current = this.#pendingCommits.get(key);
      if (current && current.offset <= offset.offset) this.#pendingCommits.delete(key);
    }
  }

  /**
   * Commits what was handled, trying again for at most `budgetMs` while a consumer runs (a
   * rebalance may be under way). Always flushes once, which also cancels a commit waiting for
   * its interval.
   */
  async #flushCommits(budgetMs: number): Promise<void> {
    const deadline = Date.now() + budgetMs;
    for (;;) {
      await waitAtMost(this.#committer.flush(), Math.max(0, deadline - Date.now()));
      const left = deadline - Date.now();
      if (this.#pendingCommits.size === 0 || !this.#consumer || left <= 0) return;
      await sleep(Math.min(COMMIT_RETRY_MS, left));
    }
  }
}

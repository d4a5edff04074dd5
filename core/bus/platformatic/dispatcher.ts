/**
 * Hands fetched records to a handler: one at a time per partition (or per key), a bounded number
 * at once, again with backoff when the handler throws, and reports the offsets safe to commit.
 */

import type { BusRecord, RecordHandler } from "../bus.ts";
import { deliverUntilHandled, REDELIVERY_BACKOFF } from "../redelivery.ts";
import type { Logger } from "../../log.ts";

/** Options for {@linkcode RecordDispatcher}. */
export interface RecordDispatcherOptions {
  /** Called once per record until it resolves. */
  handler: RecordHandler;
  /** Most handlers running at once (at least 1). */
  concurrency: number;
  /** Run records of different keys of one partition at once, in order per key. */
  perKey: boolean;
  /** Told the next offset to commit of a partition once every record before it was handled. */
  onCommittable: (commit: CommittableOffset) => void;
  /** Called after each record was handled or dropped (to resume a paused fetch). */
  onSettled?: () => void;
  /** Where redeliveries are reported. */
  log: Logger;
  /**
   * First redelivery delay in ms (default {@linkcode REDELIVERY_BACKOFF}'s); doubles up to
   * `maxRedeliveryDelayMs`.
   */
  redeliveryDelayMs?: number;
  /** Longest redelivery delay in ms (default {@linkcode REDELIVERY_BACKOFF}'s). */
  maxRedeliveryDelayMs?: number;
}

/** An offset that may be committed: every record of the partition before it was handled. */
export interface CommittableOffset {
  /** Topic of the partition. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** Next offset to read (the last handled offset plus one). */
  offset: bigint;
  /** Leader epoch of the last handled record, or -1. */
  leaderEpoch: number;
}

interface Entry {
  offset: bigint;
  done: boolean;
}

/** Records of one partition taken so far, in offset order, until their commit is known. */
interface PartitionTrack {
  topic: string;
  partition: number;
  /** Entries not yet committable, in offset order; `head` is the first live one. */
  entries: Entry[];
  head: number;
  /** Records below this offset were taken already; the fetch may send them again. */
  nextOffset: bigint;
  leaderEpoch: number;
}

interface Item {
  record: BusRecord;
  track: PartitionTrack;
  entry: Entry;
  leaderEpoch: number;
}

interface Lane {
  id: string;
  partitionKey: string;
  queue: Item[];
  running: boolean;
}

/** Dispatches the records of one subscription; see the module description. */
export class RecordDispatcher {
  #options: RecordDispatcherOptions;
  #tracks = new Map<string, PartitionTrack>();
  #lanes = new Map<string, Lane>();
  #ready: Lane[] = [];
  #running = 0;
  #queued = 0;
  #inFlight = new Set<Promise<void>>();
  #stopping = false;
  #wakers = new Set<() => void>();

  /** Creates a dispatcher; records arrive through {@linkcode RecordDispatcher.push}. */
  constructor(options: RecordDispatcherOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`Concurrency must be a positive whole number, got ${options.concurrency}`);
    }
    this.#options = options;
  }

  /** Records waiting or being handled. */
  get backlog(): number {
    return this.#queued + this.#running;
  }

  /**
   * Takes a fetched record; a record below the partition's next offset was taken before (the
   * fetch restarts from the committed offset after a rebalance) and is dropped.
   */
  push(record: BusRecord, leaderEpoch = -1): void {
    if (this.#stopping) return;
    const partitionKey = `${record.topic}:${record.partition}`;
    const offset = BigInt(record.offset);
    let track = this.#tracks.get(partitionKey);
    if (!track) {
      track = {
        topic: record.topic,
        partition: record.partition,
        entries: [],
        head: 0,
        nextOffset: offset,
        leaderEpoch,
      };
      this.#tracks.set(partitionKey, track);
    }
    if (offset < track.nextOffset) return;
    track.nextOffset = offset + 1n;
    const entry: Entry = { offset, done: false };
    track.entries.push(entry);
    const laneId = this.#options.perKey ? `${partitionKey}:${record.key ?? ""}` : partitionKey;
    let lane = this.#lanes.get(laneId);
    if (!lane) {
      lane = { id: laneId, partitionKey, queue: [], running: false };
      this.#lanes.set(laneId, lane);
    }
    lane.queue.push({ record, track, entry, leaderEpoch });
    this.#queued++;
    if (!lane.running && lane.queue.length === 1) this.#ready.push(lane);
    this.#pump();
  }

  /**
   * Forgets partitions not in `assigned` ("topic:partition"): their waiting records are dropped
   * and handlers still running for them no longer report offsets (the new owner reads them).
   */
  revoke(assigned: Set<string>): void {
    for (const [key, track] of this.#tracks) {
      if (assigned.has(key)) continue;
      this.#tracks.delete(key);
      track.entries = [];
      track.head = 0;
    }
    for (const lane of this.#lanes.values()) {
      if (assigned.has(lane.partitionKey)) continue;
      this.#queued -= lane.queue.length;
      lane.queue = [];
      if (!lane.running) this.#lanes.delete(lane.id);
    }
    this.#ready = this.#ready.filter((lane) => lane.queue.length > 0);
    this.#options.onSettled?.();
  }

  /** Resolves once no handler runs. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /**
   * Stops: waiting records are dropped, a record waiting for redelivery is given up, and the
   * promise resolves once running handlers finished (their offsets are still reported).
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const lane of this.#lanes.values()) {
      this.#queued -= lane.queue.length;
      lane.queue = [];
    }
    this.#ready = [];
    for (const wake of [...this.#wakers]) wake();
    await this.idle();
  }

  #pump(): void {
    while (this.#running < this.#options.concurrency && this.#ready.length > 0) {
      const lane = this.#ready.shift()!;
      const item = lane.queue.shift();
      if (!item) continue;
      this.#queued--;
      this.#running++;
      lane.running = true;
      const run = this.#run(item).finally(() => {
        this.#inFlight.delete(run);
        this.#running--;
        lane.running = false;
        if (lane.queue.length > 0) this.#ready.push(lane);
        else if (this.#lanes.get(lane.id) === lane) this.#lanes.delete(lane.id);
        this.#pump();
        this.#options.onSettled?.();
      });
      this.#inFlight.add(run);
    }
  }

  async #run(item: Item): Promise<void> {
    const { record } = item;
    const handled = await deliverUntilHandled(record, {
      handler: this.#options.handler,
      backoff: {
        ...REDELIVERY_BACKOFF,
        initialMs: this.#options.redeliveryDelayMs ?? REDELIVERY_BACKOFF.initialMs,
        maxMs: this.#options.maxRedeliveryDelayMs ?? REDELIVERY_BACKOFF.maxMs,
      },
      log: this.#options.log,
      stopping: () => this.#stopping,
      sleep: (ms) => this.#sleep(ms),
    });
    if (!handled) return;
    item.entry.done = true;
    this.#advance(item.track, item.leaderEpoch);
  }

  /** Moves a partition's committable offset past every handled record at its front. */
  #advance(track: PartitionTrack, leaderEpoch: number): void {
    if (this.#tracks.get(`${track.topic}:${track.partition}`) !== track) return;
    let last: Entry | undefined;
    while (track.head < track.entries.length && track.entries[track.head]!.done) {
      last = track.entries[track.head]!;
      track.head++;
    }
    if (!last) return;
    if (track.head > 1024 && track.head * 2 > track.entries.length) {
      track.entries = track.entries.slice(track.head);
      track.head = 0;
    }
    track.leaderEpoch = leaderEpoch;
    this.#options.onCommittable({
      topic: track.topic,
      partition: track.partition,
      offset: last.offset + 1n,
      leaderEpoch,
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }
}

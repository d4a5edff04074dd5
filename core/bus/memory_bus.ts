/**
 * In-memory bus with Kafka's semantics, for the single-process arena and fast tests.
 *
 * Records published with {@linkcode MemoryBus.publishObjects} keep their message object: readers
 * get it on `BusRecord.message` (no parsing or validation again: it never left the process) and
 * its JSON text is made only when a reader asks for `value`. Compacted topics keep every record
 * (`readAll` returns them all; readers of a compacted topic take the last record per key).
 */

import type {
  Bus,
  BusRecord,
  OutgoingMessage,
  OutgoingRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "./bus.ts";
import { dynamicTopic } from "./topics.ts";
import { partitionForKey } from "./partition.ts";

/** Delay before a record whose handler threw is delivered again. */
const REDELIVERY_DELAY_MS = 100;
/** Records a `perKey` member reads ahead of the oldest unfinished one, per partition. */
const PER_KEY_LOOKAHEAD = 1024;

interface StoredTopic {
  spec: TopicSpec;
  partitions: BusRecord[][];
  roundRobin: number;
  /** Pumps of this topic waiting for a record or a membership change. */
  wakers: Set<() => void>;
}

interface Member {
  handler: (record: BusRecord) => Promise<void>;
  inFlight: Set<Promise<void>>;
  /** Records of different keys run at once (up to `concurrency`), in order per key. */
  perKey: boolean;
  /** Handlers running at once over all of the member's partitions, with `perKey`. */
  concurrency: number;
  /** Handlers running now, with `perKey`. */
  active: number;
  /** False once the member left its group. */
  joined: boolean;
}

interface Group {
  id: string;
  fromBeginning: boolean;
  members: Member[];
  /** Next offset to commit per "topic/partition"; only advanced after the handler finished. */
  committed: Map<string, number>;
  /** Place of each "topic/partition" in sorted order: partitions are dealt round-robin. */
  order: Map<string, number>;
  pumps: Set<string>;
}

/** A record whose JSON text is made from its message object on first read. */
function objectRecord(
  place: Omit<BusRecord, "value" | "message">,
  message: unknown,
): BusRecord {
  let text: string | undefined;
  return {
    ...place,
    message,
    get value(): string {
      return text ??= JSON.stringify(message);
    },
  };
}

/** A bus that keeps every topic in memory; records are lost when the process ends. */
export class MemoryBus implements Bus {
  #topics = new Map<string, StoredTopic>();
  #groups = new Map<string, Group>();
  #closed = false;
  #closeWakers = new Set<() => void>();

  /** Creates the topics that do not exist yet. */
  ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) this.#topic(spec.topic, spec);
    return Promise.resolve();
  }

  /** Appends records; resolves at once because memory is the broker. */
  publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Bus is closed"));
    const stored = this.#topic(topic);
    for (const record of records) {
      const { log, partition } = this.#place(stored, record.key);
      log.push({
        topic,
        partition,
        offset: String(log.length),
        key: record.key ?? null,
        value: record.value,
        headers: { ...record.headers },
      });
    }
    this.#wakeTopic(stored);
    return Promise.resolve();
  }

  /** Appends message objects; readers get them without parsing, JSON is made when read. */
  publishObjects(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Bus is closed"));
    const stored = this.#topic(topic);
    for (const outgoing of messages) {
      const { log, partition } = this.#place(stored, outgoing.key);
      log.push(objectRecord({
        topic,
        partition,
        offset: String(log.length),
        key: outgoing.key ?? null,
        headers: { ...outgoing.headers },
      }, outgoing.message));
    }
    this.#wakeTopic(stored);
    return Promise.resolve();
  }

  /** Joins a consumer group; partitions are shared among the group's members. */
  subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) return Promise.reject(new Error("Bus is closed"));
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      return Promise.reject(
        new Error(`Concurrency must be a positive integer, got ${options.concurrency}`),
      );
    }
    let group = this.#groups.get(options.groupId);
    if (!group) {
      group = {
        id: options.groupId,
        fromBeginning: options.fromBeginning ?? true,
        members: [],
        committed: new Map(),
        order: new Map(),
        pumps: new Set(),
      };
      this.#groups.set(options.groupId, group);
    }
    const member: Member = {
      handler: options.handler,
      inFlight: new Set(),
      perKey: options.perKey ?? false,
      concurrency,
      active: 0,
      joined: true,
    };
    group.members.push(member);
    let added = false;
    for (const topic of options.topics) {
      const stored = this.#topic(topic);
      stored.partitions.forEach((log, partition) => {
        const key = `${topic}/${partition}`;
        if (!group.committed.has(key)) {
          group.committed.set(key, group.fromBeginning ? 0 : log.length);
          added = true;
        }
      });
    }
    if (added) {
      const keys = [...group.committed.keys()].sort();
      group.order = new Map(keys.map((key, index) => [key, index]));
    }
    for (const topic of options.topics) {
      this.#topic(topic).partitions.forEach((_, partition) => {
        const key = `${topic}/${partition}`;
        if (!group.pumps.has(key)) {
          group.pumps.add(key);
          this.#pump(group, topic, partition);
        }
      });
    }
    this.#wakeAll();
    const activeGroup = group;
    return Promise.resolve({
      close: async () => {
        member.joined = false;
        activeGroup.members = activeGroup.members.filter((other) => other !== member);
        this.#wakeAll();
        while (member.inFlight.size > 0) await Promise.all([...member.inFlight]);
        this.#wakeAll();
      },
    });
  }

  /** Next offset to be written in every partition of a topic. */
  endOffsets(topic: string): Promise<Map<number, string>> {
    const stored = this.#topic(topic);
    return Promise.resolve(
      new Map(stored.partitions.map((log, partition) => [partition, String(log.length)])),
    );
  }

  /** Reads every record of a topic up to its current end (all of them on a compacted topic). */
  async readAll(topic: string, handler: (record: BusRecord) => Promise<void>): Promise<void> {
    const stored = this.#topic(topic);
    const ends = stored.partitions.map((log) => log.length);
    for (const [partition, log] of stored.partitions.entries()) {
      for (let offset = 0; offset < ends[partition]!; offset++) await handler(log[offset]!);
    }
  }

  /** Stops every pump after in-flight handlers finish. */
  async close(): Promise<void> {
    this.#closed = true;
    const members = [...this.#groups.values()].flatMap((group) => group.members);
    for (const group of this.#groups.values()) group.members = [];
    for (const member of members) member.joined = false;
    for (const wake of this.#closeWakers) wake();
    this.#closeWakers.clear();
    this.#wakeAll();
    await Promise.all(members.flatMap((member) => [...member.inFlight]));
  }

  #topic(topic: string, spec?: TopicSpec): StoredTopic {
    let stored = this.#topics.get(topic);
    if (!stored) {
      const created = spec ?? dynamicTopic(topic);
      stored = {
        spec: created,
        partitions: Array.from({ length: created.partitions }, () => []),
        roundRobin: 0,
        wakers: new Set(),
      };
      this.#topics.set(topic, stored);
    }
    return stored;
  }

  /** The partition a record goes to: by key, else round-robin. */
  #place(stored: StoredTopic, key: string | undefined): { log: BusRecord[]; partition: number } {
    const count = stored.partitions.length;
    const partition = key === undefined ? stored.roundRobin++ % count : partitionForKey(key, count);
    return { log: stored.partitions[partition]!, partition };
  }

  /** Waits before a failed record is delivered again; cut short when the bus closes. */
  #redeliveryDelay(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#closeWakers.delete(done);
        resolve();
      }, REDELIVERY_DELAY_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#closeWakers.add(done);
    });
  }

  #wakeTopic(stored: StoredTopic): void {
    if (stored.wakers.size === 0) return;
    const wakers = [...stored.wakers];
    stored.wakers.clear();
    for (const wake of wakers) wake();
  }

  #wakeAll(): void {
    for (const stored of this.#topics.values()) this.#wakeTopic(stored);
  }

  #waitForChange(stored: StoredTopic): Promise<void> {
    return new Promise((resolve) => stored.wakers.add(resolve));
  }

  /** Member that owns a partition: partitions are dealt round-robin over members. */
  #owner(group: Group, key: string): Member | undefined {
    if (group.members.length === 0) return undefined;
    return group.members[group.order.get(key)! % group.members.length];
  }

  async #pump(group: Group, topic: string, partition: number): Promise<void> {
    const key = `${topic}/${partition}`;
    const stored = this.#topic(topic);
    const log = stored.partitions[partition]!;
    while (!this.#closed) {
      const position = group.committed.get(key)!;
      const member = this.#owner(group, key);
      if (!member || position >= log.length) {
        await this.#waitForChange(stored);
        continue;
      }
      if (member.perKey) {
        await this.#pumpPerKey(group, { key, stored, log, member });
        continue;
      }
      const record = log[position]!;
      // A handler may also throw synchronously; either way the record is delivered again.
      const outcome = Promise.resolve().then(() => member.handler(record)).then(
        () => true,
        () => false,
      );
      const delivery = outcome.then(() => {});
      member.inFlight.add(delivery);
      try {
        if (await outcome) {
          group.committed.set(key, position + 1);
        } else {
          await this.#redeliveryDelay();
        }
      } finally {
        member.inFlight.delete(delivery);
      }
    }
  }

  /**
   * Delivers one partition to a `perKey` member while it owns it: records of different keys run
   * at once (up to the member's concurrency), one at a time per key; the committed offset moves
   * past a record only when it and every record before it finished. Returns when the member no
   * longer owns the partition (or the bus closes), after its handlers finished; the next owner
   * starts at the committed offset (at-least-once).
   */
  async #pumpPerKey(
    group: Group,
    place: { key: string; stored: StoredTopic; log: BusRecord[]; member: Member },
  ): Promise<void> {
    const { key, stored, log, member } = place;
    let next = group.committed.get(key)!;
    const finished = new Set<number>();
    /** Records read and not started, per key, in offset order. */
    const lanes = new Map<string | null, BusRecord[]>();
    const busyKeys = new Set<string | null>();
    const running = new Set<Promise<void>>();
    let unfinished = 0;
    const owns = () => !this.#closed && member.joined && this.#owner(group, key) === member;
    while (owns()) {
      // Read ahead (bounded), so a slow key does not hold back the keys behind it.
      while (next < log.length && unfinished < PER_KEY_LOOKAHEAD) {
        const record = log[next++]!;
        const lane = lanes.get(record.key);
        if (lane) lane.push(record);
        else lanes.set(record.key, [record]);
        unfinished++;
      }
      let started = false;
      for (const [recordKey, lane] of lanes) {
        if (member.active >= member.concurrency) break;
        if (busyKeys.has(recordKey)) continue;
        const record = lane.shift()!;
        if (lane.length === 0) lanes.delete(recordKey);
        started = true;
        member.active++;
        busyKeys.add(recordKey);
        const delivery = this.#deliverUntilDone(member, record, owns).then((done) => {
          member.active--;
          busyKeys.delete(recordKey);
          unfinished--;
          if (done) {
            finished.add(Number(record.offset));
            let committed = group.committed.get(key)!;
            while (finished.delete(committed)) committed++;
            group.committed.set(key, committed);
          }
          running.delete(delivery);
          member.inFlight.delete(delivery);
          // A free slot or key may unblock records of this and the member's other partitions.
          this.#wakeAll();
        });
        running.add(delivery);
        member.inFlight.add(delivery);
      }
      if (!started) await this.#waitForChange(stored);
    }
    while (running.size > 0) await Promise.all([...running]);
  }

  /** Runs a handler until it succeeds; false when ownership ended before it did. */
  async #deliverUntilDone(
    member: Member,
    record: BusRecord,
    owns: () => boolean,
  ): Promise<boolean> {
    while (true) {
      const ok = await Promise.resolve().then(() => member.handler(record)).then(
        () => true,
        () => false,
      );
      if (ok) return true;
      if (!owns()) return false;
      await this.#redeliveryDelay();
      if (!owns()) return false;
    }
  }
}

/** In-memory bus with Kafka's semantics, for the single-process arena and fast tests. */

import type {
  Bus,
  BusRecord,
  OutgoingRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "./bus.ts";
import { dynamicTopic } from "./topics.ts";
import { partitionForKey } from "./partition.ts";

/** Delay before a record whose handler threw is delivered again. */
const REDELIVERY_DELAY_MS = 100;

interface StoredTopic {
  spec: TopicSpec;
  partitions: BusRecord[][];
  roundRobin: number;
}

interface Member {
  handler: (record: BusRecord) => Promise<void>;
  inFlight: Set<Promise<void>>;
}

interface Group {
  id: string;
  fromBeginning: boolean;
  members: Member[];
  /** Next offset to deliver per "topic/partition"; only advanced after the handler finished. */
  committed: Map<string, number>;
  pumps: Set<string>;
}

/** A bus that keeps every topic in memory; records are lost when the process ends. */
export class MemoryBus implements Bus {
  #topics = new Map<string, StoredTopic>();
  #groups = new Map<string, Group>();
  #wakers = new Set<() => void>();
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
      const count = stored.partitions.length;
      const partition = record.key === undefined
        ? stored.roundRobin++ % count
        : partitionForKey(record.key, count);
      const log = stored.partitions[partition]!;
      log.push({
        topic,
        partition,
        offset: String(log.length),
        key: record.key ?? null,
        value: record.value,
        headers: { ...record.headers },
      });
    }
    this.#wake();
    return Promise.resolve();
  }

  /** Joins a consumer group; partitions are shared among the group's members. */
  subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) return Promise.reject(new Error("Bus is closed"));
    let group = this.#groups.get(options.groupId);
    if (!group) {
      group = {
        id: options.groupId,
        fromBeginning: options.fromBeginning ?? true,
        members: [],
        committed: new Map(),
        pumps: new Set(),
      };
      this.#groups.set(options.groupId, group);
    }
    const member: Member = { handler: options.handler, inFlight: new Set() };
    group.members.push(member);
    for (const topic of options.topics) {
      const stored = this.#topic(topic);
      stored.partitions.forEach((log, partition) => {
        const key = `${topic}/${partition}`;
        if (!group.committed.has(key)) {
          group.committed.set(key, group.fromBeginning ? 0 : log.length);
        }
        if (!group.pumps.has(key)) {
          group.pumps.add(key);
          this.#pump(group, topic, partition);
        }
      });
    }
    this.#wake();
    const activeGroup = group;
    return Promise.resolve({
      close: async () => {
        activeGroup.members = activeGroup.members.filter((other) => other !== member);
        await Promise.all([...member.inFlight]);
        this.#wake();
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

  /** Reads every record of a topic up to its current end. */
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
    const inFlight = [...this.#groups.values()].flatMap((group) =>
      group.members.flatMap((member) => [...member.inFlight])
    );
    for (const group of this.#groups.values()) group.members = [];
    for (const wake of this.#closeWakers) wake();
    this.#closeWakers.clear();
    this.#wake();
    await Promise.all(inFlight);
  }

  #topic(topic: string, spec?: TopicSpec): StoredTopic {
    let stored = this.#topics.get(topic);
    if (!stored) {
      const created = spec ?? dynamicTopic(topic);
      stored = {
        spec: created,
        partitions: Array.from({ length: created.partitions }, () => []),
        roundRobin: 0,
      };
      this.#topics.set(topic, stored);
    }
    return stored;
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

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }

  #waitForChange(): Promise<void> {
    return new Promise((resolve) => this.#wakers.add(resolve));
  }

  /** Member that owns a partition: partitions are dealt round-robin over members. */
  #owner(group: Group, topic: string, partition: number): Member | undefined {
    if (group.members.length === 0) return undefined;
    const keys = [...group.committed.keys()].sort();
    const index = keys.indexOf(`${topic}/${partition}`);
    return group.members[index % group.members.length];
  }

  async #pump(group: Group, topic: string, partition: number): Promise<void> {
    const key = `${topic}/${partition}`;
    const log = this.#topic(topic).partitions[partition]!;
    while (!this.#closed) {
      const position = group.committed.get(key)!;
      const member = this.#owner(group, topic, partition);
      if (!member || position >= log.length) {
        await this.#waitForChange();
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
}

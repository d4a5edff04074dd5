/** Topic administration on @platformatic/kafka: creation, leaders, offsets, group start. */

import { type Admin, ListOffsetTimestamps } from "@platformatic/kafka";
import type { TopicSpec } from "../bus.ts";
import { readOffsetsRetrying, waitForLeaders } from "../topic_waits.ts";
import type { Logger } from "../../log.ts";

/** Low and high watermark of one partition. */
export interface PartitionRange {
  /** Partition number. */
  partition: number;
  /** First offset still stored. */
  low: bigint;
  /** Next offset to be written. */
  high: bigint;
}

/** Topic and offset operations of one bus, over one admin client. */
export class TopicAdmin {
  #admin: () => Admin;
  #log: Logger;

  /** Creates the helper over a lazily connected admin client. */
  constructor(admin: () => Admin, log: Logger) {
    this.#admin = admin;
    this.#log = log;
  }

  /** Creates the topics that do not exist and waits until every partition has a leader. */
  async createTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new Error(
          `Topic ${spec.topic} needs a positive whole number of partitions, got ${spec.partitions}`,
        );
      }
    }
    const admin = this.#admin();
    const existing = new Set(await admin.listTopics());
    const toCreate = specs.filter((spec) => !existing.has(spec.topic));
    if (toCreate.length === 0) return;
    await Promise.all(toCreate.map(async (spec) => {
      try {
        await admin.createTopics({
          topics: [spec.topic],
          partitions: spec.partitions,
          replicas: -1,
          configs: [
            { name: "retention.ms", value: String(spec.retentionMs) },
            { name: "cleanup.policy", value: spec.cleanupPolicy ?? "delete" },
          ],
        });
      } catch (error) {
        // Another process may have created the same topic at the same moment.
        const now = new Set(await admin.listTopics());
        if (!now.has(spec.topic)) throw error;
      }
    }));
    await this.#waitForLeaders(toCreate.map((spec) => spec.topic));
    this.#log.debug("Created topics", { topics: toCreate.map((spec) => spec.topic) });
  }

  /** Low and high watermarks of every partition of a topic, retrying transient failures. */
  ranges(topic: string): Promise<PartitionRange[]> {
    return readOffsetsRetrying(topic, () => this.#ranges(topic), { log: this.#log });
  }

  /**
   * A new group that must not read old records starts at the end offsets of now: they are
   * committed before the first member joins, so records published after subscribe() resolved
   * reach the group even if its first member leaves before committing anything.
   */
  async startNewGroupAtEnd(groupId: string, topics: string[]): Promise<void> {
    const admin = this.#admin();
    const [committed] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const withOffsets = new Set(
      (committed?.topics ?? [])
        .filter((entry) => entry.partitions.some((partition) => partition.committedOffset >= 0n))
        .map((entry) => entry.name),
    );
    const fresh = topics.filter((topic) => !withOffsets.has(topic));
    if (fresh.length === 0) return;
    const ends = await Promise.all(fresh.map(async (topic) => ({
      name: topic,
      partitionOffsets: (await this.ranges(topic)).map((range) => ({
        partition: range.partition,
        offset: range.high,
      })),
    })));
    try {
      await admin.alterConsumerGroupOffsets({ groupId, topics: ends });
    } catch (error) {
      // A live member already owns the group: it started at the end, or committed since.
      this.#log.debug("Could not set the start offsets of a new group", { groupId, error });
    }
  }

  async #ranges(topic: string): Promise<PartitionRange[]> {
    const admin = this.#admin();
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const described = metadata.topics.get(topic);
    if (!described || described.partitionsCount === 0) {
      throw new Error(`Topic ${topic} has no partitions yet`);
    }
    const partitions = Array.from({ length: described.partitionsCount }, (_, index) => index);
    const ask = (timestamp: bigint) =>
      admin.listOffsets({
        topics: [{
          name: topic,
          partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })),
        }],
      });
    const [latest, earliest] = await Promise.all([
      ask(ListOffsetTimestamps.LATEST),
      ask(ListOffsetTimestamps.EARLIEST),
    ]);
    const high = new Map<number, bigint>();
    const low = new Map<number, bigint>();
    for (const entry of latest) {
      for (const partition of entry.partitions) {
        high.set(partition.partitionIndex, partition.offset);
      }
    }
    for (const entry of earliest) {
      for (const partition of entry.partitions) low.set(partition.partitionIndex, partition.offset);
    }
    return partitions.map((partition) => {
      const end = high.get(partition);
      const start = low.get(partition);
      if (end === undefined || start === undefined) {
        throw new Error(`No offsets for partition ${partition} of ${topic}`);
      }
      return { partition, low: start, high: end };
    });
  }

  /** Waits until every partition of new topics has a leader that answers offset requests. */
  #waitForLeaders(topics: string[]): Promise<void> {
    return waitForLeaders(topics, async () => {
      const metadata = await this.#admin().metadata({ topics, forceUpdate: true });
      const ready = topics.every((topic) => {
        const described = metadata.topics.get(topic);
        return described !== undefined && described.partitions.length > 0 &&
          described.partitions.every((partition) => partition.leader >= 0);
      });
      // Metadata can name a leader before it serves requests; ListOffsets asks the leaders.
      if (!ready) return false;
      await Promise.all(topics.map((topic) => this.#ranges(topic)));
      return true;
    });
  }
}

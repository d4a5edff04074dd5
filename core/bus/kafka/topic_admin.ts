/** Topic creation and offset look-ups through one shared kafkajs admin client. */

import type { Admin, Kafka } from "kafkajs";
import type { TopicSpec } from "../bus.ts";
import { dynamicTopic } from "../topics.ts";
import { KnownTopics } from "../broker_connection.ts";
import type { Logger } from "../../log.ts";
import { readOffsetsRetrying, waitForLeaders } from "../topic_waits.ts";
import { isMetadataRace, MetadataGate } from "./metadata_gate.ts";
import { RETRY } from "./settings.ts";

/** Low and high offsets of one partition. */
export interface PartitionOffsets {
  /** Partition number. */
  partition: number;
  /** Next offset to be written, as a decimal string. */
  high: string;
  /** First offset still stored, as a decimal string. */
  low: string;
}

/** Options for {@linkcode TopicAdmin}. */
export interface TopicAdminOptions {
  /** The kafkajs client to open the admin connection on. */
  kafka: Kafka;
  /** Where creations and retries are logged (debug). */
  log: Logger;
}

/** Creates topics once per bus and reads their offsets, riding out kafkajs metadata races. */
export class TopicAdmin {
  #kafka: Kafka;
  #log: Logger;
  #admin?: Promise<Admin>;
  /** Keeps admin calls that replace kafkajs' metadata cache apart from end-offset lookups. */
  #metadataGate = new MetadataGate();
  #knownTopics = new KnownTopics();

  /** Creates the helper; the admin connection opens on first use. */
  constructor(options: TopicAdminOptions) {
    this.#kafka = options.kafka;
    this.#log = options.log;
  }

  /** Creates the topics this bus has not seen yet, with their partitions, retention and policy. */
  ensure(specs: TopicSpec[]): Promise<void> {
    return this.#knownTopics.ensure(specs, (missing) => this.#createTopics(missing));
  }

  /** Makes sure one topic exists, creating it with {@linkcode dynamicTopic} settings if not. */
  ensureTopic(topic: string): Promise<void> {
    return this.#knownTopics.get(topic) ?? this.ensure([dynamicTopic(topic)]);
  }

  /**
   * Offsets of every partition of a topic, retrying with backoff errors Kafka calls retriable
   * (e.g. a leader moving) and the kafkajs metadata race (see {@linkcode isMetadataRace}).
   */
  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const admin = await this.connected();
    return await readOffsetsRetrying(
      topic,
      () => this.#metadataGate.shared(() => admin.fetchTopicOffsets(topic)),
      {
        retriable: (error) =>
          (error as { retriable?: boolean }).retriable === true || isMetadataRace(error),
        log: this.#log,
      },
    );
  }

  /** The connected admin client, opened once (and again after a failed connect). */
  connected(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin({ retry: RETRY });
      await admin.connect();
      return admin;
    })();
    this.#admin.catch(() => this.#admin = undefined);
    return this.#admin;
  }

  /** Disconnects the admin client if it was opened. */
  async close(): Promise<void> {
    await this.#admin?.then((admin) => admin.disconnect()).catch(() => {});
  }

  async #createTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new Error(
          `Topic ${spec.topic} needs a positive whole number of partitions, got ${spec.partitions}`,
        );
      }
      const policy = spec.cleanupPolicy ?? "delete";
      if (policy !== "delete" && policy !== "compact") {
        throw new Error(
          `Topic ${spec.topic} has cleanup policy ${policy}; valid are delete and compact`,
        );
      }
    }
    const admin = await this.connected();
    const existing = new Set(await admin.listTopics());
    const toCreate = specs.filter((spec) => !existing.has(spec.topic));
    if (toCreate.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: toCreate.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          configEntries: [
            { name: "retention.ms", value: String(spec.retentionMs) },
            { name: "cleanup.policy", value: spec.cleanupPolicy ?? "delete" },
          ],
        })),
      });
    } catch (error) {
      // Another process may have created the same topics at the same moment.
      const now = new Set(await admin.listTopics());
      if (!toCreate.every((spec) => now.has(spec.topic))) throw error;
    }
    await this.#waitForLeaders(toCreate.map((spec) => spec.topic));
    this.#log.debug("Created topics", { topics: toCreate.map((spec) => spec.topic) });
  }

  /**
   * Waits until every partition of new topics has a leader. kafkajs' own wait gives up when the
   * broker briefly answers "does not host this topic-partition" right after creation.
   */
  async #waitForLeaders(topics: string[]): Promise<void> {
    const admin = await this.connected();
    await waitForLeaders(topics, async () => {
      // Exclusive: kafkajs replaces its whole metadata cache with these topics only.
      const metadata = await this.#metadataGate.exclusive(() =>
        admin.fetchTopicMetadata({ topics })
      );
      const ready = metadata.topics.length === topics.length &&
        metadata.topics.every((topic) =>
          topic.partitions.length > 0 &&
          topic.partitions.every((partition) => partition.leader >= 0)
        );
      // Metadata can name a leader before it serves requests; ListOffsets asks the leaders.
      if (!ready) return false;
      await Promise.all(
        topics.map((topic) => this.#metadataGate.shared(() => admin.fetchTopicOffsets(topic))),
      );
      return true;
    });
  }
}

/** The event bus: the only way services talk to each other. */

/** A record as stored on a topic. Values are JSON text; typed access goes through zod. */
export interface BusRecord {
  /** Topic the record was read from. */
  topic: string;
  /** Partition within the topic. */
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets exceed 2^53). */
  offset: string;
  /** Partitioning key; records with one key keep their order. */
  key: string | null;
  /** The JSON text of the message. */
  value: string;
  /** Optional string headers. */
  headers: Record<string, string>;
  /**
   * The message object behind `value` when the record never left the process (MemoryBus, see
   * {@linkcode Bus.publishObjects}): readers may use it instead of parsing `value`.
   */
  message?: unknown;
}

/** A record to publish. */
export interface OutgoingRecord {
  /** Partitioning key; records with one key keep their order. */
  key?: string;
  /** The JSON text of the message. */
  value: string;
  /** Optional string headers. */
  headers?: Record<string, string>;
}

/** A message to publish as an object (see {@linkcode Bus.publishObjects}). */
export interface OutgoingMessage {
  /** Partitioning key; records with one key keep their order. */
  key?: string;
  /** The message; it must already match the schema its readers validate with. */
  message: unknown;
  /** Optional string headers. */
  headers?: Record<string, string>;
}

/** How a topic is created. */
export interface TopicSpec {
  /** Topic name. */
  topic: string;
  /** Number of partitions. */
  partitions: number;
  /** Retention in milliseconds; -1 keeps records forever. */
  retentionMs: number;
  /** `compact` keeps the last record per key (Kafka's `cleanup.policy`); default `delete`. */
  cleanupPolicy?: "delete" | "compact";
}

/** Handles one record; the offset is committed only after the promise resolves. */
export type RecordHandler = (record: BusRecord) => Promise<void>;

/** Options for {@linkcode Bus.subscribe}. */
export interface SubscribeOptions {
  /** Consumer group: every group receives every record; members of a group share partitions. */
  groupId: string;
  /** Topics to consume. */
  topics: string[];
  /** Start from the earliest record when the group has no committed offset (default true). */
  fromBeginning?: boolean;
  /**
   * How many records are handled at once (default 1). Without `perKey`, one per partition at a
   * time, so order per partition holds; with `perKey`, records of different keys run at once and
   * order holds per key.
   */
  concurrency?: number;
  /** Handle records of different keys concurrently, in order per key (default false). */
  perKey?: boolean;
  /**
   * Called each time the group (re)assigned partitions to this member (after it joined and after
   * every rebalance), before records of the new assignment are handled. Optional for buses.
   */
  onAssigned?: () => void;
  /** Called once per record, in order per partition. */
  handler: RecordHandler;
}

/** A running subscription. */
export interface Subscription {
  /** Stops consuming after in-flight handlers finish and their offsets are committed. */
  close(): Promise<void>;
}

/** The broker abstraction implemented by the Kafka and in-memory buses. */
export interface Bus {
  /** Creates the topics that do not exist yet. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Publishes records to one topic; resolves once the broker has acknowledged them. */
  publish(topic: string, records: OutgoingRecord[]): Promise<void>;
  /**
   * Optional, for buses whose records stay in the process (MemoryBus): publishes message objects;
   * readers get each object on `BusRecord.message` without parsing it again, and its JSON text is
   * made only when `value` is read. Buses on a broker leave it out (callers encode and publish).
   */
  publishObjects?(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /** Joins a consumer group and calls the handler for each record (at-least-once). */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Next offset to be written in every partition of a topic, keyed by partition. */
  endOffsets(topic: string): Promise<Map<number, string>>;
  /** Reads every record of a topic from the beginning up to its current end, then resolves. */
  readAll(topic: string, handler: RecordHandler): Promise<void>;
  /** Closes subscriptions, producer and connections gracefully. */
  close(): Promise<void>;
}

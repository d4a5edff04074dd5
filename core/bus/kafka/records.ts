/** Conversions between kafkajs messages and bus records, and the heartbeat of long handlers. */

import type { KafkaMessage } from "kafkajs";
import type { BusRecord } from "../bus.ts";

/** Where a kafkajs message was read from. */
export interface MessageOrigin {
  /** Topic of the message. */
  topic: string;
  /** Partition of the message. */
  partition: number;
}

/** The bus record for a kafkajs message (headers as strings, the first of repeated ones). */
export function toBusRecord(origin: MessageOrigin, message: KafkaMessage): BusRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString();
  }
  return {
    topic: origin.topic,
    partition: origin.partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? "",
    headers,
  };
}

/** Heartbeats while a long handler runs, so the member keeps its partitions; returns a stop. */
export function keepAlive(heartbeat: () => Promise<void>, intervalMs = 1_000): () => void {
  const timer = setInterval(() => {
    heartbeat().catch(() => {
      // A rebalance is signalled here; kafkajs rejoins once the handler returns.
    });
  }, intervalMs);
  return () => clearInterval(timer);
}

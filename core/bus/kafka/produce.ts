/** Produce requests for kafkajs: a topic's coalesced calls merged in call order. */

import type { Message, Producer } from "kafkajs";
import type { PublishCall } from "../coalescing_publisher.ts";

/** Sends coalesced publish calls as one kafkajs request (acks from all in-sync replicas). */
export async function sendWithKafkajs(producer: Producer, calls: PublishCall[]): Promise<void> {
  // kafkajs keeps one entry per topic in a request: merge a topic's calls in call order.
  const byTopic = new Map<string, Message[]>();
  for (const call of calls) {
    const messages = call.records.map((record) => ({
      key: record.key ?? null,
      value: record.value,
      headers: record.headers,
    }));
    const merged = byTopic.get(call.topic);
    if (merged) merged.push(...messages);
    else byTopic.set(call.topic, messages);
  }
  await producer.sendBatch({
    acks: -1,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
}

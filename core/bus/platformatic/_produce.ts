/** Produce requests for @platformatic/kafka: coalesced calls as one request. */

import type { Producer } from "@platformatic/kafka";
import type { PublishCall } from "../coalescing_publisher.ts";

/** Sends coalesced publish calls as one @platformatic/kafka request, call order kept. */
export async function sendWithPlatformatic(
  producer: Producer<string, string, string, string>,
  calls: PublishCall[],
): Promise<void> {
  await producer.send({
    messages: calls.flatMap((call) =>
      call.records.map((record) => ({
        topic: call.topic,
        key: record.key,
        value: record.value,
        headers: record.headers,
      }))
    ),
  });
}

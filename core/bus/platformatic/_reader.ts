/** Reads a topic from its start up to given end offsets with plain fetches (no consumer group). */

import { type Consumer, IS_CONTROL } from "@platformatic/kafka";
import type { BusRecord, RecordHandler } from "../bus.ts";
import { sleep } from "../../backoff.ts";
import type { PartitionRange } from "./_topics.ts";

/** Most bytes one fetch returns per partition. */
const FETCH_MAX_BYTES = 4 * 1024 * 1024;
/** How long a fetch waits when it finds nothing (it never should: the records exist). */
const FETCH_WAIT_MS = 100;
/** Fetches in a row that may return nothing before reading gives up. */
const MAX_EMPTY_FETCHES = 40;

const decoder = new TextDecoder();

function text(bytes: Uint8Array | null | undefined): string | null {
  return bytes === null || bytes === undefined ? null : decoder.decode(bytes);
}

/**
 * Hands every record of `topic` from each partition's low offset up to its `high` offset to the
 * handler, partition by partition, in offset order. `reader` is a consumer that never joins a
 * group; it only fetches.
 */
export async function readRange(
  reader: Consumer,
  topic: string,
  ranges: PartitionRange[],
  handler: RecordHandler,
): Promise<void> {
  // Fetches ask metadata for the tracked topics only; tracking is counted per call.
  reader.topics.track(topic);
  try {
    for (const range of ranges) {
      let next = range.low;
      let empty = 0;
      while (next < range.high) {
        const metadata = await reader.metadata({ topics: [topic] });
        const described = metadata.topics.get(topic);
        const leader = described?.partitions[range.partition]?.leader;
        if (!described || leader === undefined || leader < 0) {
          throw new Error(`Partition ${range.partition} of ${topic} has no leader`);
        }
        const response = await reader.fetch({
          node: leader,
          maxWaitTime: FETCH_WAIT_MS,
          minBytes: 1,
          maxBytes: FETCH_MAX_BYTES,
          topics: [{
            topicId: described.id,
            partitions: [{
              partition: range.partition,
              fetchOffset: next,
              partitionMaxBytes: FETCH_MAX_BYTES,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            }],
          }],
        });
        const before = next;
        for (const topicResponse of response.responses) {
          if (topicResponse.topicId !== described.id) continue;
          for (const partition of topicResponse.partitions) {
            if (partition.partitionIndex !== range.partition) continue;
            for (const batch of partition.records ?? []) {
              const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
              const after = end < range.high ? end : range.high;
              if (batch.attributes & IS_CONTROL) {
                if (after > next) next = after;
                continue;
              }
              for (const record of batch.records) {
                const offset = batch.firstOffset + BigInt(record.offsetDelta);
                if (offset < next || offset >= range.high) continue;
                const headers: Record<string, string> = {};
                for (const [name, value] of record.headers) {
                  const headerName = text(name);
                  if (headerName !== null) headers[headerName] = text(value) ?? "";
                }
                const busRecord: BusRecord = {
                  topic,
                  partition: range.partition,
                  offset: offset.toString(),
                  key: text(record.key),
                  value: text(record.value) ?? "",
                  headers,
                };
                await handler(busRecord);
                next = offset + 1n;
              }
              if (after > next) next = after;
            }
          }
        }
        if (next === before) {
          if (++empty >= MAX_EMPTY_FETCHES) {
            throw new Error(
              `Reading ${topic} made no progress at offset ${next} of partition ` +
                `${range.partition} after ${empty} fetches`,
            );
          }
          await sleep(50);
        } else {
          empty = 0;
        }
      }
    }
  } finally {
    reader.topics.untrack(topic);
  }
}

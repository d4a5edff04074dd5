/**
 * Redelivery of a record whose handler threw: the at-least-once loop both Kafka clients run,
 * with a growing delay between deliveries and a warning per failure.
 */

import type { BusRecord, RecordHandler } from "./bus.ts";
import { backoffDelay, type BackoffOptions } from "../backoff.ts";
import type { Logger } from "../log.ts";

/** Delays between deliveries of a record whose handler keeps throwing: 100 ms doubling to 5 s. */
export const REDELIVERY_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, jitter: 0 };

/** Options for {@linkcode deliverUntilHandled}. */
export interface RedeliveryOptions {
  /** The subscription's handler. */
  handler: RecordHandler;
  /** Delay between deliveries, growing after each failure (default {@linkcode REDELIVERY_BACKOFF}). */
  backoff?: BackoffOptions;
  /** Where each failure is reported. */
  log: Logger;
  /** True once the subscription stops: a failed record is not delivered again. */
  stopping: () => boolean;
  /** Waits between deliveries; may end early when the subscription stops. */
  sleep: (ms: number) => Promise<void>;
}

/**
 * Hands `record` to the handler until it resolves (true), waiting longer after each failure;
 * false when the subscription stops before the record was handled.
 */
export async function deliverUntilHandled(
  record: BusRecord,
  options: RedeliveryOptions,
): Promise<boolean> {
  for (let attempt = 0;; attempt++) {
    try {
      await options.handler(record);
      return true;
    } catch (error) {
      if (options.stopping()) return false;
      const delay = backoffDelay(attempt, options.backoff ?? REDELIVERY_BACKOFF);
      options.log.warn("Handler failed; the record will be delivered again", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        attempt: attempt + 1,
        retryInMs: delay,
        error: error instanceof Error ? error.message : String(error),
      });
      await options.sleep(delay);
      if (options.stopping()) return false;
    }
  }
}

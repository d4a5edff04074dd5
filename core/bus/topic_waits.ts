/**
 * How both Kafka clients wait on topics: a new topic until every partition has a leader that
 * answers, and an end-offsets lookup that failed transiently (a leader moving), each for at most
 * {@linkcode TOPIC_READY_TIMEOUT_MS}, with an error naming the topics at the end.
 *
 * @example
 * ```ts ignore
 * await waitForLeaders(["arena.ledger"], () => leadersAnswer(["arena.ledger"]));
 * const offsets = await readOffsetsRetrying("arena.ledger", () => endOffsets("arena.ledger"), {
 *   log,
 * });
 * ```
 */

import { backoffDelay, type BackoffOptions, sleep } from "../backoff.ts";
import type { Logger } from "../log.ts";

/** How long a new topic may take to get a leader for every partition, and offsets to be read. */
const TOPIC_READY_TIMEOUT_MS = 30_000;

/** Delays between tries of an end-offsets lookup that failed transiently. */
const OFFSETS_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 2_000, jitter: 0 };

/** Pause between two looks at a new topic's leaders. */
const LEADER_POLL_MS = 100;

/** Options for {@linkcode readOffsetsRetrying}. */
export interface OffsetsRetryOptions {
  /** True for a failure worth another try (default: every failure). */
  retriable?: (error: unknown) => boolean;
  /** Where retries are logged (debug). */
  log: Logger;
  /** Longest time to keep trying (default {@linkcode TOPIC_READY_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** Options for {@linkcode waitForLeaders}. */
export interface LeaderWaitOptions {
  /** Longest time to keep looking (default {@linkcode TOPIC_READY_TIMEOUT_MS}). */
  timeoutMs?: number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The offsets `read` gives for `topic`, tried again after a retriable failure with a growing
 * delay; after the time budget the error names the topic, the tries and the last failure.
 */
export async function readOffsetsRetrying<T>(
  topic: string,
  read: () => Promise<T>,
  options: OffsetsRetryOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? TOPIC_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0;; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (options.retriable && !options.retriable(error)) throw error;
      if (Date.now() > deadline) {
        throw new Error(
          `End offsets of ${topic} could not be read within ${timeoutMs} ms ` +
            `(${attempt + 1} tries): ${messageOf(error)}`,
          { cause: error },
        );
      }
      const delay = backoffDelay(attempt, OFFSETS_BACKOFF);
      options.log.debug("Retrying end offsets", { topic, attempt: attempt + 1, delay, error });
      await sleep(delay);
    }
  }
}

/**
 * Asks `ready` until it resolves true (a failure counts as not ready yet); after the time budget
 * the error names the new topics and the last failure.
 */
export async function waitForLeaders(
  topics: readonly string[],
  ready: () => Promise<boolean>,
  options: LeaderWaitOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? TOPIC_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError === undefined ? "" : `: ${messageOf(lastError)}`;
      throw new Error(`Topics ${topics.join(", ")} had no leader within ${timeoutMs} ms${reason}`);
    }
    await sleep(LEADER_POLL_MS);
  }
}

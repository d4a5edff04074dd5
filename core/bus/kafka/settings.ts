/**
 * Timings and retry settings shared by the kafkajs clients behind the bus. The policies of both
 * Kafka clients live beside the code that applies them: redelivery in ../redelivery.ts, topic
 * waits in ../topic_waits.ts.
 */

import type { RetryOptions } from "kafkajs";
import type { BackoffOptions } from "../../backoff.ts";

/** Consumer timings a bus is configured with. */
export interface ConsumerTimingOptions {
  /** Consumer session timeout: a member silent this long is removed (default 30000). */
  sessionTimeoutMs?: number;
  /**
   * How often members heartbeat; bounds how fast a rebalance is noticed (default 3000, Kafka's
   * own: a heartbeat holds up the fetch behind it).
   */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin (default 60000). */
  rebalanceTimeoutMs?: number;
  /** Longest time a fetch waits for new records when a partition is idle (default 500). */
  maxWaitTimeMs?: number;
}

/** The kafkajs consumer settings for those timings. */
export interface ConsumerTimings {
  /** kafkajs `sessionTimeout`. */
  sessionTimeout: number;
  /** kafkajs `heartbeatInterval`. */
  heartbeatInterval: number;
  /** kafkajs `rebalanceTimeout`. */
  rebalanceTimeout: number;
  /** kafkajs `maxWaitTimeInMs`. */
  maxWaitTimeInMs: number;
  /** Always false: the bus creates topics itself, with their specs. */
  allowAutoTopicCreation: boolean;
}

/**
 * Retries for broker requests: bounded per attempt (about 40 s in all), after which a consumer
 * restarts itself, so a consumer survives a broker restart of any length.
 */
export const RETRY: RetryOptions = {
  initialRetryTime: 200,
  maxRetryTime: 5_000,
  retries: 10,
  factor: 0.2,
  multiplier: 2,
};

/** Delays between restarts of a consumer that stopped after an error. */
export const RESTART_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 10_000 };

/** Delays between tries of a short-lived consumer (read-all, group start). */
export const SHORT_LIVED_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 10_000 };

/** How often a short-lived consumer (read-all, group start) is tried before giving up. */
export const CONSUMER_ATTEMPTS = 8;

/** The kafkajs consumer timings for a bus's options, with the defaults filled in. */
export function consumerTimings(options: ConsumerTimingOptions): ConsumerTimings {
  return {
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
    allowAutoTopicCreation: false,
  };
}

/** Checks once, quietly, that a Kafka broker answers at the bootstrap servers. */

import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { probeBrokers, type ProbeOptions } from "../broker_connection.ts";

/** Where and how {@linkcode probeBroker} connects. */
export interface ProbeTarget {
  /** Bootstrap servers as `host:port`. */
  brokers: string[];
  /** Client id reported to the broker. */
  clientId: string;
  /** TLS and SASL settings of the connection. */
  security?: Pick<KafkaConfig, "ssl" | "sasl">;
  /**
   * One line for a failure that retrying cannot fix (wrong password, unknown CA, plaintext on a
   * TLS port), else undefined: e.g. `describeKafkaFailure` of kafka_security.ts. The probe gives
   * up with that line once two tries in a row fail the same way.
   */
  describeFailure?: (error: unknown) => string | undefined;
}

/**
 * Connects and reads the cluster metadata, trying again for a short time budget and logging
 * nothing; throws `BrokerUnreachableError` when no broker answered.
 */
export function probeBroker(target: ProbeTarget, options: ProbeOptions = {}): Promise<void> {
  return probeBrokers({
    brokers: target.brokers,
    describeFailure: target.describeFailure,
    attempt: async (left) => {
      const admin = new Kafka({
        clientId: `${target.clientId}.probe`,
        brokers: target.brokers,
        ...target.security,
        logLevel: logLevel.NOTHING,
        connectionTimeout: Math.min(left, 2_000),
        requestTimeout: Math.max(left, 1_000),
        retry: { retries: 0 },
      }).admin();
      try {
        await admin.connect();
        await admin.describeCluster();
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
  }, options);
}

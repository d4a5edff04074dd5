/** Shared helpers for tests that need the Kafka broker started by `deno task test`. */

import { KafkaBus } from "../core/bus/kafka/mod.ts";
import type { KafkaConnectionOptions } from "../core/bus/kafka_client.ts";
import { createLogger, type Logger } from "../core/log.ts";

/** Returns the bootstrap address of the test broker, or throws saying how to get one. */
export function kafkaBootstrap(): string {
  const bootstrap = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS")?.trim();
  if (!bootstrap) {
    throw new Error(
      "KAFKA_BOOTSTRAP_SERVERS is not set: run the tests with `deno task test`, which starts a " +
        "Kafka broker (needs Java and Maven), or export KAFKA_BOOTSTRAP_SERVERS=host:port",
    );
  }
  return bootstrap;
}

/** A name no other test run uses, for topics and consumer groups (`prefix.1a2b3c4d`). */
export function uniqueName(prefix: string): string {
  return `${prefix}.${crypto.randomUUID().slice(0, 8)}`;
}

/** Options for {@linkcode testBusSettings} and {@linkcode testKafkaBus}. */
export interface TestKafkaBusOptions {
  /** Client id; default a unique `test.*` name. */
  clientId?: string;
  /** Logger; default warnings and errors only. */
  log?: Logger;
  /** Bootstrap address; default the test broker's ({@linkcode kafkaBootstrap}). */
  bootstrap?: string;
}

/** Settings of a test bus on either client, with short heartbeats (rebalances well under 1 s). */
export function testBusSettings(options: TestKafkaBusOptions = {}): KafkaConnectionOptions {
  return {
    brokers: [options.bootstrap ?? kafkaBootstrap()],
    clientId: options.clientId ?? uniqueName("test"),
    log: options.log ?? createLogger("test.bus", { level: "warn" }),
    // 6 s is the broker's smallest allowed session timeout (group.min.session.timeout.ms).
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 200,
    rebalanceTimeoutMs: 10_000,
    maxWaitTimeMs: 100,
  };
}

/** A KafkaBus (kafkajs) on the test broker with the {@linkcode testBusSettings}. */
export function testKafkaBus(options: TestKafkaBusOptions = {}): KafkaBus {
  return new KafkaBus(testBusSettings(options));
}

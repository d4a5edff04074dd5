/**
 * Which Kafka client a service uses. kafkajs is the default: it runs with the narrow permissions
 * of the service tasks; @platformatic/kafka reads every environment variable and a WebAssembly
 * file from the module cache when it loads, so it needs `deno run --allow-env --allow-read`.
 */

import type { Bus } from "./bus.ts";
import type { KafkaBusOptions, ProbeOptions } from "./kafka/mod.ts";

/** The Kafka clients behind the bus. */
export const KAFKA_CLIENTS = ["kafkajs", "platformatic"] as const;

/** A Kafka client name: `kafkajs` (default) or `platformatic` (@platformatic/kafka). */
export type KafkaClient = typeof KAFKA_CLIENTS[number];

/** Connection settings both clients take. */
export type KafkaConnectionOptions = Omit<KafkaBusOptions, "commitMode">;

/** A Kafka bus that can check first that a broker answers. */
export interface ProbingBus extends Bus {
  /** Throws one clear error when no broker answers (or it refuses the credentials). */
  probe(options?: ProbeOptions): Promise<void>;
}

/** Opens a bus on the chosen client; a client's module loads only when it is chosen. */
export async function openKafkaBus(
  client: KafkaClient,
  options: KafkaConnectionOptions,
): Promise<ProbingBus> {
  if (client === "platformatic") {
    const { PlatformaticKafkaBus } = await import("./platformatic/mod.ts");
    return new PlatformaticKafkaBus(options);
  }
  const { KafkaBus } = await import("./kafka/mod.ts");
  return new KafkaBus(options);
}

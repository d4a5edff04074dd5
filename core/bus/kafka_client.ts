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
  const { KafkaBus, silenceNegativeTimeoutWarning } = await import("./kafka/mod.ts");
  if (client === "platformatic") {
    // @platformatic/kafka also arms timers with negative delays (harmless: they fire at once).
    silenceNegativeTimeoutWarning();
    try {
      const { PlatformaticKafkaBus } = await import("./platformatic/mod.ts");
      return new PlatformaticKafkaBus(options);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotCapable)) throw error;
      throw new Error(
        "--kafka-client platformatic needs `deno run --allow-env --allow-read …`: " +
          "@platformatic/kafka reads every environment variable and a WebAssembly file from the " +
          "module cache when it loads, which this task does not allow (kafkajs, the default, does " +
          "not need them)",
        { cause: error },
      );
    }
  }
  return new KafkaBus(options);
}

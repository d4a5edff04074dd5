/**
 * Start and shutdown shared by the services on a broker: probe the broker first (one clear line
 * and exit 1 when none answers, within seconds), start, stop cleanly on SIGINT (130) and SIGTERM
 * (143), and turn any failure while starting into one line `<service>: <reason>` with exit 1,
 * never a stack trace.
 *
 * @example
 * ```ts ignore
 * const service = await startService({ name: "tools", bootstrapServers, clientId, log }, async ({ bus }) => {
 *   const subscriptions = await serveTools(bus, specs, { log });
 *   return () => Promise.all(subscriptions.map((s) => s.close())).then(() => {});
 * });
 * ```
 */

import {
  type KafkaClient,
  type KafkaConnectionOptions,
  openKafkaBus,
  type ProbingBus,
} from "./bus/kafka_client.ts";
import type { KafkaSecurity } from "./bus/kafka_security.ts";
import { FAILURE_EXIT_CODE, kafkaSecurityOf, type ServiceFlags } from "./cli.ts";
import type { Logger } from "./log.ts";
import { waitAtMost } from "./backoff.ts";
import { onShutdownSignals } from "./shutdown.ts";

/** Stops what a service's start function started (consumers, servers, timers). */
export type StopService = () => Promise<void> | void;

/** What a service's start function gets. */
export interface ServiceContext {
  /** The Kafka bus, with a broker that answered the probe. */
  bus: ProbingBus;
  /** Aborted when the service is asked to stop (SIGINT, SIGTERM, or shutdown). */
  signal: AbortSignal;
  /** Stops the service (its stop function, then the bus) and exits with `code`. */
  shutdown(code: number): Promise<never>;
}

/** A started service. */
export interface RunningService {
  /** The Kafka bus. */
  bus: ProbingBus;
  /** Aborted once the service is stopping. */
  signal: AbortSignal;
  /** Stops the service (its stop function, then the bus) and exits with `code`. */
  shutdown(code: number): Promise<never>;
}

/** Options for {@linkcode startService}. */
export interface ServiceOptions {
  /** Service name: the prefix of its error lines. */
  name: string;
  /** Bootstrap servers, comma separated (the `--bootstrap-servers` flag). */
  bootstrapServers: string;
  /** Kafka client id. */
  clientId: string;
  /** The service's logger; the bus logs under `<component>.bus`. */
  log: Logger;
  /** Consumer timings of the bus. */
  bus?: Omit<KafkaConnectionOptions, "brokers" | "clientId" | "log">;
  /** Kafka client behind the bus (default kafkajs). */
  kafkaClient?: KafkaClient;
  /** TLS and SASL settings of the broker connection (`kafkaSecurityOf` of the shared flags). */
  security?: KafkaSecurity;
  /** How long the start-up probe tries the broker (default the bus's, 6 s). */
  probeTimeoutMs?: number;
  /** Stop on SIGINT (default true; false when a live screen handles Ctrl-C itself). */
  interrupt?: boolean;
  /** Runs right before the process exits (e.g. prints log lines held during a live screen). */
  beforeExit?: () => void;
}

/**
 * The options of a service whose command line came from `brokerCommand`: the broker, Kafka
 * client and security flags, with the service's client id and logger.
 */
export function brokerServiceOptions(
  name: string,
  options: { flags: ServiceFlags; clientId: string; log: Logger },
): ServiceOptions {
  return {
    name,
    bootstrapServers: options.flags.bootstrapServers,
    security: kafkaSecurityOf(name, options.flags),
    kafkaClient: options.flags.kafkaClient,
    clientId: options.clientId,
    log: options.log,
  };
}

/** Longest wait for the bus to close when exiting. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Probes the broker, runs `start` and wires signals. Resolves once `start` resolved; exits the
 * process with one line and code 1 when no broker answers or `start` throws.
 */
export async function startService(
  options: ServiceOptions,
  start: (context: ServiceContext) => Promise<StopService | void>,
): Promise<RunningService> {
  const busOptions: KafkaConnectionOptions = {
    ...options.bus,
    brokers: options.bootstrapServers.split(","),
    clientId: options.clientId,
    log: options.log.child("bus"),
    security: options.security,
  };
  const bus = await openKafkaBus(options.kafkaClient ?? "kafkajs", busOptions).catch(
    (error: Error) => {
      console.error(`${options.name}: ${error.message}`);
      return Deno.exit(FAILURE_EXIT_CODE);
    },
  );
  const abort = new AbortController();
  let stop: StopService | undefined;
  let stopping = false;

  async function exit(code: number, message?: string): Promise<never> {
    abort.abort();
    await Promise.resolve(stop?.()).catch((error) =>
      options.log.warn("Stopping failed", { error })
    );
    await waitAtMost(bus.close().catch(() => {}), CLOSE_TIMEOUT_MS);
    options.beforeExit?.();
    if (message !== undefined) console.error(`${options.name}: ${message}`);
    Deno.exit(code);
  }

  function shutdown(code: number): Promise<never> {
    if (stopping) return new Promise<never>(() => {});
    stopping = true;
    return exit(code);
  }

  onShutdownSignals((code) => void shutdown(code), { interrupt: options.interrupt });

  try {
    await bus.probe({ timeoutMs: options.probeTimeoutMs });
    stop = (await start({ bus, signal: abort.signal, shutdown })) ?? undefined;
  } catch (error) {
    // A failure caused by stopping (the bus closed under a running start) is not news.
    if (stopping) return new Promise<never>(() => {});
    stopping = true;
    await exit(FAILURE_EXIT_CODE, error instanceof Error ? error.message : String(error));
  }
  return { bus, signal: abort.signal, shutdown };
}

/** Checks once, quietly, that a Kafka broker answers at the bootstrap servers. */

import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { sleep } from "../../backoff.ts";

/** How long {@linkcode probeBroker} tries the broker by default. */
const PROBE_TIMEOUT_MS = 6_000;
/** Pause between two probe attempts (a broker that is starting refuses for a moment). */
const PROBE_RETRY_DELAY_MS = 300;

/** Options for {@linkcode probeBroker}. */
export interface ProbeOptions {
  /** How long to keep trying before giving up (default 6000 ms). */
  timeoutMs?: number;
}

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

/** No broker answered at the bootstrap servers within the probe's time budget. */
export class BrokerUnreachableError extends Error {
  /** The bootstrap servers tried, comma separated. */
  readonly bootstrap: string;

  /** Creates the error; the message says what to start. */
  constructor(bootstrap: string, options?: ErrorOptions) {
    super(
      `No Kafka broker answers at ${bootstrap} — start one with \`deno task broker\`, ` +
        "or `docker compose up -d redpanda`",
      options,
    );
    this.name = "BrokerUnreachableError";
    this.bootstrap = bootstrap;
  }
}

/**
 * Connects and reads the cluster metadata, trying again for a short time budget and logging
 * nothing; throws {@linkcode BrokerUnreachableError} when no broker answered.
 */
export async function probeBroker(target: ProbeTarget, options: ProbeOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastFailure: string | undefined;
  for (let left = timeoutMs; left > 0; left = deadline - Date.now()) {
    const admin = new Kafka({
      clientId: `${target.clientId}.probe`,
      brokers: target.brokers,
      ...target.security,
      logLevel: logLevel.NOTHING,
      connectionTimeout: Math.min(left, 2_000),
      requestTimeout: Math.max(left, 1_000),
      retry: { retries: 0 },
    }).admin();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        (async () => {
          await admin.connect();
          await admin.describeCluster();
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`No answer within ${left} ms`)), left);
        }),
      ]);
      return;
    } catch (error) {
      lastError = error;
    } finally {
      clearTimeout(timer);
      await admin.disconnect().catch(() => {});
    }
    const failure = target.describeFailure?.(lastError);
    if (failure !== undefined && failure === lastFailure) throw new Error(failure);
    lastFailure = failure;
    await sleep(Math.min(PROBE_RETRY_DELAY_MS, deadline - Date.now()));
  }
  throw new BrokerUnreachableError(target.brokers.join(","), { cause: lastError });
}

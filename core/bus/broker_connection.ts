/** What both Kafka clients share about reaching brokers: the bootstrap list, the probe, topics. */

import type { TopicSpec } from "./bus.ts";
import { sleep } from "../backoff.ts";

/** How long a probe tries the broker by default. */
const PROBE_TIMEOUT_MS = 6_000;
/** Pause between two probe attempts (a broker that is starting refuses for a moment). */
const PROBE_RETRY_DELAY_MS = 300;

/** Options of a bus's `probe`. */
export interface ProbeOptions {
  /** How long to keep trying before giving up (default 6000 ms). */
  timeoutMs?: number;
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

/** `host:port` entries from bootstrap settings whose entries may hold comma-separated lists. */
export function bootstrapBrokers(entries: readonly string[]): string[] {
  const brokers = entries.flatMap((entry) => entry.split(","))
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  if (brokers.length === 0) {
    throw new Error("Kafka bus needs at least one broker as host:port, got none");
  }
  return brokers;
}

/** What {@linkcode probeBrokers} tries. */
export interface ProbeAttempts {
  /** The bootstrap servers, for the error message. */
  brokers: readonly string[];
  /** One quiet attempt to read the cluster metadata, given the milliseconds left. */
  attempt: (leftMs: number) => Promise<void>;
  /**
   * One line for a failure that retrying cannot fix (wrong password, unknown CA, plaintext on a
   * TLS port), else undefined; the probe gives up with it once two tries in a row fail that way.
   */
  describeFailure?: (error: unknown) => string | undefined;
}

/**
 * Tries `attempt` until one succeeds within the time budget (each bounded by the time left);
 * throws {@linkcode BrokerUnreachableError}, or the one line of a failure retrying cannot fix.
 */
export async function probeBrokers(
  probe: ProbeAttempts,
  options: ProbeOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastFailure: string | undefined;
  for (let left = timeoutMs; left > 0; left = deadline - Date.now()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        probe.attempt(left),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`No answer within ${left} ms`)), left);
        }),
      ]);
      return;
    } catch (error) {
      lastError = error;
    } finally {
      clearTimeout(timer);
    }
    const failure = probe.describeFailure?.(lastError);
    if (failure !== undefined && failure === lastFailure) throw new Error(failure);
    lastFailure = failure;
    await sleep(Math.min(PROBE_RETRY_DELAY_MS, deadline - Date.now()));
  }
  throw new BrokerUnreachableError(probe.brokers.join(","), { cause: lastError });
}

/** Topics a bus created (or is creating), so each is created once per bus. */
export class KnownTopics {
  #creations = new Map<string, Promise<void>>();

  /** The creation of a topic, if this bus made or started it. */
  get(topic: string): Promise<void> | undefined {
    return this.#creations.get(topic);
  }

  /** Creates the topics not created yet in one call of `create`, and waits for all of `specs`. */
  async ensure(specs: TopicSpec[], create: (missing: TopicSpec[]) => Promise<void>): Promise<void> {
    const missing = specs.filter((spec) => !this.#creations.has(spec.topic));
    if (missing.length > 0) {
      const creation = create(missing);
      for (const spec of missing) this.#creations.set(spec.topic, creation);
      try {
        await creation;
      } catch (error) {
        for (const spec of missing) this.#creations.delete(spec.topic);
        throw error;
      }
    }
    await Promise.all(specs.map((spec) => this.#creations.get(spec.topic)));
  }
}

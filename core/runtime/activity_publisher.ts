/**
 * Publishes activity events off the decision path: `publish` queues and returns at once; events
 * go out in order, everything queued while a publish is in flight in the next one (one produce
 * request for many agents' events). A failed publish is tried again a few times, then its events
 * are logged as lost with their count; `flush` waits until everything queued is out.
 */

import type { Bus } from "../bus/bus.ts";
import { publishMessages } from "../bus/messages.ts";
import type { ActivityEvent } from "../contracts/activity.ts";
import type { Logger } from "../log.ts";

/** Tries of one batch before its events are logged as lost. */
const ATTEMPTS = 3;
/** Pause before the second try; doubled for each further try. */
const RETRY_DELAY_MS = 200;

/** Options for {@linkcode ActivityPublisher}. */
export interface ActivityPublisherOptions {
  /** The activity topic (with its prefix). */
  topic: string;
  /** Where failures are logged. */
  log: Logger;
}

/** Queues activity events and publishes them in order, in batches, without blocking callers. */
export class ActivityPublisher {
  readonly #bus: Bus;
  readonly #topic: string;
  readonly #log: Logger;
  #queue: ActivityEvent[] = [];
  #draining: Promise<void> | undefined;

  /** Creates a publisher to `options.topic` on `bus`. */
  constructor(bus: Bus, options: ActivityPublisherOptions) {
    this.#bus = bus;
    this.#topic = options.topic;
    this.#log = options.log;
  }

  /** Queues events (keyed by agent); they are published in order without waiting here. */
  publish(events: readonly ActivityEvent[]): void {
    if (events.length === 0) return;
    this.#queue.push(...events);
    this.#draining ??= this.#drain();
  }

  /** Resolves once every event queued so far is published (or logged as lost). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Events queued and not yet published. */
  get pending(): number {
    return this.#queue.length;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0);
        await this.#send(batch);
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #send(batch: ActivityEvent[]): Promise<void> {
    const records = batch.map((message) => ({ key: message.agent, message }));
    for (let attempt = 1;; attempt++) {
      try {
        await publishMessages(this.#bus, this.#topic, records);
        return;
      } catch (error) {
        if (attempt >= ATTEMPTS) {
          this.#log.error("Activity events lost: could not publish them", {
            topic: this.#topic,
            events: batch.length,
            agents: [...new Set(batch.map((event) => event.agent))],
            error,
          });
          return;
        }
        this.#log.warn("Could not publish activity, trying again", {
          topic: this.#topic,
          events: batch.length,
          attempt,
          error,
        });
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * 2 ** (attempt - 1)));
      }
    }
  }
}

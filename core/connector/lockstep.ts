/** Lockstep: wait until every agent has finished its decision on a tick before the next one. */

import type { Bus, Subscription } from "../bus/bus.ts";
import { subscribeMessages } from "../bus/messages.ts";
import { ACTIVITY_TOPIC } from "../bus/topics.ts";
import { ActivityEvent } from "../contracts/activity.ts";
import type { Logger } from "../log.ts";

/** Default bound on the wait for one tick. */
export const DEFAULT_LOCKSTEP_TIMEOUT_MS = 120_000;

/** Options for {@linkcode LockstepGate.open}. */
export interface LockstepOptions {
  /** Agents whose `decision` event must arrive for every tick. */
  agents: string[];
  /** Bound on the wait per tick (default 120 s); late agents are logged. */
  timeoutMs?: number;
  /** Activity topic (default `arena.activity`). */
  topic?: string;
  /** Where late agents are reported. */
  log: Logger;
}

/** Result of waiting for one tick. */
export interface LockstepResult {
  /** Agents that had not decided when the timeout hit (empty when all were in time). */
  late: string[];
}

interface Waiter {
  tick: number;
  resolve: () => void;
}

/** Tracks `decision` activity events per tick; open it before publishing the first tick. */
export class LockstepGate {
  readonly #agents: string[];
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #decided = new Map<number, Set<string>>();
  #waiters: Waiter[] = [];
  #subscription: Subscription | undefined;

  private constructor(options: LockstepOptions) {
    this.#agents = [...options.agents];
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_LOCKSTEP_TIMEOUT_MS;
    this.#log = options.log;
  }

  /** Subscribes to the activity topic with a unique group (new events only). */
  static async open(bus: Bus, options: LockstepOptions): Promise<LockstepGate> {
    if (options.agents.length === 0) throw new Error("Lockstep needs at least one agent name");
    const gate = new LockstepGate(options);
    gate.#subscription = await subscribeMessages(bus, {
      groupId: `connector-lockstep-${crypto.randomUUID()}`,
      topics: [options.topic ?? ACTIVITY_TOPIC],
      schema: ActivityEvent,
      fromBeginning: false,
      log: options.log,
      handler: (event) => {
        gate.#onEvent(event);
        return Promise.resolve();
      },
    });
    return gate;
  }

  /** Resolves when every agent decided on `tick`, or after the timeout naming late agents. */
  async wait(tick: number): Promise<LockstepResult> {
    if (!this.#complete(tick)) {
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      const waiter: Waiter = { tick, resolve: release };
      this.#waiters.push(waiter);
      const timer = setTimeout(release, this.#timeoutMs);
      await done;
      clearTimeout(timer);
      this.#waiters = this.#waiters.filter((other) => other !== waiter);
    }
    const decided = this.#decided.get(tick) ?? new Set();
    const late = this.#agents.filter((agent) => !decided.has(agent));
    if (late.length > 0) {
      this.#log.warn("Lockstep timeout: moving on without late agents", {
        tick,
        late,
        timeoutMs: this.#timeoutMs,
      });
    }
    for (const old of this.#decided.keys()) if (old < tick) this.#decided.delete(old);
    return { late };
  }

  /** Stops listening. */
  async close(): Promise<void> {
    for (const waiter of this.#waiters) waiter.resolve();
    await this.#subscription?.close();
  }

  #onEvent(event: ActivityEvent): void {
    if (event.kind !== "decision" || event.tick === undefined) return;
    if (!this.#agents.includes(event.agent)) return;
    let decided = this.#decided.get(event.tick);
    if (!decided) this.#decided.set(event.tick, decided = new Set());
    decided.add(event.agent);
    if (this.#complete(event.tick)) {
      for (const waiter of this.#waiters) if (waiter.tick === event.tick) waiter.resolve();
    }
  }

  #complete(tick: number): boolean {
    const decided = this.#decided.get(tick);
    return decided !== undefined && this.#agents.every((agent) => decided.has(agent));
  }
}

/** The market clock: the only source of "now" for time-dependent market logic. */

/** A source of market time in milliseconds since the epoch. */
export interface MarketClock {
  /** Current market time in ms. */
  now(): number;
}

/** A clock that is set explicitly (replays and tests). */
export class ManualClock implements MarketClock {
  #now: number;

  /** Starts at `startMs`. */
  constructor(startMs: number) {
    this.#now = startMs;
  }

  /** Current market time in ms. */
  now(): number {
    return this.#now;
  }

  /** Moves the clock to `ms`; it never goes backwards. */
  set(ms: number): void {
    if (ms > this.#now) this.#now = ms;
  }
}

/** The wall clock, used only by the live feed (market time is receive time there). */
export const WALL_CLOCK: MarketClock = { now: () => Date.now() };

/** ISO-8601 UTC text of a market time in ms. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

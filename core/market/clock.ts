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

/**
 * Market time (ms) of a masked replay's window start: one day after the Unix epoch, so every
 * candle of the warm-up before it keeps a non-negative time.
 */
export const MASKED_ORIGIN_MS = 86_400_000;

/**
 * Market time as shown to agents: the ISO text itself, or for a masked replay the time since the
 * masked origin (the window start), e.g. `T+1h05m`, `T-0h20m` or `T+0h00m30s`, so no calendar
 * date ever reaches a prompt.
 */
export function formatMarketTime(iso: string, masked: boolean): string {
  if (!masked) return iso;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`Market time must be an ISO-8601 time, got ${iso}`);
  const offset = Math.round((ms - MASKED_ORIGIN_MS) / 1000);
  const sign = offset < 0 ? "-" : "+";
  const total = Math.abs(offset);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const tail = seconds === 0 ? "" : `${String(seconds).padStart(2, "0")}s`;
  return `T${sign}${hours}h${String(minutes).padStart(2, "0")}m${tail}`;
}

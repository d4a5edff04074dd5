/**
 * Exponential backoff with jitter: the one retry delay used by every retry loop (reconnects,
 * retried requests, consumer restarts, redeliveries), a wall-clock sleep that an abort ends, and
 * a bounded wait for work that may hang (a last commit, a closing client).
 *
 * @example
 * ```ts
 * for (let attempt = 0;; attempt++) {
 *   try {
 *     return await request();
 *   } catch {
 *     await sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 5_000 }));
 *   }
 * }
 * ```
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay in ms (default 500). */
  initialMs?: number;
  /** Largest delay in ms (default 30 s). */
  maxMs?: number;
  /** Fraction of the delay that is randomised, 0..1 (default 0.5); 0 gives exact delays. */
  jitter?: number;
}

/** Delay before retry number `attempt` (0-based): initial x 2^attempt, capped, with jitter. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const jitter = options.jitter ?? 0.5;
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 - jitter + jitter * random()));
}

/** Waits `ms` on the wall clock, ending early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Waits for `work` at most `ms`, then goes on either way; a rejection of `work` is passed on. */
export async function waitAtMost(work: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([work, new Promise<void>((resolve) => timer = setTimeout(resolve, ms))]);
  } finally {
    clearTimeout(timer);
  }
}

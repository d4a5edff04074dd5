/** Progress lines for long runs (tournaments): a bar, a percentage and the time left. */

/** Where a long run stands. */
export interface ProgressState {
  /** Work units done so far. */
  done: number;
  /** Work units in all. */
  total: number;
  /** Wall-clock milliseconds since the run started. */
  elapsedMs: number;
}

/** Options for {@linkcode formatProgressBar}. */
export interface ProgressBarOptions {
  /** Characters between the brackets (default 30). */
  width?: number;
  /** Text after the time left, e.g. `window 3/30`. */
  label?: string;
}

/** A duration as `45 s`, `3 m 05 s` or `1 h 02 m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} m`;
}

/**
 * The time left, extrapolated from the pace so far; undefined until something is done (no
 * pace yet) and 0 once everything is.
 */
export function estimateRemainingMs(state: ProgressState): number | undefined {
  if (state.done >= state.total) return 0;
  if (state.done <= 0 || state.elapsedMs <= 0) return undefined;
  return state.elapsedMs * (state.total - state.done) / state.done;
}

/** One progress line: `[####------] 42 % · 1 m 05 s left · window 13/30`. */
export function formatProgressBar(state: ProgressState, options: ProgressBarOptions = {}): string {
  const width = options.width ?? 30;
  const fraction = state.total > 0 ? Math.min(1, Math.max(0, state.done / state.total)) : 0;
  const filled = Math.round(width * fraction);
  const remaining = estimateRemainingMs(state);
  const eta = remaining === undefined
    ? "estimating time left"
    : `${formatDuration(remaining)} left`;
  return [
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
      String(Math.floor(fraction * 100)).padStart(3)
    } %`,
    eta,
    ...(options.label ? [options.label] : []),
  ].join(" · ");
}

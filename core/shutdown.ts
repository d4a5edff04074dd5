/**
 * One way every service stops: SIGINT (Ctrl-C) and SIGTERM call one stop function once, with the
 * exit code the signal means (130, 143), and the parts started are closed in reverse start order.
 *
 * @example
 * ```ts ignore
 * const stops = new StopStack();
 * const removeSignals = onShutdownSignals(async (code) => {
 *   await stops.closeAll();
 *   Deno.exit(code);
 * });
 * ```
 */

import type { Logger } from "./log.ts";

/** Exit code after SIGINT (Ctrl-C): 128 + 2. */
export const SIGINT_EXIT_CODE = 130;

/** Exit code after SIGTERM: 128 + 15. */
export const SIGTERM_EXIT_CODE = 143;

/** Options for {@linkcode onShutdownSignals}. */
export interface ShutdownSignalOptions {
  /** Listen to SIGINT too (default true; false when a live screen handles Ctrl-C itself). */
  interrupt?: boolean;
}

/**
 * Calls `stop` once, on the first SIGINT or SIGTERM, with its exit code; later signals are
 * ignored. Returns a function that removes the listeners.
 */
export function onShutdownSignals(
  stop: (code: number) => void | Promise<void>,
  options: ShutdownSignalOptions = {},
): () => void {
  let stopping = false;
  const handle = (code: number) => () => {
    if (stopping) return;
    stopping = true;
    void stop(code);
  };
  const onInt = handle(SIGINT_EXIT_CODE);
  const onTerm = handle(SIGTERM_EXIT_CODE);
  const interrupt = options.interrupt ?? true;
  if (interrupt) Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  return () => {
    if (interrupt) Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  };
}

/** Stop functions of the parts a process started, closed in reverse order of start. */
export class StopStack {
  #stops: (() => Promise<void> | void)[] = [];
  #log?: Logger;

  /** Creates an empty stack; failures while closing are logged to `log` when given. */
  constructor(log?: Logger) {
    this.#log = log;
  }

  /** Adds the stop function of a part that just started. */
  push(stop: () => Promise<void> | void): void {
    this.#stops.push(stop);
  }

  /** Closes every part, last started first; a failing stop is logged and the rest still run. */
  async closeAll(): Promise<void> {
    while (this.#stops.length > 0) {
      const stop = this.#stops.pop()!;
      try {
        await stop();
      } catch (error) {
        this.#log?.warn("Stopping failed", { error });
      }
    }
  }
}

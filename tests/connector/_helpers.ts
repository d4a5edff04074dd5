/** Shared helpers for connector tests. */

import type { Bus } from "../../core/bus/bus.ts";
import { createLogger, type Logger } from "../../core/log.ts";

/** A quiet logger for tests (errors only). */
export function quietLog(): Logger {
  return createLogger("test", { level: "error" });
}

/** Polls `condition` every 10 ms until true, failing with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  options: { what: string; timeoutMs?: number },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every record value of a topic, parsed as JSON. */
export async function topicValues<T>(bus: Bus, topic: string): Promise<T[]> {
  const values: T[] = [];
  await bus.readAll(topic, (record) => {
    values.push(JSON.parse(record.value) as T);
    return Promise.resolve();
  });
  return values;
}

/** Waiting in tests for something that happens asynchronously, with a bound. */

/** Waits until `predicate` holds, polling every 5 ms, failing after `timeoutMs`. */
export async function eventually(
  what: string,
  predicate: () => boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

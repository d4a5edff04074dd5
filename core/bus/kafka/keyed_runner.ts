/** Runs tasks of different keys concurrently, up to a limit, and tasks of one key in order. */

/**
 * A per-key scheduler: a task starts once the previous task of its key has finished and one of
 * the `concurrency` slots is free. The caller names the lane (a record key, or its partition for
 * records without one).
 */
export class KeyedRunner {
  #free: number;
  #waiting: (() => void)[] = [];
  #tails = new Map<string, Promise<void>>();

  /** Creates a runner with `concurrency` slots (at least 1). */
  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(`Concurrency must be a positive whole number, got ${concurrency}`);
    }
    this.#free = concurrency;
  }

  /** Runs a task after earlier tasks of its key; resolves or rejects as the task does. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(async () => {
      await this.#acquire();
      try {
        await task();
      } finally {
        this.#release();
      }
    });
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  async #acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiting.push(resolve);
    await promise;
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

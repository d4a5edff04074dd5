/** Keeps kafkajs admin calls that replace its metadata cache apart from offset lookups. */

/**
 * Runs admin calls either side by side (shared) or alone (exclusive), in arrival order.
 *
 * kafkajs' admin.fetchTopicOffsets looks the topic up in the client's metadata cache twice (for
 * the high and the low offsets), while admin.fetchTopicMetadata for topics not cached replaces
 * that cache with metadata of only those topics. Run between the two look-ups, it leaves the
 * offsets lookup with no partitions, and kafkajs fails with a TypeError it does not retry.
 */
export class MetadataGate {
  #shared = 0;
  #exclusive = false;
  #waiting: { exclusive: boolean; enter: () => void }[] = [];

  /** Runs a call that may overlap other shared calls, but no exclusive one. */
  shared<T>(call: () => Promise<T>): Promise<T> {
    return this.#run(false, call);
  }

  /** Runs a call once nothing else runs, keeping later calls out until it is done. */
  exclusive<T>(call: () => Promise<T>): Promise<T> {
    return this.#run(true, call);
  }

  async #run<T>(exclusive: boolean, call: () => Promise<T>): Promise<T> {
    if (this.#waiting.length === 0 && this.#mayEnter(exclusive)) {
      this.#enter(exclusive);
    } else {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiting.push({ exclusive, enter: resolve });
      await promise;
    }
    try {
      return await call();
    } finally {
      if (exclusive) this.#exclusive = false;
      else this.#shared--;
      this.#admit();
    }
  }

  #mayEnter(exclusive: boolean): boolean {
    return exclusive ? !this.#exclusive && this.#shared === 0 : !this.#exclusive;
  }

  #enter(exclusive: boolean): void {
    if (exclusive) this.#exclusive = true;
    else this.#shared++;
  }

  /** Lets waiting calls in, in arrival order, as far as the first that must still wait. */
  #admit(): void {
    while (this.#waiting.length > 0 && this.#mayEnter(this.#waiting[0]!.exclusive)) {
      const next = this.#waiting.shift()!;
      this.#enter(next.exclusive);
      next.enter();
    }
  }
}

/**
 * The failure kafkajs' fetchTopicOffsets reports when its metadata cache lost the topic midway
 * (a TypeError such as "Cannot destructure property 'partitions' of 'low.pop(...)'"), which it
 * wraps as not retriable although a new lookup succeeds.
 */
export function isMetadataRace(error: unknown): boolean {
  if (error instanceof TypeError) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof TypeError;
}

/** Which offsets of each partition a subscription may commit: up to its lowest unfinished record. */

/** An offset to commit: the next record to read in one partition. */
export interface CommitOffset {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** Next offset to read, as a decimal string. */
  offset: string;
}

interface PartitionProgress {
  topic: string;
  partition: number;
  /** Offsets received and not finished, in offset order. */
  unfinished: bigint[];
  /** One past the highest finished offset, once a record finished. */
  afterFinished?: bigint;
  /** The last offset committed by this subscription. */
  committed?: bigint;
}

/**
 * Tracks received and finished records per partition. The committable offset of a partition is
 * its lowest unfinished record, or one past the highest finished record when none is
 * unfinished, so a commit never skips a record whose handler has not finished (at-least-once),
 * even when records of one partition finish out of order.
 */
export class OffsetTracker {
  #partitions = new Map<string, PartitionProgress>();

  /**
   * Notes a record handed to a handler. Returns false, noting nothing, when the record is
   * finished or still unfinished already (fetched again after a rebalance): skip it then.
   */
  receive(topic: string, partition: number, offset: string): boolean {
    if (this.isFinished(topic, partition, offset)) return false;
    const progress = this.#progress(topic, partition);
    const value = BigInt(offset);
    if (progress.unfinished.includes(value)) return false;
    const index = progress.unfinished.findIndex((unfinished) => unfinished > value);
    if (index < 0) progress.unfinished.push(value);
    else progress.unfinished.splice(index, 0, value);
    return true;
  }

  /** Notes that a record's handler finished, so its offset may be committed. */
  finish(topic: string, partition: number, offset: string): void {
    const progress = this.#partitions.get(key(topic, partition));
    if (!progress) return;
    const value = BigInt(offset);
    const index = progress.unfinished.indexOf(value);
    if (index < 0) return;
    progress.unfinished.splice(index, 1);
    if (progress.afterFinished === undefined || value + 1n > progress.afterFinished) {
      progress.afterFinished = value + 1n;
    }
  }

  /** Whether a record is already finished (below the committable offset), e.g. refetched. */
  isFinished(topic: string, partition: number, offset: string): boolean {
    const progress = this.#partitions.get(key(topic, partition));
    const position = progress && committable(progress);
    return position !== undefined && BigInt(offset) < position;
  }

  /** Offsets that moved since they were last committed, one per partition. */
  uncommitted(): CommitOffset[] {
    const offsets: CommitOffset[] = [];
    for (const progress of this.#partitions.values()) {
      const position = committable(progress);
      if (position === undefined) continue;
      if (progress.committed !== undefined && position <= progress.committed) continue;
      offsets.push({
        topic: progress.topic,
        partition: progress.partition,
        offset: position.toString(),
      });
    }
    return offsets;
  }

  /** Notes offsets the broker acknowledged. */
  committed(offsets: CommitOffset[]): void {
    for (const entry of offsets) {
      const progress = this.#partitions.get(key(entry.topic, entry.partition));
      if (!progress) continue;
      const value = BigInt(entry.offset);
      if (progress.committed === undefined || value > progress.committed) {
        progress.committed = value;
      }
    }
  }

  /** Forgets partitions not in an assignment (topic to partitions) after a rebalance. */
  retain(assignment: Record<string, number[]>): void {
    for (const [name, progress] of this.#partitions) {
      if (!assignment[progress.topic]?.includes(progress.partition)) {
        this.#partitions.delete(name);
      }
    }
  }

  #progress(topic: string, partition: number): PartitionProgress {
    const name = key(topic, partition);
    let progress = this.#partitions.get(name);
    if (!progress) {
      progress = { topic, partition, unfinished: [] };
      this.#partitions.set(name, progress);
    }
    return progress;
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Lowest unfinished offset, or one past the highest finished; none before a record finished. */
function committable(progress: PartitionProgress): bigint | undefined {
  if (progress.afterFinished === undefined) return undefined;
  const lowest = progress.unfinished[0];
  return lowest !== undefined && lowest < progress.afterFinished ? lowest : progress.afterFinished;
}

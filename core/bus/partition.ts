/** Key-to-partition mapping shared by the buses. */

/** Partition for a key: FNV-1a hash modulo the partition count, stable across runs. */
export function partitionForKey(key: string, partitionCount: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitionCount;
}

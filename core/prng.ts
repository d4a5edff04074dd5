/**
 * A small seeded pseudo-random number generator (mulberry32) and a string hash to derive seeds,
 * so bootstraps, permutation tests and random baseline traders give the same numbers on every
 * run with the same seed. Not for cryptography.
 *
 * @example
 * ```ts
 * const random = createPrng(42);
 * const draw = random(); // in [0, 1), the same sequence for seed 42 every time
 * ```
 */

/** A generator of uniform numbers in [0, 1). */
export type Prng = () => number;

/** Creates a mulberry32 generator from a 32-bit seed (any integer; it is taken modulo 2^32). */
export function createPrng(seed: number): Prng {
  if (!Number.isFinite(seed)) throw new Error(`Seed must be a finite number, got ${seed}`);
  let state = Math.trunc(seed) >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from text (FNV-1a), e.g. to give every agent of a run its own stream. */
export function seedFrom(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A uniform integer in [0, `below`) drawn from `random`. */
export function randomInt(random: Prng, below: number): number {
  if (!Number.isInteger(below) || below < 1) {
    throw new Error(`Upper bound must be a positive integer, got ${below}`);
  }
  return Math.min(below - 1, Math.floor(random() * below));
}

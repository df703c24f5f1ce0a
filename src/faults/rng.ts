// A small seeded generator (mulberry32): fault fractions and jitter are drawn from it so a
// scenario with the same seed replays the same sequence of injected outcomes.
export function seededRng (seed: number): () => number {
  let a = seed >>> 0
  return function next (): number {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A stable seed from a name (FNV-1a), for faults that set none. */
export function seedOf (name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

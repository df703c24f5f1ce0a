// Narrowing parsed JSON and YAML: one check every layer shares, so a value read from outside
// the type system is what its type says without a cast.

/** A mapping: an object that is neither null nor an array. */
export function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

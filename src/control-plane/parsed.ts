// What Fastify parsed from a request (the query string, a JSON or form body) has no type of its
// own: these read it through checks.

/** An object (not null, not an array): its fields can be read by name. */
export function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** One query parameter as Fastify parsed it: a string, an array when repeated, or undefined. */
export function queryParam (query: unknown, name: string): unknown {
  return isRecord(query) ? query[name] : undefined
}

// What Fastify parsed from a request (the query string, a JSON or form body) has no type of its
// own: these read it through checks.
import { isRecord } from '../core/json.js'
export { isRecord }

/** One query parameter as Fastify parsed it: a string, an array when repeated, or undefined. */
export function queryParam (query: unknown, name: string): unknown {
  return isRecord(query) ? query[name] : undefined
}

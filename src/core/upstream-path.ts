// The upstream request target: a deployment's base path joined with what the client sent after
// /{ws}/models/{model}. Shared by the forwarder and the health probes.

/** Joins a deployment's base path and the forwarded rest (sub-path and query) into a target. */
export function upstreamPath (basePath: string, rest: string): string {
  if (rest === '') return basePath === '' ? '/' : basePath
  if (rest.charCodeAt(0) === 63 /* ? */) return (basePath === '' ? '/' : basePath) + rest
  return basePath + rest
}

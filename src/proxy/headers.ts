// Header hygiene: what crosses the gateway in each direction. Built once; the request path
// does set lookups only.

/**
 * Never forwarded upstream: hop-by-hop headers (RFC 9110 §7.6.1), the client's credentials
 * (a client token must never reach a provider), Blaxel routing headers, headers agnet sets
 * itself (they are overwritten, not merged, so a client cannot forge them), and `expect`
 * (agnet streams bodies; 100-continue is answered by Node).
 */
export const STRIP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'expect',
  'proxy-authorization', 'proxy-authenticate',
  'authorization', 'x-blaxel-authorization', 'x-blaxel-api-key', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie',
  'x-blaxel-workspace', 'blaxel-version',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-real-ip', 'x-request-id'
])

/**
 * CGI-style upstreams (WSGI, Rack, PHP, many frameworks behind them) read `X_Foo` and `X-Foo`
 * as the same variable. So every spelling of a stripped header, and of the framing headers
 * the upstream connection owns, with `_` for any of its `-` is dropped as well: a client
 * cannot smuggle a credential or a second Content-Length under a look-alike name. All
 * spellings are listed here once, so the request path still does one set lookup.
 */
const FRAMING = ['content-length', 'transfer-encoding', 'host']

function underscoreSpellings (name: string): string[] {
  let out = ['']
  for (const ch of name) out = ch === '-' ? out.flatMap(p => [p + '-', p + '_']) : out.map(p => p + ch)
  return out.filter(n => n.includes('_'))
}

const DROP_REQUEST: ReadonlySet<string> = new Set([
  ...STRIP_REQUEST,
  ...[...STRIP_REQUEST, ...FRAMING].flatMap(underscoreSpellings)
])

/** The client's body headers, dropped when agnet sends a body of its own (a translated request). */
const BODY_HEADERS: ReadonlySet<string> = new Set(['content-length', 'content-type', 'accept-encoding', 'content-encoding'])

/** x-agnet-* or x_agnet_* (any mix): agnet's own headers, never taken from a client. */
function isAgnetHeader (lower: string): boolean {
  if (lower.charCodeAt(0) !== 120 /* x */ || !lower.startsWith('agnet', 2)) return false
  const a = lower.charCodeAt(1)
  const b = lower.charCodeAt(7)
  return (a === 45 || a === 95) && (b === 45 || b === 95)
}

/**
 * Never passed back to the client: hop-by-hop headers, the upstream's keep-alive hint (agnet
 * manages client connections itself), and the platform markers an upstream must not forge.
 */
export const STRIP_RESPONSE = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'x-blaxel-source', 'x-blaxel-error-code', 'x-request-id', 'x-agnet-region', 'x-agnet-deployment', 'x-agnet-origin',
  'x-agnet-attempts', 'server-timing'
])

function connectionTokens (value: string | undefined): Set<string> | null {
  // The values nearly every client and upstream send name no other header.
  if (value === undefined || value === '' || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return null
  let set: Set<string> | null = null
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase()
    if (name === '' || name === 'close' || name === 'keep-alive') continue
    ;(set ??= new Set()).add(name)
  }
  return set
}

/**
 * Cleans the client's raw headers into a flat [name, value, ...] array for undici, then
 * appends what agnet owns: the deployment's credential and headers, forwarding headers and
 * the request id. With `ownBody` the client's body headers are dropped as well: agnet sends
 * a body of its own and writes them for it.
 */
export function buildUpstreamHeaders (
  raw: readonly string[],
  connection: string | undefined,
  setHeaders: readonly string[],
  defaultHeaders: readonly string[],
  clientIp: string,
  hostHeader: string | undefined,
  requestId: string,
  ownBody = false
): string[] {
  const named = connectionTokens(connection)
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    const value = raw[i + 1]
    if (name === undefined || value === undefined) break
    const lower = name.toLowerCase()
    if (DROP_REQUEST.has(lower) || isAgnetHeader(lower) || (ownBody && BODY_HEADERS.has(lower))) continue
    if (named !== null && named.has(lower)) continue
    out.push(name, value)
  }
  for (let i = 0; i < defaultHeaders.length; i += 2) {
    const name = defaultHeaders[i]
    const value = defaultHeaders[i + 1]
    if (name === undefined || value === undefined) break
    let present = false
    for (let j = 0; j < out.length; j += 2) if (out[j]?.toLowerCase() === name) { present = true; break }
    if (!present) out.push(name, value)
  }
  for (let i = 0; i < setHeaders.length; i += 2) {
    const name = setHeaders[i]
    const value = setHeaders[i + 1]
    if (name === undefined || value === undefined) break
    // A configured header replaces any client copy that survived stripping.
    for (let j = 0; j < out.length; j += 2) {
      if (out[j]?.toLowerCase() === name) { out.splice(j, 2); j -= 2 }
    }
    out.push(name, value)
  }
  out.push('x-forwarded-for', clientIp, 'x-forwarded-proto', 'http', 'x-request-id', requestId)
  if (hostHeader !== undefined) out.push('x-forwarded-host', hostHeader)
  return out
}

/** Upstream response headers (undici's parsed object) → flat array for writeHead, cleaned. */
export function buildResponseHeaders (headers: Record<string, string | string[] | undefined>, out: string[]): boolean {
  const named = connectionTokens(typeof headers.connection === 'string' ? headers.connection : undefined)
  let sse = false
  for (const name in headers) {
    if (STRIP_RESPONSE.has(name)) continue
    if (named !== null && named.has(name)) continue
    const v = headers[name]
    if (v === undefined) continue
    if (typeof v === 'string') {
      out.push(name, v)
      if (name === 'content-type' && v.startsWith('text/event-stream')) sse = true
    } else for (const x of v) out.push(name, x)
  }
  return sse
}

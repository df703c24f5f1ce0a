// A bounded, seeded fuzzing tier: valid requests mutated at the byte level, sent over raw
// sockets, against a real gateway and a real upstream. Whatever the bytes, the gateway never
// crashes, never answers one request twice, never lets a request it refused reach the
// upstream, never forwards anything ambiguous, and never shows a credential in an answer or
// a log line. The byte sequences are a pure function of the seed; the run prints the seed and
// the case count so a failure can be replayed with AGNET_FUZZ_SEED / AGNET_FUZZ_CASES.
import type { IncomingMessage } from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type Upstream } from '../helpers/net.js'
import { parseResponses, type RawResponse } from '../helpers/raw-http.js'

const SEED = Number(process.env.AGNET_FUZZ_SEED ?? 0x5eed)
const CASES = Number(process.env.AGNET_FUZZ_CASES ?? 2000)
const PARALLEL = 24

const KEY = 'fuzz-client-key-4f1c9a'
const UPSTREAM_KEY = 'sk-fuzz-upstream-secret-77'

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const AUTH = `X-Blaxel-Authorization: Bearer ${KEY}\r\n`
const JSON_BODY = '{"model":"m","messages":[{"role":"user","content":"hi"}]}'

/** Valid requests (one or more per connection); `#` is replaced by a request id. */
const TEMPLATES: Array<(id: (k: number) => string) => string> = [
  id => `GET /acc/models/rec/v1/models?x=1 HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(0)}\r\n\r\n`,
  id => `POST /acc/models/rec/v1/chat/completions HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(0)}\r\nContent-Type: application/json\r\nContent-Length: ${JSON_BODY.length}\r\n\r\n${JSON_BODY}`,
  id => `POST /acc/models/rec/v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${KEY}\r\nX-Request-Id: ${id(0)}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n3\r\n"b"\r\n1\r\n}\r\n0\r\n\r\n`,
  id => `GET /acc/models/rec/v1/a HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(0)}\r\n\r\n` +
    `POST /acc/models/rec/v1/b HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(1)}\r\nContent-Length: 4\r\n\r\nbody` +
    `GET /acc/models/rec/v1/c HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(2)}\r\n\r\n`,
  id => `POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: gw\r\nX-Request-Id: ${id(0)}\r\nContent-Length: 11\r\n\r\nhello world` +
    `GET /acc/models/rec/v1/y HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(1)}\r\n\r\n`,
  id => `PUT /run/acc/models/rec/v1/files/a.txt?y=%2F HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(0)}\r\nAuthorization: Bearer replaced\r\nContent-Length: 3\r\n\r\nabc`,
  id => `GET /v0/workspaces HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(0)}\r\n\r\n`,
  id => `DELETE /acc/models/rec/v1/items/1 HTTP/1.1\r\nHost: gw\r\n${AUTH}X-Request-Id: ${id(0)}\r\nConnection: keep-alive\r\n\r\n`
]

const TOKENS = [
  '\r\n', '\n', '\r', ' ', '\t', ':', '%', '%00', '%0d%0a', '%252e', '%2e%2e', '%5c', '//', '/..', '_', '\x00', '\x7f', '\xff',
  'Transfer-Encoding: chunked\r\n', 'Content-Length: 0\r\n', 'Content-Length: 5\r\n', 'Content-Length: -1\r\n',
  'Transfer_Encoding: chunked\r\n', 'Content_Length: 3\r\n', `X_Blaxel_Authorization: Bearer ${KEY}\r\n`,
  ' chunked', ', chunked', '\r\n\r\n', '0\r\n\r\n', 'ffffffffffffffff\r\n', 'Host: other\r\n', 'Expect: 100-continue\r\n',
  'Expect: nope\r\n', 'Connection: close\r\n', 'Connection: keep-alive, Transfer-Encoding\r\n', 'X-A: b\r\n c\r\n',
  'GET /acc/models/rec/v1/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n', 'CONNECT gw:443 HTTP/1.1\r\n', 'http://evil.test',
  'X'.repeat(300)
]
const BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x25, 0x2f, 0x30, 0x39, 0x3a, 0x5c, 0x5f, 0x61, 0x7f, 0x80, 0xff]

/** One mutated case: the bytes and the ids of the requests it started from. */
function makeCase (n: number, next: () => number): { bytes: Buffer; ids: string[]; splits: number[] } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T
  const ids: string[] = []
  // A random tag per case: a mutated digit cannot turn one case's id into another's.
  const tag = Math.floor(next() * 0xffffffff).toString(16).padStart(8, '0')
  const text = pick(TEMPLATES)(k => { const id = `fz${n}-${tag}-${k}`; ids[k] = id; return id })
  let b = Buffer.from(text, 'latin1')
  const ops = 1 + Math.floor(next() * 3)
  for (let o = 0; o < ops; o++) {
    const at = Math.floor(next() * (b.length + 1))
    switch (Math.floor(next() * 7)) {
      case 0: { // flip one bit
        if (b.length === 0) break
        const i = Math.min(at, b.length - 1)
        b[i] = (b[i] as number) ^ (1 << Math.floor(next() * 8))
        break
      }
      case 1: { // replace a byte with one that matters to parsers
        if (b.length === 0) break
        b[Math.min(at, b.length - 1)] = pick(BYTES)
        break
      }
      case 2: // insert a token
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(TOKENS), 'latin1'), b.subarray(at)])
        break
      case 3: // delete a short range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(next() * 8))])
        break
      case 4: { // duplicate a short range
        const len = 1 + Math.floor(next() * 24)
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)])
        break
      }
      case 5: // truncate
        b = b.subarray(0, at)
        break
      default: { // swap two neighbours
        if (at + 1 >= b.length) break
        const x = b[at] as number
        b[at] = b[at + 1] as number
        b[at + 1] = x
      }
    }
  }
  // Sent as one to three writes: framing must not depend on where packets break.
  const splits = Array.from({ length: Math.floor(next() * 3) }, () => Math.floor(next() * b.length)).sort((x, y) => x - y)
  return { bytes: b, ids, splits }
}

interface Arrival { id: string; url: string; names: string[]; auth: string[]; complete: boolean }
interface Tally { requests: number; headErrors: number }

let upstream: Upstream
let gw: TestGateway
const arrivals = new Map<string, Arrival[]>()
const tallies = new Map<number, Tally>()

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const id = String(req.headers['x-request-id'] ?? '')
    const a: Arrival = {
      id,
      url: req.url ?? '',
      names: req.rawHeaders.filter((_, i) => i % 2 === 0).map(n => n.toLowerCase()),
      auth: req.rawHeaders.filter((_, i) => i % 2 === 1 && CARRIER.test(req.rawHeaders[i - 1] ?? '')),
      complete: false
    }
    arrivals.set(id, [...(arrivals.get(id) ?? []), a])
    req.resume()
    req.on('end', () => { a.complete = true; res.setHeader('content-type', 'application/json'); res.end('{"ok":true}') })
  })
  gw = await startGateway(`
users:
  - name: fz
    apiKeys: [{ name: fz-key, value: "${KEY}" }]
workspaces:
  - name: acc
    members: [{ user: fz, role: admin }]
    integrations: [{ name: up, provider: openai, baseUrl: "${upstream.url}", apiKey: "${UPSTREAM_KEY}" }]
    models:
      - { name: rec, runtime: { type: openai, model: m }, integrationConnections: [up], deployments: [{ region: eu-lon-1 }] }
`)
  const server = gw.app.server
  // Answer clients that half-close after their last byte (the harness does, so that a
  // request cut short ends at once instead of waiting for the header timeout).
  ;(server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true
  // What the server saw per connection, to bound the answers one connection may get.
  server.prependListener('connection', (socket: net.Socket) => { tallies.set(socket.remotePort ?? 0, { requests: 0, headErrors: 0 }) })
  const count = (req: IncomingMessage): void => { const t = tallies.get(req.socket.remotePort ?? 0); if (t !== undefined) t.requests++ }
  server.prependListener('request', count)
  server.prependListener('connect', count)
  server.prependListener('checkExpectation', count)
  server.prependListener('clientError', (_err: Error, socket: Duplex) => {
    const s = socket as net.Socket & { parser?: { incoming: IncomingMessage | null } | null }
    const incoming = s.parser?.incoming ?? null
    // An error in a new head may be answered; one in the body of an emitted request may not.
    if (incoming === null || incoming.complete) { const t = tallies.get(s.remotePort ?? 0); if (t !== undefined) t.headErrors++ }
  })
})
afterAll(async () => {
  await gw.close()
  upstream.close()
})

interface Outcome { responses: RawResponse[]; trailing: string; raw: string; localPort: number }

async function send (bytes: Buffer, splits: number[]): Promise<Outcome> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(gw.port, '127.0.0.1')
    let raw = ''
    let localPort = 0
    sock.setEncoding('latin1')
    sock.on('connect', () => {
      localPort = sock.localPort ?? 0
      let from = 0
      for (const s of splits) { sock.write(bytes.subarray(from, s)); from = s }
      sock.end(bytes.subarray(from))
    })
    sock.on('data', (d: string) => { raw += d })
    sock.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err) })
    sock.on('close', () => { resolve({ ...parseResponses(raw), raw, localPort }) })
  })
}

const REFUSED_BEFORE_DISPATCH = new Set([400, 401, 403, 404, 405, 408, 413, 417, 431])
const AMBIGUOUS_URL = /^\/\/|%(25)*(0[0ad])|%(25)+(2[ef]|5c)/i
// Stripped headers and the `_` spellings of stripped or framing ones (the dash spellings of
// Transfer-Encoding and Content-Length are the upstream connection's own framing).
const DROPPED_NAME = /^(x[-_]blaxel[-_](authorization|api[-_]key)|proxy[-_]authorization|transfer_encoding|content_length|host_|x_forwarded|x[-_]agnet[-_]|cookie$|te$|upgrade$)/
const CARRIER = /^(authorization|x[-_]blaxel[-_]authorization|proxy[-_]authorization|x[-_]api[-_]key|api[-_]key|x[-_]blaxel[-_]api[-_]key)$/i

describe('fuzzing the HTTP edge', () => {
  it(`holds its invariants over ${CASES} mutated requests (seed ${SEED})`, async () => {
    const next = rng(SEED)
    const cases = Array.from({ length: CASES }, (_, n) => makeCase(n, next))
    const failures: string[] = []
    const statuses = new Map<number, number>()
    let answered = 0
    let reachedUpstream = 0
    const fail = (n: number, what: string): void => { if (failures.length < 20) failures.push(`case ${n} (seed ${SEED}): ${what}\n  bytes: ${JSON.stringify(cases[n]?.bytes.toString('latin1').slice(0, 400))}`) }

    let cursor = 0
    const worker = async (): Promise<void> => {
      while (cursor < cases.length) {
        const n = cursor++
        const c = cases[n] as (typeof cases)[number]
        const out = await send(c.bytes, c.splits)
        const tally = tallies.get(out.localPort) ?? { requests: 0, headErrors: 0 }
        tallies.delete(out.localPort)
        answered += out.responses.length > 0 ? 1 : 0
        for (const r of out.responses) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        // Never two answers to one request: at most one per request the server read, plus one
        // for a head it could not read.
        if (out.responses.length > tally.requests + Math.min(1, tally.headErrors)) fail(n, `${out.responses.length} answers for ${tally.requests} requests and ${tally.headErrors} unreadable heads`)
        if (out.trailing !== '') fail(n, `bytes after the last complete answer: ${JSON.stringify(out.trailing.slice(0, 200))}`)
        const closeAt = out.responses.findIndex(r => r.headers.connection === 'close')
        if (closeAt >= 0 && closeAt < out.responses.length - 1) fail(n, 'an answer after one that closed the connection')
        if (out.raw.includes(KEY) || out.raw.includes(UPSTREAM_KEY)) fail(n, 'a credential in the answer')
        for (const r of out.responses) {
          if (r.headers['x-blaxel-source'] === 'platform' && REFUSED_BEFORE_DISPATCH.has(r.status) && arrivals.has(r.headers['x-request-id'] ?? '')) {
            fail(n, `refused with ${r.status} ${r.headers['x-blaxel-error-code'] ?? ''} yet the upstream saw it`)
          }
        }
        // Behind an answer that closed the connection, no later request of this case ran.
        const closer = closeAt >= 0 ? out.responses[closeAt] : undefined
        if (closer !== undefined && closer.headers['x-blaxel-source'] === 'platform') {
          const k = c.ids.indexOf(closer.headers['x-request-id'] ?? '')
          if (k >= 0) for (const later of c.ids.slice(k + 1)) if (arrivals.has(later)) fail(n, `${later} reached the upstream behind a closing refusal`)
        }
        for (const id of c.ids) {
          for (const a of arrivals.get(id) ?? []) {
            reachedUpstream++
            if (AMBIGUOUS_URL.test(a.url)) fail(n, `ambiguous target forwarded: ${a.url}`)
            if (a.url.includes(KEY)) fail(n, 'the client key in a forwarded target')
            const bad = a.names.find(x => DROPPED_NAME.test(x))
            if (bad !== undefined) fail(n, `header ${bad} forwarded`)
            if (a.auth.some(v => v !== `Bearer ${UPSTREAM_KEY}`)) fail(n, 'a client credential reached the upstream')
          }
        }
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker))

    gw.app.logger.flush()
    const logs = gw.logs.join('\n')
    if (logs.includes(KEY) || logs.includes(UPSTREAM_KEY)) failures.push('a credential in the log')
    // Still serving after all of it.
    const health = await send(Buffer.from(`GET /acc/models/rec/v1/ok HTTP/1.1\r\nHost: gw\r\n${AUTH}\r\n`), [])
    expect(health.responses.map(r => r.status)).toEqual([200])

    const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, k]) => `${s}×${k}`).join(' ')
    process.stdout.write(`fuzz: seed=${SEED} cases=${CASES} answered=${answered} upstreamArrivals=${reachedUpstream} statuses: ${summary}\n`)
    expect(failures).toEqual([])
    // The corpus must exercise both sides: refusals and requests that go through.
    expect(reachedUpstream).toBeGreaterThan(CASES / 20)
    expect(statuses.get(400) ?? 0).toBeGreaterThan(CASES / 20)
  }, 120_000)
})

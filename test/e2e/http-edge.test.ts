// The HTTP edge over raw sockets: every answer the server gives itself is in the edge shape,
// one answer per request, nothing queued behind a refusal runs, and nothing ambiguous (path,
// header name, framing) reaches the upstream.
import { EventEmitter } from 'node:events'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type Upstream } from '../helpers/net.js'
import net from 'node:net'
import { parseResponses, rawExchange, type RawResponse } from '../helpers/raw-http.js'
import { MAX_HEADER_COUNT } from '../../src/edge/admission.js'

const KEY = 'edge-test-key-0123456789'
const AUTH = `X-Blaxel-Authorization: Bearer ${KEY}\r\n`

interface Arrival { method: string; url: string; rawNames: string[]; body: string; complete: boolean }

let upstream: Upstream
let gw: TestGateway
const arrivals: Arrival[] = []
const events = new EventEmitter()
/** When set, the upstream holds its answers until the promise resolves. */
let hold: Promise<void> | null = null

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const a: Arrival = { method: req.method ?? '', url: req.url ?? '', rawNames: req.rawHeaders.filter((_, i) => i % 2 === 0), body: '', complete: false }
    arrivals.push(a)
    events.emit('arrival', a)
    req.setEncoding('latin1')
    req.on('data', (d: string) => { a.body += d })
    req.on('end', () => {
      a.complete = true
      const answer = (): void => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ url: a.url, body: a.body })) }
      if (hold === null) answer()
      else void hold.then(answer)
    })
  })
  gw = await startGateway(`
users:
  - name: ed
    apiKeys: [{ name: ed-key, value: "${KEY}" }]
workspaces:
  - name: acc
    members: [{ user: ed, role: admin }]
    integrations: [{ name: up, provider: openai, baseUrl: "${upstream.url}", apiKey: "sk-upstream-secret" }]
    models:
      - { name: rec, runtime: { type: openai, model: m }, integrationConnections: [up], deployments: [{ region: eu-lon-1 }] }
`)
})
afterAll(async () => {
  await gw.close()
  upstream.close()
})
beforeEach(() => {
  arrivals.length = 0
  hold = null
})

function expectEdgeError (r: RawResponse | undefined, status: number, code: string): void {
  expect(r).toBeDefined()
  const res = r as RawResponse
  expect(res.status).toBe(status)
  expect(res.headers['x-blaxel-source']).toBe('platform')
  expect(res.headers['x-blaxel-error-code']).toBe(code)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = JSON.parse(res.body) as { error: Record<string, unknown> }
  expect(body.error).toMatchObject({ code, status, origin: 'platform' })
  expect(body.error.request_id).toBe(res.headers['x-request-id'])
}

/** Sends `head`, waits for the first answer, then sends `rest`; resolves with all bytes at close. */
async function headThenRest (head: string, rest: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(gw.port, '127.0.0.1', () => { sock.write(head) })
    let raw = ''
    let sentRest = false
    sock.setEncoding('latin1')
    sock.on('data', (d: string) => {
      raw += d
      if (!sentRest && parseResponses(raw).responses.length === 1) {
        sentRest = true
        sock.write(rest)
      }
    })
    sock.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err) })
    sock.on('close', () => { resolve(raw) })
  })
}

const GOOD = `GET /acc/models/rec/v1/models HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`

describe('HTTP parser errors answer in the edge shape, once, and close the connection', () => {
  const cases: Array<[string, string, number]> = [
    ['Content-Length with Transfer-Encoding', `POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ['Transfer-Encoding with Content-Length', `POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`, 400],
    ['two Content-Lengths', `POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcd`, 400],
    ['a bad chunk size', `POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\nzz\r\n`, 400],
    ['obs-fold', `GET /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}X-Folded: a\r\n b\r\n\r\n`, 400],
    ['bare LF line ends', `GET /acc/models/rec/v1/x HTTP/1.1\nHost: x\n${AUTH.trimEnd()}\n\n`, 400],
    ['a bare LF inside the head', `GET /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\nX-A: b\r\n${AUTH}\r\n`, 400],
    ['a missing Host', `GET /acc/models/rec/v1/x HTTP/1.1\r\n${AUTH}\r\n`, 400],
    ['oversized headers', `GET /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a space in the target', `GET /acc/models/rec/v1/a b HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 400],
    ['a TLS handshake', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 400]
  ]
  it.each(cases)('%s → %i, and nothing pipelined behind it reaches the upstream', async (_name, text, status) => {
    const r = await rawExchange(gw.port, [text + GOOD])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], status, 'BAD_REQUEST')
    expect(r.responses[0]?.headers.connection).toBe('close')
    expect(r.closed).toBe(true)
    expect(r.trailing).toBe('')
    expect(arrivals).toHaveLength(0)
  })

  it('the control plane answers parser errors in the same shape', async () => {
    const r = await rawExchange(gw.port, ['GET /v0/workspaces HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 400, 'BAD_REQUEST')
  })

  it('no credential sent in the broken request is echoed or logged', async () => {
    await rawExchange(gw.port, [`POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`])
    gw.app.logger.flush()
    expect(gw.logs.join('\n')).not.toContain(KEY)
    expect(gw.logs.join('\n')).toContain('request refused by the HTTP parser')
  })
})

describe('one answer per request', () => {
  it('an unauthenticated chunked POST whose body turns out malformed gets one answer, and the connection closes', async () => {
    // The malformed chunk is in the packet of the head, so the framing error is known before
    // the 401 goes out and is the one answer.
    const r = await rawExchange(gw.port, ['POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n'])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 400, 'BAD_REQUEST')
    expect(r.trailing).toBe('')
    expect(r.closed).toBe(true)
  })

  it('a 401 sent before the chunked body turns out malformed stays the only answer', async () => {
    const raw = await headThenRest(
      'POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      'zz\r\n'
    )
    const { responses, trailing } = parseResponses(raw)
    expect(responses).toHaveLength(1)
    expectEdgeError(responses[0], 401, 'AUTHENTICATION_REQUIRED')
    expect(responses[0]?.headers.connection).toBe('close')
    expect(trailing).toBe('')
  })

  it('an early refusal of a request whose body is still unread closes the connection instead of draining it', async () => {
    // Half of a 1 MB body: the server must not wait for the rest.
    const r = await rawExchange(gw.port, [`POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${'a'.repeat(500_000)}`])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 401, 'AUTHENTICATION_REQUIRED')
    expect(r.responses[0]?.headers.connection).toBe('close')
    expect(r.closed).toBe(true)
    expect(arrivals).toHaveLength(0)
  })

  it('a refusal of a bodiless request keeps the connection for the next one', async () => {
    const r = await rawExchange(gw.port, [`GET /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n\r\n${GOOD}`], { keepOpen: rs => rs.length === 2 })
    expect(r.responses.map(x => x.status)).toEqual([401, 200])
    expect(arrivals.map(a => a.url)).toEqual(['/v1/models'])
  })
})

describe('pipelined requests', () => {
  it('nothing behind a run-plane 400 reaches the upstream', async () => {
    const r = await rawExchange(gw.port, [`GET /acc/models/rec//evil.test/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n${GOOD}${GOOD}`])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 400, 'BAD_REQUEST')
    expect(r.responses[0]?.headers.connection).toBe('close')
    expect(r.closed).toBe(true)
    expect(arrivals).toHaveLength(0)
  })

  it('nothing sent after an early refusal of a request with an unread body reaches the upstream', async () => {
    // Head and half the body, then (once the 401 is in) the rest and a valid request behind it:
    // the connection is already closed, so the body is not drained into the next request.
    const raw = await headThenRest('POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234', `56789${GOOD}`)
    expect(parseResponses(raw).responses.map(x => x.status)).toEqual([401])
    expect(arrivals).toHaveLength(0)
  })

  it('a refused request whose small body came with its head keeps the connection', async () => {
    const r = await rawExchange(gw.port, [`POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789${GOOD}`], { keepOpen: rs => rs.length === 2 })
    expect(r.responses.map(x => x.status)).toEqual([401, 200])
    expect(r.responses[0]?.headers.connection).not.toBe('close')
  })

  it('valid pipelined requests run one after the other, answered in order', async () => {
    let release: () => void = () => {}
    hold = new Promise(resolve => { release = resolve })
    const first = new Promise<void>(resolve => { events.once('arrival', () => { resolve() }) })
    const exchange = rawExchange(gw.port, [
      `POST /acc/models/rec/v1/one HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 3\r\n\r\none` +
      `POST /acc/models/rec/v1/two HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 3\r\n\r\ntwo`
    ], { keepOpen: rs => rs.length === 2 })
    await first
    // Both heads came in one packet, yet the second waits for the first answer: only one is in
    // flight and the upstream has seen only the first.
    expect(gw.app.runPlane.inFlight).toBe(1)
    expect(arrivals.map(a => a.url)).toEqual(['/v1/one'])
    release()
    const r = await exchange
    expect(r.responses.map(x => JSON.parse(x.body) as { url: string; body: string })).toEqual([{ url: '/v1/one', body: 'one' }, { url: '/v1/two', body: 'two' }])
  })
})

describe('header count', () => {
  const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-F${i}: v\r\n`).join('')

  it(`more than ${MAX_HEADER_COUNT} header fields is a 431, never a body silently dropped`, async () => {
    // Content-Length is the last field, far past the count: Node frames by it but would not show it.
    const r = await rawExchange(gw.port, [`POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}${fields(2100)}Content-Length: 5\r\n\r\nhello`])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 431, 'BAD_REQUEST')
    expect(r.responses[0]?.headers.connection).toBe('close')
    expect(arrivals).toHaveLength(0)
  })

  it(`one field over the count is refused; exactly ${MAX_HEADER_COUNT} is forwarded with its body`, async () => {
    // Host, the credential, Content-Length (and Connection) are fields too.
    const over = await rawExchange(gw.port, [`POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}${fields(MAX_HEADER_COUNT - 2)}Content-Length: 5\r\n\r\nhello`])
    expect(over.responses.map(x => x.status)).toEqual([431])
    const at = await rawExchange(gw.port, [`POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}${fields(MAX_HEADER_COUNT - 4)}Content-Length: 5\r\nConnection: close\r\n\r\nhello`])
    expect(at.responses.map(x => x.status)).toEqual([200])
    expect(arrivals.map(a => a.body)).toEqual(['hello'])
  })
})

describe('request forms and methods Node would answer itself', () => {
  it.each([
    ['CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n'],
    [`CONNECT /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`]
  ])('CONNECT → 405 in the edge shape (%#)', async text => {
    const r = await rawExchange(gw.port, [text])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 405, 'METHOD_NOT_ALLOWED')
    expect(arrivals).toHaveLength(0)
  })

  it.each([
    [`GET http://x/acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`],
    [`GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n${AUTH}\r\n`],
    ['OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n']
  ])('absolute-form and asterisk-form targets → 400 (%#)', async text => {
    const r = await rawExchange(gw.port, [text + GOOD])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 400, 'BAD_REQUEST')
    expect(arrivals).toHaveLength(0)
  })

  it('an Expect other than 100-continue → 417 in the edge shape', async () => {
    const r = await rawExchange(gw.port, [`GET /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}Expect: magic\r\n\r\n`])
    expect(r.responses).toHaveLength(1)
    expectEdgeError(r.responses[0], 417, 'BAD_REQUEST')
    expect(arrivals).toHaveLength(0)
  })
})

describe('nothing ambiguous reaches an upstream', () => {
  it.each([
    '/acc/models/rec//evil.test/v1/x',
    '/acc/models/rec//',
    '/acc/models/rec/a%252e%252e/x',
    '/acc/models/rec/a%252F',
    '/acc/models/rec/a%255C',
    '/acc/models/rec/a%25252e',
    '/acc/models/rec/x?u=%252e%252e%252fsecret',
    '/acc/models/rec/x?u=%252F',
    '/acc/models/rec/x?h=%0d%0aX-Injected:%201',
    '/acc/models/rec/x?h=%0A',
    '/acc/models/rec/x?h=%00',
    '/acc/models/rec/a%0d',
    '/acc/models/rec/a%250a'
  ])('%s → 400 before any upstream call', async path => {
    const r = await rawExchange(gw.port, [`GET ${path} HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`])
    expectEdgeError(r.responses[0], 400, 'BAD_REQUEST')
    expect(arrivals).toHaveLength(0)
  })

  it('single-encoded separators in the query and other %25 escapes are still forwarded byte for byte', async () => {
    const r = await rawExchange(gw.port, [`GET /acc/models/rec/v1/a%2541?next=%2Fx%2e&p=%25 HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`])
    expect(r.responses.map(x => x.status)).toEqual([200])
    expect(arrivals.map(a => a.url)).toEqual(['/v1/a%2541?next=%2Fx%2e&p=%25'])
  })

  it('a header that spells a stripped or framing header with "_" is dropped', async () => {
    const r = await rawExchange(gw.port, [
      `POST /acc/models/rec/v1/x HTTP/1.1\r\nHost: x\r\n${AUTH}` +
      `X_Blaxel_Authorization: Bearer ${KEY}\r\nX-Blaxel_Authorization: Bearer ${KEY}\r\nProxy_Authorization: Basic Zm9vOmJhcg==\r\n` +
      'Transfer_Encoding: chunked\r\nContent_Length: 999\r\nX_Forwarded_For: 6.6.6.6\r\nX_Agnet_Region: forged\r\nCookie_: kept\r\nX_Custom: kept\r\n' +
      'Content-Length: 5\r\nConnection: close\r\n\r\nhello'
    ])
    expect(r.responses.map(x => x.status)).toEqual([200])
    const names = arrivals[0]?.rawNames.map(n => n.toLowerCase()) ?? []
    expect(names).toEqual(expect.arrayContaining(['x_custom', 'cookie_']))
    for (const n of names) expect(n).not.toMatch(/^(x[-_]blaxel[-_]authorization|proxy[-_]authorization|transfer[-_]encoding|content_length|x_forwarded_for|x_agnet_region)$/)
    expect(arrivals[0]?.body).toBe('hello')
  })
})

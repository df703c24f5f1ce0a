// The run plane against a real mock upstream on real sockets: methods, paths, bodies, SSE,
// header hygiene and the attacks that must never reach an upstream.
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

interface Echo { method: string; url: string; headers: Record<string, string | string[]>; bodyBytes: number; bodySha256: string }

let mock: MockServer
let gw: TestGateway

const config = (mockUrl: string): string => `
server: { bodyLimit: 8MiB }
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "${mockUrl}", apiKey: "sk-provider-secret" }
      - { name: ant, provider: anthropic, baseUrl: "${mockUrl}", apiKey: "ant-provider-secret" }
      - { name: gem, provider: gemini, baseUrl: "${mockUrl}/__echo/base/", apiKey: "gem-provider-secret" }
    models:
      - { name: gpt, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: eu-lon-1 }] }
      - { name: claude, runtime: { type: anthropic, model: claude }, integrationConnections: [ant], deployments: [{ region: us-was-1 }] }
      - { name: gem, runtime: { type: gemini, model: g }, integrationConnections: [gem], deployments: [{ region: eu-fra-1 }] }
`

/** A raw HTTP/1.1 request over a socket: nothing normalises the target. */
async function rawRequest (port: number, text: string): Promise<{ status: number; head: string; body: string }> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => { sock.write(text) })
    let buf = ''
    sock.setEncoding('latin1')
    sock.on('data', d => { buf += d })
    sock.on('end', () => {
      const [head = '', body = ''] = buf.split('\r\n\r\n')
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, body })
    })
    sock.on('error', reject)
  })
}

async function request (path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return await new Promise((resolve, reject) => {
    const headers = { ...init.headers }
    if (init.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(init.body))
    const req = http.request({ host: '127.0.0.1', port: gw.port, path, method: init.method ?? 'GET', headers, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c as Buffer))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

beforeAll(async () => {
  mock = await startMockServer({ region: 'test' })
  gw = await startGateway(config(mock.url))
})
afterAll(async () => {
  await gw.close()
  await mock.close()
})

describe('forwarding', () => {
  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])('forwards %s with sub-path and query byte-for-byte', async method => {
    const path = '/__echo/a/b%20c/d;e=f?x=1&y=%2F&z=a+b&x=2'
    const res = await request(`/acme/models/gpt${path}`, { method, body: method === 'GET' || method === 'OPTIONS' ? undefined : 'payload' })
    expect(res.status).toBe(200)
    const echo = JSON.parse(res.body.toString()) as Echo
    expect(echo.method).toBe(method)
    expect(echo.url).toBe(path)
  })

  it('forwards HEAD without a body', async () => {
    const res = await request('/acme/models/gpt/__echo/head?q=1', { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.body.length).toBe(0)
    expect(res.headers['x-agnet-deployment']).toBe('eu-lon-1')
  })

  it('refuses TRACE (it would reflect the injected provider credential)', async () => {
    const before = mock.stats().requests
    const res = await request('/acme/models/gpt/__echo/x', { method: 'TRACE' })
    expect(res.status).toBe(405)
    expect(mock.stats().requests).toBe(before)
  })

  it('appends the sub-path to a base URL that has a path of its own', async () => {
    const res = await request('/acme/models/gem/v1beta/models/g:streamGenerateContent?alt=sse')
    const echo = JSON.parse(res.body.toString()) as Echo
    expect(echo.url).toBe('/__echo/base/v1beta/models/g:streamGenerateContent?alt=sse')
  })

  it('carries a multi-MiB binary body byte-exact both ways (content-length and chunked)', async () => {
    const body = randomBytes(5 * 1024 * 1024 + 17)
    const sha = createHash('sha256').update(body).digest('hex')
    const res = await request('/acme/models/gpt/__echo/raw/upload', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/octet-stream')
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(sha)

    const chunked = await new Promise<{ sha: string; status: number }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, path: '/acme/models/gpt/__echo/sum', method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, r => {
        const chunks: Buffer[] = []
        r.on('data', c => chunks.push(c as Buffer))
        r.on('end', () => { resolve({ status: r.statusCode ?? 0, sha: (JSON.parse(Buffer.concat(chunks).toString()) as Echo).bodySha256 }) })
      })
      req.on('error', reject)
      for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024))
      req.end()
    })
    expect(chunked.status).toBe(200)
    expect(chunked.sha).toBe(sha)
  })

  it('answers 413 before any upstream call when Content-Length is over the limit', async () => {
    const before = mock.stats().requests
    const res = await rawRequest(gw.port, 'POST /acme/models/gpt/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body).error.code).toBe('REQUEST_ENTITY_TOO_LARGE')
    expect(mock.stats().requests).toBe(before)
  })

  it('stops a chunked body at the limit with 413', async () => {
    const big = Buffer.alloc(9 * 1024 * 1024, 97)
    const res = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, path: '/acme/models/gpt/__echo/sum', method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, r => { r.resume(); resolve(r.statusCode ?? 0) })
      req.on('error', () => { resolve(-1) })
      req.end(big)
    })
    // Either the 413 arrives, or the connection is cut while the client is still sending.
    expect([413, -1]).toContain(res)
  })
})

describe('header hygiene', () => {
  it('strips client credentials, hop-by-hop and agnet headers, and injects the provider credential', async () => {
    const res = await request('/acme/models/gpt/__echo/h', {
      headers: {
        authorization: 'Bearer client-token-canary',
        'x-blaxel-authorization': 'Bearer client-token-canary',
        'x-blaxel-api-key': 'client-token-canary',
        'x-api-key': 'client-token-canary',
        'x-goog-api-key': 'client-token-canary',
        'api-key': 'client-token-canary',
        cookie: 'session=client-token-canary',
        'x-blaxel-workspace': 'acme',
        'blaxel-version': '2026-04-28',
        'x-agnet-origin': 'DE',
        'x-agnet-anything': '1',
        connection: 'keep-alive, x-hop-secret',
        'x-hop-secret': 'must-not-pass',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic client-token-canary',
        'x-forwarded-for': '6.6.6.6',
        'anthropic-beta': 'tools-2024',
        'x-custom': 'kept'
      }
    })
    const echo = JSON.parse(res.body.toString()) as Echo
    const names = Object.keys(echo.headers)
    for (const gone of ['x-blaxel-authorization', 'x-blaxel-api-key', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie', 'x-blaxel-workspace', 'blaxel-version', 'x-agnet-origin', 'x-agnet-anything', 'x-hop-secret', 'keep-alive', 'proxy-authorization']) {
      expect(names).not.toContain(gone)
    }
    expect(JSON.stringify(echo)).not.toContain('client-token-canary')
    expect(echo.headers.authorization).toBe('Bearer sk-provider-secret')
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(echo.headers['x-forwarded-proto']).toBe('http')
    expect(echo.headers['x-request-id']).toBe(res.headers['x-request-id'])
    expect(echo.headers['anthropic-beta']).toBe('tools-2024')
    expect(echo.headers['x-custom']).toBe('kept')
    expect(echo.headers.host).toBe(new URL(mock.url).host)
  })

  it('uses x-api-key for Anthropic and keeps the client anthropic-version, defaulting it otherwise', async () => {
    const a = JSON.parse((await request('/acme/models/claude/__echo/m', { headers: { 'x-api-key': 'replaced', 'anthropic-version': '2024-01-01' } })).body.toString()) as Echo
    expect(a.headers['x-api-key']).toBe('ant-provider-secret')
    expect(a.headers['anthropic-version']).toBe('2024-01-01')
    expect(a.headers.authorization).toBeUndefined()
    const b = JSON.parse((await request('/acme/models/claude/__echo/m')).body.toString()) as Echo
    expect(b.headers['anthropic-version']).toBe('2023-06-01')
    const g = JSON.parse((await request('/acme/models/gem/m', { headers: { 'x-goog-api-key': 'replaced' } })).body.toString()) as Echo
    expect(g.headers['x-goog-api-key']).toBe('gem-provider-secret')
  })

  it('passes upstream headers back but drops hop-by-hop ones and forged platform markers', async () => {
    const res = await request('/acme/models/gpt/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-mock-status': '503' }, body: '{"messages":[]}' })
    expect(res.status).toBe(503)
    expect(res.headers['x-blaxel-source']).toBeUndefined()
    expect(res.headers['x-mock-region']).toBe('test')
    expect(res.headers['x-agnet-region']).toBe('eu-lon-1')
  })
})

describe('streaming', () => {
  it('delivers SSE event by event: event N+1 is only produced after the client received N', async () => {
    const n = 6
    const res = await fetch(`${gw.url}/acme/models/gpt/__sse/controlled?n=${n}`, { method: 'POST' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const stream = res.headers.get('x-mock-stream-id')
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const dec = new TextDecoder()
    let buf = ''
    const seen: number[] = []
    while (seen.length < n) {
      const { value, done } = await reader.read()
      if (done) break
      buf += dec.decode(value, { stream: true })
      let idx
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, idx)
        buf = buf.slice(idx + 2)
        const data = /data: (.*)/.exec(ev)?.[1]
        if (data === undefined) continue
        const i = (JSON.parse(data) as { i: number }).i
        seen.push(i)
        // The upstream waits for this ack; if the gateway buffered, the test would hang here.
        if (i < n - 1) {
          const ack = await fetch(`${mock.url}/__sse/ack?stream=${stream ?? ''}&i=${i}`, { method: 'POST' })
          expect(ack.status).toBe(200)
        }
      }
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5])
    await reader.cancel().catch(() => {})
  })

  it('streams a provider SSE answer with the words in order and never adds [DONE]', async () => {
    const res = await fetch(`${gw.url}/acme/models/claude/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'c', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hello' }] }) })
    const text = await res.text()
    expect(text).toContain('event: message_start')
    expect(text.trim().endsWith('data: {"type":"message_stop"}')).toBe(true)
    expect(text).not.toContain('[DONE]')
  })
})

describe('attacks on the path never reach an upstream', () => {
  const attacks = [
    '/acme/models/gpt/../../other/models/x',
    '/acme/models/gpt/./v1/chat',
    '/acme/models/gpt/v1/..',
    '/acme/models/gpt/%2e%2e/secret',
    '/acme/models/gpt/%2E%2e/secret',
    '/acme/models/gpt%2f..%2fother',
    '/acme/models/gpt/a%2Fb',
    '/acme/models/gpt/a%5cb',
    '/acme/models/gpt/a\\b',
    '/acme/models/gpt/a%00b',
    '/acme/models/gpt/a\x01b',
    '/ACME/models/gpt/x',
    '/acme/models/GPT/x',
    '/acme/models/' + 'a'.repeat(50) + '/x'
  ]
  it.each(attacks)('%j → 400 BAD_REQUEST', async path => {
    const before = mock.stats().requests
    const res = await rawRequest(gw.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    expect(res.status).toBe(400)
    expect(mock.stats().requests).toBe(before)
  })

  it('an encoded slash before the model route is not a model route', async () => {
    const before = mock.stats().requests
    const res = await rawRequest(gw.port, 'GET /acme%2fmodels/gpt/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(404)
    expect(res.head).toContain('x-blaxel-error-code: ROUTE_NOT_FOUND')
    expect(mock.stats().requests).toBe(before)
  })

  it('absolute-form targets are refused', async () => {
    const before = mock.stats().requests
    const res = await rawRequest(gw.port, `GET http://evil.example/acme/models/gpt/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`)
    expect([400, 404]).toContain(res.status)
    expect(mock.stats().requests).toBe(before)
  })

  it('ambiguous framing (Content-Length with Transfer-Encoding) is refused at the edge', async () => {
    const before = mock.stats().requests
    const res = await rawRequest(gw.port, 'POST /acme/models/gpt/__echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n')
    expect(res.status).toBe(400)
    expect(mock.stats().requests).toBe(before)
  })
})

describe('not found', () => {
  it('unknown workspace → 404 WORKSPACE_NOT_FOUND, unknown model → 404 WORKLOAD_NOT_FOUND, in the edge shape', async () => {
    const ws = await request('/nope/models/gpt/v1/chat/completions')
    expect(ws.status).toBe(404)
    expect(ws.headers['x-blaxel-source']).toBe('platform')
    expect(ws.headers['x-blaxel-error-code']).toBe('WORKSPACE_NOT_FOUND')
    const body = JSON.parse(ws.body.toString()) as { error: Record<string, unknown> }
    expect(body.error).toMatchObject({ code: 'WORKSPACE_NOT_FOUND', status: 404, retryable: false, origin: 'platform' })
    expect(body.error.request_id).toBe(ws.headers['x-request-id'])
    const m = await request('/acme/models/nope')
    expect(m.status).toBe(404)
    expect(m.headers['x-blaxel-error-code']).toBe('WORKLOAD_NOT_FOUND')
    const r = await request('/acme/agents-not-a-kind/x')
    expect(r.status).toBe(404)
    expect(r.headers['x-blaxel-error-code']).toBe('ROUTE_NOT_FOUND')
  })
})

describe('access log', () => {
  it('writes one line per request with ids, names, region and durations, and no credential', async () => {
    const res = await request('/acme/models/gpt/__echo/log', { headers: { authorization: 'Bearer log-canary-secret' } })
    const id = res.headers['x-request-id'] as string
    let line: Record<string, unknown> | undefined
    for (let i = 0; i < 100 && line === undefined; i++) {
      gw.app.logger.flush()
      line = gw.logs.map(l => JSON.parse(l) as Record<string, unknown>).find(l => l.reqId === id)
      if (line === undefined) await new Promise(resolve => setImmediate(resolve))
    }
    expect(line).toMatchObject({ msg: 'request', workspace: 'acme', model: 'gpt', region: 'eu-lon-1', deployment: 'eu-lon-1', status: 200, outcome: 'ok' })
    expect((line as { ms: { total: number } }).ms.total).toBeGreaterThanOrEqual(0)
    expect(gw.logs.join('\n')).not.toContain('log-canary-secret')
    expect(gw.logs.join('\n')).not.toContain('sk-provider-secret')
  })
})

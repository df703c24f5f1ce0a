// mk3 translation on real sockets against documented provider answers: a capture upstream
// plays each provider (the fixtures of test/fixtures/mk3, streamed in small pieces), and
// records what agnet sent it. Covers what the provider receives (body, path, credential,
// headers), every documented answer, error and stream, a stream cut mid-way, and failover.
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { PROVIDERS, RUNTIME_MODEL, fixtures, readOpenAIStream, type FixtureProvider } from '../helpers/mk3-fixtures.js'

const KEY = 'agnet_golden_key_0123456789abcdef'

interface Captured { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

/** A provider played from fixtures: `x-fixture: kind/index` picks the answer. */
async function startProvider (provider: FixtureProvider, opts: { refuse?: boolean } = {}): Promise<{ url: string; seen: Captured[]; close: () => Promise<void> }> {
  const f = fixtures(provider)
  const seen: Captured[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() })
      if (opts.refuse === true) {
        res.writeHead(503, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))
        return
      }
      const [kind, i, cut] = String(req.headers['x-fixture'] ?? 'responses/0').split('/')
      if (kind === 'streams') {
        const s = f.streams[Number(i)]
        if (s === undefined) throw new Error('no such stream')
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        const bytes = Buffer.from(s.native)
        const end = cut === 'cut' ? Math.floor(bytes.length / 2) : bytes.length
        let at = 0
        // Small pieces, each its own write: events and lines straddle the chunks agnet reads.
        const pump = (): void => {
          if (at >= end) {
            if (cut === 'cut') res.socket?.destroy()
            else res.end()
            return
          }
          res.write(bytes.subarray(at, at + 5))
          at += 5
          setImmediate(pump)
        }
        pump()
        return
      }
      if (kind === 'errors') {
        const e = f.errors[Number(i)]
        if (e === undefined) throw new Error('no such error')
        res.writeHead(e.status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(e.native))
        return
      }
      const r = f.responses[Number(i)]
      if (r === undefined) throw new Error('no such response')
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(r.native))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => { resolve() })) }
  }
}

const upstreams = new Map<string, Awaited<ReturnType<typeof startProvider>>>()
let gw: TestGateway

beforeAll(async () => {
  for (const p of PROVIDERS) upstreams.set(p, await startProvider(p))
  upstreams.set('refusing', await startProvider('anthropic', { refuse: true }))
  upstreams.set('backup', await startProvider('anthropic'))
  const url = (name: string): string => upstreams.get(name)?.url ?? ''
  gw = await startGateway(`
users:
  - name: dev
    apiKeys: [{ name: k, value: "${KEY}" }]
workspaces:
  - name: demo
    members: [{ user: dev, role: member }]
    integrations:
      - { name: anthropic, provider: anthropic, baseUrl: "${url('anthropic')}", apiKey: "sk-ant-upstream-secret" }
      - { name: gemini, provider: gemini, baseUrl: "${url('gemini')}", apiKey: "gem-upstream-secret" }
      - { name: cohere, provider: cohere, baseUrl: "${url('cohere')}", apiKey: "coh-upstream-secret" }
    models:
      - { name: anthropic, runtime: { type: anthropic, model: ${RUNTIME_MODEL.anthropic}, generation: mk3 }, integrationConnections: [anthropic], deployments: [{ region: us-pdx-1 }] }
      - { name: gemini, runtime: { type: gemini, model: ${RUNTIME_MODEL.gemini}, generation: mk3 }, integrationConnections: [gemini], deployments: [{ region: us-pdx-1 }] }
      - { name: cohere, runtime: { type: cohere, model: ${RUNTIME_MODEL.cohere}, generation: mk3 }, integrationConnections: [cohere], deployments: [{ region: us-pdx-1 }] }
      - name: failover
        runtime: { type: anthropic, model: ${RUNTIME_MODEL.anthropic}, generation: mk3 }
        integrationConnections: [anthropic]
        routing: { strategy: priority }
        deployments:
          - { name: first, region: us-pdx-1, url: "${url('refusing')}", priority: 1 }
          - { name: second, region: us-was-1, url: "${url('backup')}", priority: 2 }
`)
})
afterAll(async () => {
  await gw.close()
  for (const u of upstreams.values()) await u.close()
})

async function post (model: string, body: Record<string, unknown>, fixture: string, extra: Record<string, string> = {}): Promise<Response> {
  return await fetch(`${gw.url}/demo/models/${model}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'accept-encoding': 'gzip, br', 'x-fixture': fixture, ...extra },
    body: JSON.stringify(body)
  })
}

const CREDENTIAL: Record<FixtureProvider, [string, string]> = {
  anthropic: ['x-api-key', 'sk-ant-upstream-secret'],
  gemini: ['x-goog-api-key', 'gem-upstream-secret'],
  cohere: ['authorization', 'Bearer coh-upstream-secret']
}

describe.each(PROVIDERS)('%s on real sockets', (provider) => {
  const f = fixtures(provider)
  const seen = (): Captured[] => upstreams.get(provider)?.seen ?? []

  it.each(f.requests.map(c => [c.name, c] as const))('sends the documented native request: %s', async (_name, c) => {
    const res = await post(provider, c.openai, c.openai.stream === true ? 'streams/0' : 'responses/0')
    await res.text()
    expect(res.status).toBe(200)
    const got = seen().at(-1) as Captured
    expect(JSON.parse(got.body)).toEqual(c.native)
    expect(got.url).toBe(c.path ?? (provider === 'anthropic' ? '/v1/messages' : '/v2/chat'))
    const [name, value] = CREDENTIAL[provider]
    expect(got.headers[name]).toBe(value)
    // The client's token never reaches the provider; the provider's answer must be readable.
    expect(JSON.stringify(got.headers)).not.toContain(KEY)
    expect(got.headers['accept-encoding']).toBe('identity')
    expect(Number(got.headers['content-length'])).toBe(Buffer.byteLength(got.body))
    if (provider === 'anthropic') expect(got.headers['anthropic-version']).toBe('2023-06-01')
  })

  it.each(f.responses.map((c, i) => [c.name, c, i] as const))('answers in OpenAI form: %s', async (_name, c, i) => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/demo/models/${provider}/v1`, maxRetries: 0, defaultHeaders: { 'x-fixture': `responses/${i}` } })
    const { data, response } = await client.chat.completions.create({ model: provider, messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    expect(data).toMatchObject(c.openai)
    expect(response.headers.get('x-agnet-deployment')).toBeTruthy()
    expect(response.headers.get('content-type')).toBe('application/json')
  })

  it.each(f.errors.map((c, i) => [c.name, c, i] as const))('relays errors in OpenAI form with the provider status: %s', async (_name, c, i) => {
    const res = await post(provider, { model: provider, messages: [{ role: 'user', content: 'hi' }] }, `errors/${i}`)
    expect(res.status).toBe(c.status)
    expect(await res.json()).toEqual(c.openai)
  })

  it.each(f.streams.map((c, i) => [c.name, c, i] as const))('streams event by event: %s', async (_name, c, i) => {
    const res = await post(provider, { model: provider, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }, `streams/${i}`)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const read = readOpenAIStream(await res.text())
    expect(read.text).toBe(c.text)
    expect(read.toolCalls).toEqual(c.toolCalls)
    if (c.error === undefined) {
      expect(read.finish).toBe(c.finish)
      expect(read.usage).toMatchObject(c.usage ?? {})
      expect(read.done).toBe(true)
    } else {
      expect(read.error).toMatchObject(c.error)
      expect(read.done).toBe(false)
    }
  })

  it('a provider stream cut mid-way stays broken: no [DONE], the client sees the connection fail', async () => {
    const res = await post(provider, { model: provider, stream: true, messages: [{ role: 'user', content: 'hi' }] }, 'streams/0/cut')
    expect(res.status).toBe(200)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    let broken = false
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
    } catch { broken = true }
    expect(broken).toBe(true)
    expect(text).not.toContain('[DONE]')
  })
})

describe('failover', () => {
  it('a 503 from the first deployment moves the translated request to the next one', async () => {
    const res = await post('failover', { model: 'failover', messages: [{ role: 'user', content: 'hi' }] }, 'responses/0')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-attempts')).toBe('2')
    expect(res.headers.get('x-agnet-deployment')).toBe('second')
    expect(await res.json()).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: 'Hi! My name is Claude.' } }] })
    const first = upstreams.get('refusing')?.seen.at(-1) as Captured
    const second = upstreams.get('backup')?.seen.at(-1) as Captured
    expect(first.body).toBe(second.body)
    expect(JSON.parse(second.body)).toMatchObject({ model: RUNTIME_MODEL.anthropic, max_tokens: 4096 })
  })
})

// /metrics as Prometheus scrapes it: requests by workspace/model/region/status, latency
// histograms, upstream errors, open streams, config reloads; and the counters fed by stages
// still being built (failover, usage, limits) driven through the same observe hook.
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, writeConfig, type TestGateway } from '../helpers/gateway.js'
import type { RequestRecord } from '../../src/core/request-record.js'
import { ConfigStore } from '../../src/config/store.js'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/observability/logger.js'

const CONFIG = `
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    models:
      - name: gpt
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
      - name: metered
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-lon-1 }]
        policies: [big-budget]
      - name: capped
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-lon-1 }]
        policies: [one-token]
    policies:
      - { name: big-budget, type: maxToken, maxTokens: { granularity: month, total: 100000000 } }
      - { name: one-token, type: maxToken, maxTokens: { granularity: month, total: 1 } }
`

/** The value of one sample, or undefined: `name{a="b",...} value`, labels in any order. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const got: Record<string, string> = {}
    for (const p of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) got[p[1] as string] = p[2] as string
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3])
  }
  return undefined
}

const chat = (stream: boolean, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'one two three' }], ...extra })

describe('/metrics', () => {
  let gw: TestGateway
  const finished: Array<() => void> = []
  beforeAll(async () => {
    gw = await startGateway(CONFIG, { observe: () => { finished.shift()?.() } })
  })
  afterAll(async () => { await gw.close() })

  const scrape = async (): Promise<string> => {
    const res = await fetch(`${gw.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return await res.text()
  }
  const nextFinish = async (): Promise<void> => { await new Promise<void>(resolve => { finished.push(resolve) }) }
  const FRA = { workspace: 'acme', model: 'gpt', region: 'eu-fra-1' }

  it('counts requests by workspace, model, region and status, with latency histograms', async () => {
    for (let i = 0; i < 3; i++) {
      const done = nextFinish()
      const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(false), headers: { 'content-type': 'application/json' } })
      expect(res.status).toBe(200)
      await res.text()
      await done
    }
    const done = nextFinish()
    const bad = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(false), headers: { 'x-mock-status': '503' } })
    expect(bad.status).toBe(503)
    await bad.text()
    await done
    const unknown = nextFinish()
    const missing = await fetch(`${gw.url}/acme/models/no-such-model/v1/chat/completions`, { method: 'POST', body: '{}' })
    expect(missing.status).toBe(404)
    await missing.text()
    await unknown

    const text = await scrape()
    expect(sample(text, 'agnet_requests_total', { ...FRA, status: '200' })).toBe(3)
    expect(sample(text, 'agnet_requests_total', { ...FRA, status: '503' })).toBe(1)
    // An unknown model never becomes a label value: the series stays bounded.
    expect(text).not.toContain('no-such-model')
    expect(sample(text, 'agnet_requests_total', { workspace: 'acme', model: '', region: '', status: '404' })).toBe(1)
    expect(sample(text, 'agnet_request_duration_seconds_count', FRA)).toBe(4)
    expect(sample(text, 'agnet_request_duration_seconds_bucket', { ...FRA, le: '+Inf' })).toBe(4)
    expect(sample(text, 'agnet_upstream_first_byte_seconds_count', FRA)).toBe(4)
    const sum = sample(text, 'agnet_request_duration_seconds_sum', FRA) as number
    expect(sum).toBeGreaterThan(0)
    // Buckets are cumulative.
    const b1 = sample(text, 'agnet_request_duration_seconds_bucket', { ...FRA, le: '0.1' }) as number
    const b2 = sample(text, 'agnet_request_duration_seconds_bucket', { ...FRA, le: '300' }) as number
    expect(b1).toBeLessThanOrEqual(b2)
    expect(b2).toBe(4)
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
  })

  it('counts tokens by kind from the provider answers of a metered model', async () => {
    for (const stream of [false, true]) {
      const done = nextFinish()
      const res = await fetch(`${gw.url}/acme/models/metered/v1/chat/completions`, { method: 'POST', body: chat(stream, { max_tokens: 5, stream_options: stream ? { include_usage: true } : undefined }) })
      expect(res.status).toBe(200)
      await res.text()
      await done
    }
    const text = await scrape()
    const LON = { workspace: 'acme', model: 'metered', region: 'eu-lon-1' }
    expect(sample(text, 'agnet_tokens_total', { ...LON, kind: 'input' })).toBe(6)
    expect(sample(text, 'agnet_tokens_total', { ...LON, kind: 'output' })).toBe(10)
    expect(sample(text, 'agnet_usage_estimated_total', LON)).toBeUndefined()
  })

  it('counts requests refused by a spent token budget', async () => {
    for (const expected of [200, 429, 429]) {
      const done = nextFinish()
      const res = await fetch(`${gw.url}/acme/models/capped/v1/chat/completions`, { method: 'POST', body: chat(false) })
      expect(res.status).toBe(expected)
      await res.text()
      await done
    }
    const text = await scrape()
    expect(sample(text, 'agnet_limit_rejections_total', { workspace: 'acme', model: 'capped', region: '' })).toBe(2)
    expect(sample(text, 'agnet_requests_total', { workspace: 'acme', model: 'capped', region: '', status: '429' })).toBe(2)
    expect(sample(text, 'agnet_requests_total', { workspace: 'acme', model: 'capped', region: 'eu-lon-1', status: '200' })).toBe(1)
  })

  it('counts upstream transport failures by code', async () => {
    const done = nextFinish()
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(false), headers: { 'x-mock-fail': 'reset-before-headers' } })
    expect(res.status).toBe(502)
    await res.text()
    await done
    const text = await scrape()
    const codes = text.split('\n').filter(l => l.startsWith('agnet_upstream_errors_total{'))
    expect(codes).toHaveLength(1)
    expect(codes[0]).toMatch(/region="eu-fra-1"/)
    expect(sample(text, 'agnet_requests_total', { ...FRA, status: '502' })).toBe(1)
  })

  it('shows an event stream as open while it is relayed and closed after', async () => {
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(true, { max_tokens: 40 }), headers: { 'x-mock-tps': '20', 'x-mock-answer-words': '40' } })
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    expect(sample(await scrape(), 'agnet_open_streams')).toBe(1)
    expect(sample(await scrape(), 'agnet_in_flight_requests')).toBe(1)
    const done = nextFinish()
    await reader.cancel()
    await done
    const text = await scrape()
    expect(sample(text, 'agnet_open_streams')).toBe(0)
    expect(sample(text, 'agnet_in_flight_requests')).toBe(0)
  })

  it('counts config reloads, ok and failed', async () => {
    const before = await scrape()
    const served = sample(before, 'agnet_requests_total', { ...FRA, status: '200' }) as number
    expect(sample(before, 'agnet_config_reloads_total', { result: 'ok' })).toBe(0)
    expect(sample(before, 'agnet_config_reloads_total', { result: 'failed' })).toBe(0)
    expect((await gw.rewrite(CONFIG + '\n# touched\n')).ok).toBe(true)
    expect((await gw.rewrite('workspaces: [{ name: "Not Valid" }]\n')).ok).toBe(false)
    expect((await gw.rewrite(CONFIG)).ok).toBe(true)
    const text = await scrape()
    expect(sample(text, 'agnet_config_reloads_total', { result: 'ok' })).toBe(2)
    expect(sample(text, 'agnet_config_reloads_total', { result: 'failed' })).toBe(1)
    expect(sample(text, 'agnet_config_generation')).toBe(3)
    // Series survive a reload: the new snapshot's deployment maps to the same labels.
    const done = nextFinish()
    await (await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(false) })).text()
    await done
    expect(sample(await scrape(), 'agnet_requests_total', { ...FRA, status: '200' })).toBe(served + 1)
  })

  // Failover, token usage and limit rejections are decided by other stages; what metrics
  // promise is to count what those stages leave in the finished context.
  it('counts failovers, tokens by kind, estimated usage and limit rejections from the context', async () => {
    const metrics = gw.app.metrics
    expect(metrics).not.toBeNull()
    const rt = gw.app.store.current
    const ws = rt.workspaces.get('acme')
    const model = ws?.models.get('gpt')
    const dep = model?.deployments[0]
    if (ws === undefined || model === undefined || dep === undefined) throw new Error('config not compiled as expected')
    // A finished request as the run plane hands it to its observers.
    const fake = (over: Partial<RequestRecord>): RequestRecord => ({
      id: 'test', req: new IncomingMessage(new Socket()), start: performance.now(),
      workspaceName: 'acme', modelName: 'gpt', claimedWorkspace: null, workspace: ws, model, principal: null,
      origin: null, deployment: null, attempts: 0, status: 0, errorCode: null, failure: null, fault: null,
      bytesIn: 0, bytesOut: 0, usage: null, authMs: 0, routeMs: 0, firstByteMs: -1, sse: false,
      ...over
    })
    metrics?.observe(fake({ deployment: dep, attempts: 3, status: 200, firstByteMs: 5, usage: { input: 11, output: 7, total: 18, estimated: false } }), 'ok')
    metrics?.observe(fake({ deployment: dep, attempts: 1, status: 200, usage: { input: 2, output: 3, total: 5, estimated: true } }), 'ok')
    metrics?.observe(fake({ status: 429, errorCode: 'POLICY_VIOLATION' }), 'edge-error')
    metrics?.observe(fake({ deployment: dep, attempts: 1, failure: 'AGNET_CLIENT_ABORT' }), 'client-abort')

    const text = await scrape()
    expect(sample(text, 'agnet_failovers_total', FRA)).toBe(2)
    expect(sample(text, 'agnet_tokens_total', { ...FRA, kind: 'input' })).toBe(13)
    expect(sample(text, 'agnet_tokens_total', { ...FRA, kind: 'output' })).toBe(10)
    expect(sample(text, 'agnet_usage_estimated_total', FRA)).toBe(1)
    expect(sample(text, 'agnet_limit_rejections_total', { workspace: 'acme', model: 'gpt', region: '' })).toBe(1)
    // A client that leaves is neither an upstream error nor a status the upstream chose.
    expect(sample(text, 'agnet_requests_total', { ...FRA, status: '499' })).toBe(1)
    expect(text).not.toContain('AGNET_CLIENT_ABORT')
  })

  it('can be switched off (to measure its cost)', async () => {
    const off = await startGateway(CONFIG, { metrics: false })
    try {
      const res = await fetch(`${off.url}/metrics`)
      expect(res.status).toBe(404)
      await res.text()
      expect(off.app.metrics).toBeNull()
    } finally { await off.close() }
  })
})

describe('/metrics with failover', () => {
  let gw: TestGateway
  const finished: Array<() => void> = []
  beforeAll(async () => {
    // The first deployment refuses connections (nothing listens on port 1): every request fails over.
    gw = await startGateway(`
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    models:
      - name: gpt
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        routing: { strategy: priority, ejectAfter: 100 }
        deployments:
          - { region: us-pdx-1, url: "http://127.0.0.1:1", priority: 0 }
          - { region: eu-lon-1, priority: 1 }
`, { observe: () => { finished.shift()?.() } })
  })
  afterAll(async () => { await gw.close() })

  it('counts the extra attempt and the connect error under the region that served', async () => {
    const done = new Promise<void>(resolve => { finished.push(resolve) })
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(false) })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-region')).toBe('eu-lon-1')
    await res.text()
    await done
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    const LON = { workspace: 'acme', model: 'gpt', region: 'eu-lon-1' }
    expect(sample(text, 'agnet_failovers_total', LON)).toBe(1)
    expect(sample(text, 'agnet_upstream_errors_total', { ...LON, code: 'ECONNREFUSED' })).toBe(1)
    expect(sample(text, 'agnet_requests_total', { ...LON, status: '200' })).toBe(1)
  })
})

describe('/healthz and /readyz', () => {
  it('is alive at once and ready only once the config is loaded and the server listens', async () => {
    const store = new ConfigStore(writeConfig(CONFIG.replace(/mock:\/\//g, 'http://127.0.0.1:9')))
    await store.load()
    const app = await buildApp(store, { logger: createLogger({ level: 'silent' }) })
    try {
      const live = await app.fastify.inject({ url: '/healthz' })
      expect(live.statusCode).toBe(200)
      const early = await app.fastify.inject({ url: '/readyz' })
      expect(early.statusCode).toBe(503)
      const port = await app.listen(0, '127.0.0.1')
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toEqual({ status: 'ready', generation: 1 })
    } finally { await app.close(100) }
  })
})

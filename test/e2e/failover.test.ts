// Failover with real sockets and real mock providers that refuse, reset, stall or die:
// what moves to the next deployment, what never does, and what the client sees.
import http from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startTunableMock, type TunableMock } from '../helpers/tunable-mock.js'
import { freePort } from '../helpers/net.js'

let a: TunableMock
let b: TunableMock
let c: TunableMock
let closedPort: number
let gw: TestGateway
let yaml: string

function model (name: string, deps: string, routing = '', firstByte = '1s'): string {
  return `
      - name: ${name}
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        routing: { strategy: priority${routing} }
        timeouts: { firstByte: ${firstByte} }
        deployments:
${deps}`
}

const dep = (name: string, region: string, url: string, extra = ''): string => `          - { name: ${name}, region: ${region}, url: "${url}"${extra} }`

beforeAll(async () => {
  ;[a, b, c] = await Promise.all([startTunableMock('us-pdx-1'), startTunableMock('us-was-1'), startTunableMock('eu-lon-1')])
  closedPort = await freePort()
  const dead = `http://127.0.0.1:${closedPort}`
  const abc = [dep('a', 'us-pdx-1', a.url), dep('b', 'us-was-1', b.url), dep('c', 'eu-lon-1', c.url)].join('\n')
  yaml = `
server: { region: us-pdx-1, trustOriginHeader: true }
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, apiKey: "sk-upstream" }
    policies:
      - { name: us-only, type: location, locations: [{ type: country, name: US }] }
    models:
${model('refused', [dep('dead', 'us-pdx-1', dead), dep('b', 'us-was-1', b.url)].join('\n'))}
${model('abc', abc)}
${model('retry-after', abc)}
${model('all-refuse', abc, ', ejectAfter: 100')}
${model('reset', abc)}
${model('reset-replay', abc, ', retryNonIdempotent: true')}
${model('stall', abc)}
${model('big', [dep('a', 'us-pdx-1', a.url), dep('b', 'us-was-1', b.url)].join('\n'), ', replayBodyLimit: 1KiB')}
${model('big-refused', [dep('dead', 'us-pdx-1', dead), dep('b', 'us-was-1', b.url)].join('\n'), ', replayBodyLimit: 1KiB')}
${model('chunked', abc)}
${model('eject', [dep('a', 'us-pdx-1', a.url), dep('b', 'us-was-1', b.url)].join('\n'), ', ejectAfter: 2, ejectFor: 1m')}
${model('fenced', abc, ', maxAttempts: 3')}
      - name: fenced-policy
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        policies: [us-only]
        routing: { strategy: priority }
        deployments:
${[dep('a', 'us-pdx-1', a.url), dep('c', 'eu-lon-1', c.url)].join('\n')}
${model('probed', [dep('dead', 'us-pdx-1', dead, ', healthCheck: { path: /__health, interval: 50ms }'), dep('b', 'us-was-1', b.url, ', healthCheck: { path: /__health, interval: 50ms }')].join('\n'))}
${model('killed', abc, ', maxAttempts: 3, retryNonIdempotent: true', '60s')}
${model('killed-default', abc, ', maxAttempts: 3', '60s')}
      - name: weighted
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        routing: { strategy: weighted }
        deployments:
${[dep('a', 'us-pdx-1', a.url, ', weight: 1'), dep('b', 'us-was-1', b.url, ', weight: 2'), dep('c', 'eu-lon-1', c.url, ', weight: 5')].join('\n')}
${model('budget', abc, ', budget: 100ms')}
      - name: slow-body
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        timeouts: { total: 300ms }
        # two candidates: with one there is nothing to replay to and the body is streamed
        deployments:
${dep('a', 'us-pdx-1', a.url)}
${dep('b', 'us-was-1', b.url)}
`
  gw = await startGateway(yaml)
})

afterAll(async () => {
  await gw.close()
  await Promise.all([a.kill(), b.kill(), c.kill()])
})

beforeEach(() => {
  for (const m of [a, b, c]) { m.knobs = {}; m.answer = null; m.requests = 0; m.bodies.length = 0 }
})

function body (tag: string): string {
  return JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `hello ${tag}` }] })
}

async function post (modelName: string, payload: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(`${gw.url}/acme/models/${modelName}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload })
}

describe('moves to the next deployment', () => {
  it('on a refused connection; the body reaches exactly one deployment', async () => {
    const res = await post('refused', body('r1'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    expect(res.headers.get('x-agnet-attempts')).toBe('2')
    await res.text()
    expect(b.bodies).toEqual([body('r1')])
  })

  it('on a 5xx answered before any byte; the refusal never reaches the client', async () => {
    a.knobs = { 'x-mock-status': '503' }
    const res = await post('abc', body('r2'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    expect(res.headers.get('x-agnet-attempts')).toBe('2')
    await res.text()
    // Delivered twice only because the first one refused it.
    expect(a.bodies).toEqual([body('r2')])
    expect(b.bodies).toEqual([body('r2')])
  })

  it('on a 429, and keeps the deployment out for its Retry-After', async () => {
    a.answer = (_req, res) => { res.writeHead(429, { 'retry-after': '30', 'content-type': 'application/json' }).end('{"error":{"message":"slow down"}}') }
    const first = await post('retry-after', body('r3'))
    expect(first.status).toBe(200)
    expect(first.headers.get('x-agnet-deployment')).toBe('b')
    await first.text()
    a.answer = null
    const second = await post('retry-after', body('r4'))
    expect(second.headers.get('x-agnet-deployment')).toBe('b')
    expect(second.headers.get('x-agnet-attempts')).toBe('1')
    await second.text()
    expect(a.requests).toBe(1)
    const explain = await (await fetch(`${gw.url}/v0/routing/acme/retry-after`)).json() as { deployments: Array<{ name: string; verdict: string; ejectedForMs: number; lastError: string }> }
    expect(explain.deployments[0]).toMatchObject({ name: 'a', verdict: 'ejected', lastError: 'HTTP 429' })
    expect(explain.deployments[0]?.ejectedForMs).toBeGreaterThan(20_000)
    expect(explain.deployments[0]?.ejectedForMs).toBeLessThanOrEqual(30_000)
  })

  it('on a reset after a POST was sent in full only when the model opts in (routing.retryNonIdempotent)', async () => {
    a.knobs = { 'x-mock-fail': 'reset-before-headers' }
    const res = await post('reset-replay', body('r5'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    await res.text()
  })

  it('but by default a POST reset after it was sent in full is answered 502 retryable, never run twice', async () => {
    a.knobs = { 'x-mock-fail': 'reset-before-headers' }
    const res = await post('reset', body('r6'))
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ error: { code: 'UPSTREAM_UNREACHABLE', retryable: true } })
    expect(a.requests).toBe(1)
    expect(b.requests).toBe(0)
  })

  it('and a GET reset before the response moves (it is idempotent)', async () => {
    a.knobs = { 'x-mock-fail': 'reset-before-headers' }
    const res = await fetch(`${gw.url}/acme/models/reset/v1/models`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    await res.text()
  })

  it('replays a chunked body with its length, byte for byte', async () => {
    a.knobs = { 'x-mock-status': '500' }
    const payload = body('chunked-' + 'x'.repeat(3000))
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${gw.url}/acme/models/chunked/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, resolve)
      req.on('error', reject)
      req.write(payload.slice(0, 1000))
      req.end(payload.slice(1000))
    })
    res.resume()
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-agnet-deployment']).toBe('b')
    expect(b.bodies).toEqual([payload])
  })

  it('but the last candidate\'s refusal is relayed as the upstream sent it', async () => {
    for (const m of [a, b, c]) m.knobs = { 'x-mock-status': '503' }
    const res = await post('all-refuse', body('r6'))
    expect(res.status).toBe(503)
    expect(res.headers.get('x-blaxel-source')).toBeNull()
    expect(res.headers.get('x-agnet-deployment')).toBe('c')
    expect(res.headers.get('x-agnet-attempts')).toBe('3')
    await res.text()
  })
})

describe('never moves a request the upstream may have processed', () => {
  it('a first-byte timeout is a 504, and the next deployment never sees the body', async () => {
    a.knobs = { 'x-mock-fail': 'hang' }
    const res = await post('stall', body('s1'))
    expect(res.status).toBe(504)
    expect(res.headers.get('x-blaxel-error-code')).toBe('UPSTREAM_TIMEOUT')
    await res.text()
    expect(a.bodies).toEqual([body('s1')])
    expect(b.requests).toBe(0)
    expect(c.requests).toBe(0)
  })

  it('a body above replayBodyLimit is streamed and not retried once sent', async () => {
    a.knobs = { 'x-mock-status': '503' }
    const payload = body('big-' + 'y'.repeat(4000))
    const res = await post('big', payload)
    expect(res.status).toBe(503)
    expect(res.headers.get('x-agnet-deployment')).toBe('a')
    await res.text()
    expect(a.bodies).toEqual([payload])
    expect(b.requests).toBe(0)
  })

  it('but a body above the limit still moves on a refused connection (it was never read)', async () => {
    const payload = body('big-' + 'z'.repeat(4000))
    const res = await post('big-refused', payload)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    await res.text()
    expect(b.bodies).toEqual([payload])
  })
})

describe('bounds', () => {
  it('never fails over into a region the policies forbid', async () => {
    a.knobs = { 'x-mock-status': '503' }
    const res = await post('fenced-policy', body('p1'), { 'x-agnet-origin': 'GB' })
    // c (eu-lon-1) is nearer to GB and healthy, but the policy allows only the US.
    expect(res.status).toBe(503)
    expect(res.headers.get('x-agnet-region')).toBe('us-pdx-1')
    await res.text()
    expect(c.requests).toBe(0)
  })

  it('ejects after consecutive failures; nothing healthy left is 404 WORKLOAD_UNAVAILABLE, retryable', async () => {
    a.knobs = { 'x-mock-status': '502' }
    b.knobs = { 'x-mock-status': '502' }
    for (let i = 0; i < 2; i++) {
      const r = await post('eject', body(`e${i}`))
      expect(r.status).toBe(502)
      await r.text()
    }
    const before = a.requests + b.requests
    const res = await post('eject', body('e3'))
    expect(res.status).toBe(404)
    expect(res.headers.get('x-blaxel-error-code')).toBe('WORKLOAD_UNAVAILABLE')
    // ejectFor 1m: the client is told when a deployment comes back.
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(50)
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    const err = await res.json() as { error: { retryable: boolean; status: number } }
    expect(err.error).toMatchObject({ retryable: true, status: 404 })
    expect(a.requests + b.requests).toBe(before)
  })

  it('what was learnt about a deployment survives a reload (stats are keyed by deployment id)', async () => {
    const result = await gw.rewrite(`${yaml}\n# touched\n`)
    expect(result.ok).toBe(true)
    const res = await post('eject', body('e4'))
    expect(res.status).toBe(404)
    await res.text()
    const e = await (await fetch(`${gw.url}/v0/routing/acme/eject`)).json() as { deployments: Array<{ verdict: string }> }
    expect(e.deployments.map(d => d.verdict)).toEqual(['ejected', 'ejected'])
  })

  it('no new attempt starts once the routing budget is spent', async () => {
    // a refuses, but only after 250 ms: past the 100 ms budget, so its answer is relayed.
    a.knobs = { 'x-mock-latency-ms': '250', 'x-mock-status': '503' }
    const res = await post('budget', body('b1'))
    expect(res.status).toBe(503)
    expect(res.headers.get('x-agnet-deployment')).toBe('a')
    expect(res.headers.get('x-agnet-attempts')).toBe('1')
    await res.text()
    expect(b.requests).toBe(0)
  })
})

describe('a body read for replay', () => {
  it('is still bound by the total timeout while it trickles in, and nothing reaches the upstream', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${gw.url}/acme/models/slow-body/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } }, resolve)
      req.on('error', reject)
      req.write('{"model":')
    })
    res.resume()
    expect(res.statusCode).toBe(504)
    expect(res.headers['x-blaxel-error-code']).toBe('UPSTREAM_TIMEOUT')
    expect(a.requests).toBe(0)
    expect(b.requests).toBe(0)
  })
})

describe('active health probes', () => {
  it('take a deployment that fails its probe out before any request is sent to it', async () => {
    await vi.waitFor(async () => {
      const e = await (await fetch(`${gw.url}/v0/routing/acme/probed`)).json() as { deployments: Array<{ verdict: string; reason: string }> }
      expect(e.deployments[0]?.verdict).toBe('unhealthy')
      expect(e.deployments[0]?.reason).toMatch(/failing its health probe \(health probe failed: ECONNREFUSED\)/)
      expect(e.deployments[1]?.verdict).toBe('chosen')
    }, { timeout: 5000, interval: 25 })
    const res = await post('probed', body('h1'))
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    expect(res.headers.get('x-agnet-attempts')).toBe('1')
    await res.text()
    expect(b.requests).toBe(1)
  })
})

describe('weighted', () => {
  it('observed shares converge to the weights over 2,000 requests', async () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 }
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < 2000) {
        next++
        const res = await post('weighted', body('w'))
        expect(res.status).toBe(200)
        await res.arrayBuffer()
        const d = res.headers.get('x-agnet-deployment') ?? '?'
        counts[d] = (counts[d] ?? 0) + 1
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    expect((counts.a ?? 0) + (counts.b ?? 0) + (counts.c ?? 0)).toBe(2000)
    expect(Math.abs((counts.a ?? 0) / 2000 - 1 / 8)).toBeLessThan(0.02)
    expect(Math.abs((counts.b ?? 0) / 2000 - 2 / 8)).toBeLessThan(0.02)
    expect(Math.abs((counts.c ?? 0) / 2000 - 5 / 8)).toBeLessThan(0.02)
  }, 180_000)
})

describe('an upstream killed during a run of requests', () => {
  it('by default runs nothing twice: held POSTs get 502 retryable, later ones move', async () => {
    a.knobs = { 'x-mock-latency-ms': '300' }
    const results: Array<{ status: number; retryable: boolean | null }> = []
    const run = Array.from({ length: 20 }, async (_x, i) => {
      const res = await post('killed-default', body(`kd${i}`))
      const text = await res.text()
      results.push({ status: res.status, retryable: res.status === 200 ? null : (JSON.parse(text) as { error: { retryable: boolean } }).error.retryable })
    })
    let fullAtA: Set<string>
    try {
      await a.waitForRequests(10)
      await a.kill()
      await Promise.all(run)
      fullAtA = new Set(a.bodies)
    } finally {
      a = await startTunableMock('us-pdx-1', a.port)
    }
    // A request whose body a had read in full was answered by a or refused back to its client,
    // retryable, and never sent to b or c; only one a had not received in full may have moved.
    const failed = results.filter(r => r.status !== 200)
    expect(fullAtA.size).toBeGreaterThan(0)
    expect(failed.length).toBeGreaterThan(0)
    expect(failed.every(r => r.status === 502 && r.retryable === true)).toBe(true)
    expect([...b.bodies, ...c.bodies].filter(x => fullAtA.has(x))).toEqual([])
  }, 120_000)

  it('with routing.retryNonIdempotent gives zero client-visible errors for the requests not yet answered', async () => {
    // a answers slowly, so many requests are waiting on it when it dies.
    a.knobs = { 'x-mock-latency-ms': '300' }
    const results: Array<{ status: number; deployment: string | null }> = []
    const run = Array.from({ length: 30 }, async (_x, i) => {
      const res = await post('killed', body(`k${i}`))
      await res.arrayBuffer()
      results.push({ status: res.status, deployment: res.headers.get('x-agnet-deployment') })
    })
    await a.waitForRequests(10)
    await a.kill()
    await Promise.all(run)
    // And requests after the kill too.
    for (let i = 0; i < 5; i++) {
      const res = await post('killed', body(`after${i}`))
      await res.arrayBuffer()
      results.push({ status: res.status, deployment: res.headers.get('x-agnet-deployment') })
    }
    expect(results.filter(r => r.status !== 200)).toEqual([])
    expect(results.filter(r => r.deployment === 'b').length).toBeGreaterThanOrEqual(10)
    // Restart a on the same port for any later test.
    a = await startTunableMock('us-pdx-1', a.port)
  }, 120_000)
})

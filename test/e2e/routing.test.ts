// Routing across the simulated network with real sockets: origins, policies, the origin
// header's trust and hygiene, decision headers, explain, and policies changed by hot reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { explainCommand } from '../../src/cli/explain.js'

// Wide gaps between the nearest region and the next: the latency strategy adds the measured
// time to first byte, which a loaded test machine can push up by tens of milliseconds.
const RTT = `
network:
  rtt:
    us-pdx-1: { us-pdx-1: 1, us-was-1: 300, eu-lon-1: 900, eu-fra-1: 1200 }
    us-was-1: { us-was-1: 1, eu-lon-1: 600, eu-fra-1: 900 }
    eu-lon-1: { eu-lon-1: 1, eu-fra-1: 300 }
    US: { us-pdx-1: 400, us-was-1: 100, eu-lon-1: 700, eu-fra-1: 1000 }
    DE: { us-pdx-1: 1200, us-was-1: 900, eu-lon-1: 400, eu-fra-1: 50 }
    GB: { us-pdx-1: 1300, us-was-1: 1000, eu-lon-1: 50, eu-fra-1: 400 }
`

function config (euPolicy: string, trust = true): string {
  return `
server: { region: us-pdx-1, trustOriginHeader: ${trust} }
${RTT}
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    policies:
      - name: eu-only
        type: location
        locations: [${euPolicy}]
      - { name: gb, type: location, locations: [{ type: country, name: gb }] }
      - { name: t4, type: flavor, flavors: [{ type: gpu, name: t4 }] }
    models:
      - { name: open, runtime: { type: openai, model: m }, integrationConnections: [oai] }
      - { name: eu, runtime: { type: openai, model: m }, integrationConnections: [oai], policies: [eu-only] }
      - { name: nowhere, runtime: { type: openai, model: m }, integrationConnections: [oai], policies: [gb, t4] }
`
}

const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })

async function call (gw: TestGateway, model: string, origin?: string, path = '/v1/chat/completions'): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (origin !== undefined) headers['x-agnet-origin'] = origin
  return await fetch(`${gw.url}/acme/models/${model}${path}`, { method: 'POST', headers, body: BODY })
}

describe('routing by origin and policy', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(config('{ type: continent, name: EU }')) })
  afterAll(async () => { await gw.close() })

  it.each([
    ['the gateway region by default', undefined, 'us-pdx-1', 'us-pdx-1'],
    ['a US caller is served in the US', 'US', 'us-was-1', 'US'],
    ['an EU caller (DE) is served in the EU', 'DE', 'eu-fra-1', 'DE'],
    ['a caller in a region is served there', 'eu-lon-1', 'eu-lon-1', 'eu-lon-1'],
    ['origin codes are case-insensitive', 'gb', 'eu-lon-1', 'GB']
  ])('%s', async (_n, origin, region, echoed) => {
    const res = await call(gw, 'open', origin)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-region')).toBe(region)
    expect(res.headers.get('x-mock-region')).toBe(region)
    expect(res.headers.get('x-agnet-origin')).toBe(echoed)
    expect(res.headers.get('x-agnet-attempts')).toBe('1')
    await res.text()
  })

  it('an EU-only model called from the US is served in the nearest EU region, never the US', async () => {
    for (const origin of ['US', 'us-pdx-1', undefined]) {
      const res = await call(gw, 'eu', origin)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-agnet-region')).toBe('eu-lon-1')
      await res.text()
    }
    const de = await call(gw, 'eu', 'DE')
    expect(de.headers.get('x-agnet-region')).toBe('eu-fra-1')
    await de.text()
  })

  it('no allowed deployment: 403 POLICY_VIOLATION naming the policies', async () => {
    const res = await call(gw, 'nowhere', 'GB')
    expect(res.status).toBe(403)
    expect(res.headers.get('x-blaxel-error-code')).toBe('POLICY_VIOLATION')
    expect(res.headers.get('x-agnet-origin')).toBe('GB')
    const body = await res.json() as { error: { code: string; status: number; message: string; retryable: boolean } }
    expect(body.error).toMatchObject({ code: 'POLICY_VIOLATION', status: 403, retryable: false })
    expect(body.error.message).toMatch(/gb \(location\), t4 \(flavor\)/)
  })

  it('an origin that is neither a region nor a country is a 400', async () => {
    const res = await call(gw, 'open', 'atlantis')
    expect(res.status).toBe(400)
    expect((await res.json() as { error: { message: string } }).error.message).toMatch(/X-Agnet-Origin must be a region name/)
  })

  it('X-Agnet-Origin is never forwarded upstream', async () => {
    const res = await call(gw, 'open', 'DE', '/__echo/check')
    expect(res.status).toBe(200)
    const echo = await res.json() as { headers: Record<string, string> }
    expect(Object.keys(echo.headers).filter(h => h.startsWith('x-agnet'))).toEqual([])
    expect(echo.headers['x-mock-region']).toBeUndefined()
  })

  it('explains every deployment with its verdict and reason, and the one that would be chosen', async () => {
    const res = await fetch(`${gw.url}/v0/routing/acme/eu?origin=DE`)
    expect(res.status).toBe(200)
    const body = await res.json() as { chosen: string; origin: { name: string }; order: string[]; policies: string[]; error: unknown; deployments: Array<{ name: string; verdict: string; reason: string; rttMs: number; rank: number | null; expectedMs: number | null }> }
    expect(body.origin.name).toBe('DE')
    expect(body.policies).toEqual(['eu-only'])
    expect(body.chosen).toBe('eu-fra-1')
    expect(body.order).toEqual(['eu-fra-1', 'eu-lon-1'])
    expect(body.error).toBeNull()
    const by = Object.fromEntries(body.deployments.map(d => [d.name, d]))
    expect(by['us-pdx-1']).toMatchObject({ verdict: 'excluded', rank: null, expectedMs: null })
    expect(by['us-pdx-1']?.reason).toMatch(/^excluded by eu-only: us-pdx-1 \(US, NA/)
    expect(by['eu-fra-1']).toMatchObject({ verdict: 'chosen', rank: 1, rttMs: 50 })
    expect(by['eu-fra-1']?.reason).toMatch(/allowed by eu-only; expected [\d.]+ ms = RTT 50 ms \+ /)
    expect(by['eu-lon-1']).toMatchObject({ verdict: 'failover', rank: 2, rttMs: 400 })

    const none = await (await fetch(`${gw.url}/v0/routing/acme/nowhere`)).json() as { chosen: string | null; error: { code: string; status: number } }
    expect(none.chosen).toBeNull()
    expect(none.error).toMatchObject({ code: 'POLICY_VIOLATION', status: 403 })
    expect((await fetch(`${gw.url}/v0/routing/acme/eu?origin=mars`)).status).toBe(400)
    expect((await fetch(`${gw.url}/v0/routing/acme/ghost`)).status).toBe(404)
  })

  it('agnet explain prints the same decision as a table', async () => {
    let out = ''
    const code = await explainCommand('acme', 'eu', { origin: 'de', url: gw.url }, {}, s => { out += s })
    expect(code).toBe(0)
    expect(out).toContain('acme/eu from DE (country, DE, EU); strategy latency; policies: eu-only')
    expect(out).toContain('would be served by eu-fra-1; failover order eu-fra-1 → eu-lon-1')
    expect(out).toMatch(/^1 +eu-fra-1 +eu-fra-1 +CHOSEN +50ms/m)
    expect(out).toMatch(/^- +us-pdx-1 +us-pdx-1 +EXCLUDED +1200ms .*excluded by eu-only/m)
    let none = ''
    expect(await explainCommand('acme', 'nowhere', { url: gw.url }, {}, s => { none += s })).toBe(2)
    expect(none).toContain('no deployment would be chosen: POLICY_VIOLATION')
    expect(await explainCommand('acme', 'ghost', { url: gw.url }, {}, () => {})).toBe(1)
  })

  it('a policy changed by hot reload applies to new requests only', async () => {
    // An in-flight stream from eu-lon-1, held open by the mock until acknowledged.
    const held = await call(gw, 'eu', 'GB', '/__sse/controlled?n=2')
    expect(held.status).toBe(200)
    expect(held.headers.get('x-agnet-region')).toBe('eu-lon-1')
    const id = held.headers.get('x-mock-stream-id')
    const reader = (held.body as ReadableStream<Uint8Array>).getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    expect(first).toContain('"i":0')

    // eu-only becomes "DE only": eu-lon-1 is out for new requests.
    const result = await gw.rewrite(config('{ type: country, name: DE }'))
    expect(result.ok).toBe(true)
    const after = await call(gw, 'eu', 'GB')
    expect(after.headers.get('x-agnet-region')).toBe('eu-fra-1')
    await after.text()

    // The request that started before the reload finishes where it started.
    const lon = (await gw.mocks.ensure(['eu-lon-1'])).get('eu-lon-1') ?? ''
    const ack = await fetch(`${lon}/__sse/ack?stream=${id ?? ''}&i=0`, { method: 'POST' })
    expect(ack.status).toBe(200)
    let rest = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    expect(rest).toContain('"i":1')
    await gw.rewrite(config('{ type: continent, name: EU }'))
  })
})

describe('an untrusted origin header', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(config('{ type: continent, name: EU }', false)) })
  afterAll(async () => { await gw.close() })

  it('is ignored (the gateway region is the origin) and still not forwarded', async () => {
    const res = await call(gw, 'open', 'DE', '/__echo/x')
    expect(res.headers.get('x-agnet-origin')).toBe('us-pdx-1')
    expect(res.headers.get('x-agnet-region')).toBe('us-pdx-1')
    const echo = await res.json() as { headers: Record<string, string> }
    expect(echo.headers['x-agnet-origin']).toBeUndefined()
    // Not even validated: a garbage value cannot be used to probe anything.
    const junk = await call(gw, 'open', 'atlantis')
    expect(junk.status).toBe(200)
    await junk.text()
  })
})

describe('simulated network delay', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startGateway(`
server: { region: us-pdx-1, trustOriginHeader: true }
network:
  applyDelay: true
  rtt:
    JP: { us-pdx-1: 300 }
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    models:
      - { name: open, runtime: { type: openai, model: m }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
`)
  })
  afterAll(async () => { await gw.close() })

  it('adds the RTT from the origin as real delay before forwarding', async () => {
    // A lower bound only: a loaded machine can make it slower, never faster.
    const t0 = performance.now()
    const res = await call(gw, 'open', 'JP')
    await res.text()
    expect(res.status).toBe(200)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295)
  })
})

describe('GET /v0/routing is authenticated like the run plane', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startGateway(`
users:
  - name: ann
    apiKeys:
      - { name: ann-key, value: "ann-secret-key-0123456789" }
      - { name: ann-scoped, value: "ann-scoped-key-0123456789", scopes: [other] }
workspaces:
  - name: acme
    members: [{ user: ann, role: member }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    models:
      - { name: open, runtime: { type: openai, model: m }, integrationConnections: [oai] }
  - name: other-team
    models:
      - { name: open, runtime: { type: openai, model: m }, deployments: [{ region: us-pdx-1, url: "http://127.0.0.1:9" }] }
`)
  })
  afterAll(async () => { await gw.close() })

  it('401 without a credential, 200 with one, 403 for another workspace or a model outside the key scopes', async () => {
    const none = await fetch(`${gw.url}/v0/routing/acme/open`)
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ code: 401 })
    const ok = await fetch(`${gw.url}/v0/routing/acme/open?origin=US`, { headers: { authorization: 'Bearer ann-secret-key-0123456789' } })
    expect(ok.status).toBe(200)
    expect((await ok.json() as { chosen: string }).chosen).toMatch(/^us-/)
    const elsewhere = await fetch(`${gw.url}/v0/routing/other-team/open`, { headers: { authorization: 'Bearer ann-secret-key-0123456789' } })
    expect(elsewhere.status).toBe(403)
    await elsewhere.text()
    const scoped = await fetch(`${gw.url}/v0/routing/acme/open`, { headers: { 'x-blaxel-authorization': 'Bearer ann-scoped-key-0123456789' } })
    expect(scoped.status).toBe(403)
    await scoped.text()
  })
})

// Latency learning end to end: two deployments at the same simulated distance, one made slow
// (the mock's latency knob) and later recovered. The gateway measures time to first byte
// itself; traffic follows within a bounded number of requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startTunableMock, type TunableMock } from '../helpers/tunable-mock.js'
import { EXPLORE_EVERY } from '../../src/routing/plan.js'

let a: TunableMock
let b: TunableMock
let gw: TestGateway

beforeAll(async () => {
  ;[a, b] = await Promise.all([startTunableMock('us-pdx-1'), startTunableMock('us-pdx-1')])
  gw = await startGateway(`
server: { region: us-pdx-1 }
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, apiKey: "sk-upstream" }
    models:
      - name: m
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        deployments:
          - { name: a, region: us-pdx-1, url: "${a.url}" }
          - { name: b, region: us-pdx-1, url: "${b.url}" }
`)
})

afterAll(async () => {
  await gw.close()
  await Promise.all([a.kill(), b.kill()])
})

async function run (n: number): Promise<string[]> {
  const served: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${gw.url}/acme/models/m/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","messages":[{"role":"user","content":"hi"}]}' })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    served.push(res.headers.get('x-agnet-deployment') ?? '?')
  }
  return served
}

describe('latency strategy learns', () => {
  it('a deployment made slow loses its traffic within a bounded number of requests and wins it back after it recovers', async () => {
    // Both fast: both get measured (new deployments are explored at once).
    const warm = await run(20)
    expect(warm).toContain('a')
    expect(warm).toContain('b')

    a.knobs = { 'x-mock-latency-ms': '600' }
    const slow = await run(50)
    // Within 2 × EXPLORE_EVERY requests b has the traffic; a then only sees explorations
    // (one in EXPLORE_EVERY), give or take a hiccup of a loaded machine.
    const tail = slow.slice(2 * EXPLORE_EVERY)
    expect(tail.filter(d => d === 'a').length).toBeLessThanOrEqual(3)

    a.knobs = {}
    b.knobs = { 'x-mock-latency-ms': '600' }
    const back = await run(60)
    const recovered = back.slice(2 * EXPLORE_EVERY)
    expect(recovered.filter(d => d === 'b').length).toBeLessThanOrEqual(4)

    const explain = await (await fetch(`${gw.url}/v0/routing/acme/m`)).json() as { chosen: string; explored: string | null; order: string[]; deployments: Array<{ name: string; ttfbMs: number; reason: string }> }
    // The next request is a, unless it is the one-in-EXPLORE_EVERY try of b, which explain names.
    if (explain.explored === null) expect(explain.chosen).toBe('a')
    else {
      expect(explain.explored).toBe('b')
      expect(explain.order).toEqual(['b', 'a'])
      expect(explain.deployments[1]?.reason).toContain('tried next to measure it again')
    }
    expect(explain.deployments[1]?.ttfbMs).toBeGreaterThan(explain.deployments[0]?.ttfbMs ?? 0)
  }, 120_000)
})

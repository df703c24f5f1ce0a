// `agnet loadtest` as a user runs it: the built CLI against a gateway started by the test,
// from several simulated origins, with expectation files that pass and fail.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { runCli } from '../helpers/cli.js'

const CONFIG = `
server:
  trustOriginHeader: true
# Far apart on purpose: the latency strategy only explores a deployment whose RTT alone beats
# the best expected latency, which a loaded machine's time to first byte can never reach here.
network:
  rtt:
    DE: { eu-fra-1: 5, us-pdx-1: 5000 }
    US: { us-pdx-1: 5, eu-fra-1: 5000 }
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    models:
      - name: gpt
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
      - name: spread
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: us-pdx-1 }, { region: eu-fra-1 }]
      # Failing on purpose in some tests: its own deployment, never ejected, so the others stay healthy.
      - name: flaky
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-lon-1 }]
        routing: { ejectAfter: 100, maxAttempts: 1 }
      # One token a month: the first request completes, every later one is refused with 429.
      - name: capped
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [one-token]
    policies:
      - { name: one-token, type: maxToken, maxTokens: { granularity: month, total: 1 } }
`

interface Report {
  url: string
  results: Array<{ origin: string; completed: number; status2xx: number; status429: number; status5xx: number; transportErrors: number; regions: Record<string, number>; latencyMs: { p50: number; p99: number } }>
  expectations: { met: boolean; misses: string[] } | null
}

describe('agnet loadtest', () => {
  let gw: TestGateway
  const dir = mkdtempSync(join(tmpdir(), 'agnet-loadtest-'))
  const seen: Array<{ origin: string | undefined; bytesIn: number }> = []
  const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p }
  beforeAll(async () => {
    gw = await startGateway(CONFIG, { observe: ctx => { seen.push({ origin: ctx.req.headers['x-agnet-origin'] as string | undefined, bytesIn: ctx.bytesIn }) } })
  })
  afterAll(async () => { await gw.close() })

  const base = (): string[] => ['loadtest', 'gpt', '-w', 'acme', '--url', gw.url, '-c', '3']

  it('loads from several origins and reports shares, latency, 429s and errors per origin', async () => {
    seen.length = 0
    // 40 requests at 25/s per origin: the run lasts more than a second, so progress is printed.
    const out = await runCli([...base(), '--origin', 'DE,us-pdx-1', '--amount', '40', '--rate', '25', '--json'])
    expect(out.stderr).toMatch(/\[1s\] \d+ responses \(DE \d+, us-pdx-1 \d+\)/)
    expect(out.code).toBe(0)
    const report = JSON.parse(out.stdout) as Report
    expect(report.url).toBe(`${gw.url}/acme/models/gpt/v1/chat/completions`)
    expect(report.results.map(r => r.origin)).toEqual(['DE', 'us-pdx-1'])
    for (const r of report.results) {
      expect(r.completed).toBe(40)
      expect(r.status2xx).toBe(40)
      expect(r.regions).toEqual({ 'eu-fra-1': 40 })
      expect(r.transportErrors).toBe(0)
      expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50)
    }
    // Each origin's requests carried its X-Agnet-Origin.
    expect(seen.filter(s => s.origin === 'DE')).toHaveLength(40)
    expect(seen.filter(s => s.origin === 'us-pdx-1')).toHaveLength(40)
  })

  it('prints a readable report and exits 0 when the expectations are met', async () => {
    const expectations = file('ok.yaml', `
origins:
  DE:
    regions: { eu-fra-1: 1 }
    maxErrorRate: 0
    max429Rate: 0
  "*":
    regions: { eu-fra-1: { min: 0.9 } }
`)
    const out = await runCli([...base(), '--origin', 'DE', '--origin', 'GB', '--amount', '20', '--expect', expectations])
    expect(out.code).toBe(0)
    expect(out.stdout).toContain('origin DE: 20 responses')
    expect(out.stdout).toContain('origin GB: 20 responses')
    expect(out.stdout).toMatch(/eu-fra-1\s+100\.0%\s+20/)
    expect(out.stdout).toMatch(/latency\s+p50 [\d.]+ ms\s+p99 [\d.]+ ms/)
    expect(out.stdout).toContain('expectations: all met')
  })

  it('exits 1 and says which share is off when the expectations are not met', async () => {
    const expectations = file('wrong-region.yaml', `
origins:
  us-pdx-1:
    regions: { us-pdx-1: { min: 0.9 }, eu-fra-1: { max: 0.1 } }
`)
    const out = await runCli([...base(), '--origin', 'us-pdx-1', '--amount', '10', '--expect', expectations])
    expect(out.code).toBe(1)
    expect(out.stdout).toContain('expectations: 2 not met')
    expect(out.stdout).toContain('origin us-pdx-1: us-pdx-1 served 0.0% of the traffic, expected ≥ 90.0%')
    expect(out.stdout).toContain('origin us-pdx-1: eu-fra-1 served 100.0% of the traffic, expected ≤ 10.0%')
  })

  it('counts 429s and errors and holds them against the expected rates', async () => {
    const expectations = file('rates.yaml', 'origins:\n  "*": { max429Rate: 0.1, maxErrorRate: 0.1 }\n')
    const flaky = ['loadtest', 'flaky', '-w', 'acme', '--url', gw.url, '-c', '3']
    // One connection: each request starts after the previous one was counted.
    const limited = await runCli(['loadtest', 'capped', '-w', 'acme', '--url', gw.url, '-c', '1', '--amount', '12', '--expect', expectations, '--json'])
    expect(limited.code).toBe(1)
    const r429 = JSON.parse(limited.stdout) as Report
    expect(r429.results[0]?.origin).toBe('default')
    expect(r429.results[0]?.status2xx).toBe(1)
    expect(r429.results[0]?.status429).toBe(11)
    expect(r429.expectations?.misses).toEqual(['origin default: 91.7% of answers were 429, expected ≤ 10.0%'])

    // Whatever the gateway makes of an upstream 503 (relayed, or WORKLOAD_UNAVAILABLE once no
    // deployment is left), every request failed.
    const failing = await runCli([...flaky, '--amount', '12', '-H', 'x-mock-status: 503', '--expect', expectations])
    expect(failing.code).toBe(1)
    expect(failing.stdout).toMatch(/errors\s+12 \(100\.0%\): \d+ 5xx, \d+ 4xx, 0 without an answer/)
    expect(failing.stdout).toMatch(/origin default: error rate 100\.0% \(\d+ 5xx, \d+ 4xx, 0 without an answer\), expected ≤ 10\.0%/)
  })

  it('sends the body file', async () => {
    seen.length = 0
    const body = JSON.stringify({ model: 'x', max_tokens: 2, messages: [{ role: 'user', content: 'a body from a file' }] })
    const out = await runCli([...base(), '--amount', '5', '--body-file', file('body.json', body), '--json'])
    expect(out.code).toBe(0)
    expect(seen).toHaveLength(5)
    for (const s of seen) expect(s.bytesIn).toBe(Buffer.byteLength(body))
  })

  it('shows latency routing splitting traffic by origin across regions', async () => {
    // The simulated network puts a German caller next to eu-fra-1 and an American one next to us-pdx-1.
    const expectations = file('split.yaml', `
origins:
  DE: { regions: { eu-fra-1: 1, us-pdx-1: 0 } }
  US: { regions: { us-pdx-1: 1, eu-fra-1: 0 } }
`)
    const out = await runCli(['loadtest', 'spread', '-w', 'acme', '--url', gw.url, '-c', '2', '--origin', 'DE,US', '--amount', '20', '--expect', expectations, '--json'])
    const report = JSON.parse(out.stdout) as Report
    expect(report.results.map(r => [r.origin, r.regions])).toEqual([['DE', { 'eu-fra-1': 20 }], ['US', { 'us-pdx-1': 20 }]])
    expect(report.expectations).toEqual({ met: true, misses: [] })
    expect(out.code).toBe(0)
  })

  it('refuses a bad expectations file before loading anything (exit 2)', async () => {
    seen.length = 0
    const bad = file('bad.yaml', 'origins:\n  DE: { regions: { eu-fra-1: 2 } }\n')
    const out = await runCli([...base(), '--amount', '5', '--expect', bad])
    expect(out.code).toBe(2)
    expect(out.stderr).toContain(`${bad}: /origins/DE/regions/eu-fra-1`)
    expect(seen).toHaveLength(0)
  })
})

// The simulated network: origins (regions and ISO countries), the RTT matrix (symmetric,
// with fallbacks), and its validation.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, ConfigError, type ConfigProblem } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import type { Runtime } from '../../../src/core/runtime.js'
import { resolveOrigin, FALLBACK_RTT, COUNTRY_CONTINENT } from '../../../src/routing/network.js'
import { originOf } from '../../../src/routing/plan.js'

const registry = new DispatcherRegistry()
afterAll(async () => { await registry.destroyAll() })

function compile (yaml: string): Runtime {
  const d = mkdtempSync(join(tmpdir(), 'agnet-net-'))
  const p = join(d, 'agnet.yaml')
  writeFileSync(p, yaml)
  return compileRuntime(loadConfig(p, { env: {} }), { dispatchers: registry })
}

const WS = `
workspaces:
  - { name: acme, models: [{ name: m, runtime: { type: openai } }] }
`

function rtt (rt: Runtime, origin: string, region: string): number {
  const o = resolveOrigin(rt.network.origins, origin)
  if (o === null) throw new Error(`no origin ${origin}`)
  return o.rtt[rt.network.regionIndex.get(region) as number] as number
}

describe('RTT matrix', () => {
  const rt = compile(`
server: { region: eu-fra-1, trustOriginHeader: true }
network:
  rtt:
    us-pdx-1: { us-was-1: 70, eu-lon-1: 140 }
    DE: { eu-fra-1: 5 }
    eu-lon-1: { jp: 230 }
${WS}`)

  it('reads explicit entries and mirrors a missing direction', () => {
    expect(rtt(rt, 'us-pdx-1', 'us-was-1')).toBe(70)
    expect(rtt(rt, 'us-was-1', 'us-pdx-1')).toBe(70)
    expect(rtt(rt, 'eu-lon-1', 'us-pdx-1')).toBe(140)
    expect(rtt(rt, 'DE', 'eu-fra-1')).toBe(5)
    expect(rtt(rt, 'jp', 'eu-lon-1')).toBe(230)
  })

  it('falls back by geography for pairs the matrix does not list', () => {
    expect(rtt(rt, 'eu-fra-1', 'eu-fra-1')).toBe(FALLBACK_RTT.sameRegion)
    expect(rtt(rt, 'US', 'us-pdx-1')).toBe(FALLBACK_RTT.sameCountry)
    expect(rtt(rt, 'FR', 'eu-fra-1')).toBe(FALLBACK_RTT.sameContinent)
    expect(rtt(rt, 'CA', 'eu-lon-1')).toBe(FALLBACK_RTT.naEu)
    expect(rtt(rt, 'AU', 'us-pdx-1')).toBe(FALLBACK_RTT.other)
  })

  it('resolves origins: region names, country codes in any case, nothing else', () => {
    expect(resolveOrigin(rt.network.origins, 'EU-LON-1')?.name).toBe('eu-lon-1')
    expect(resolveOrigin(rt.network.origins, 'de')?.name).toBe('DE')
    expect(resolveOrigin(rt.network.origins, 'De')?.continent).toBe('EU')
    expect(resolveOrigin(rt.network.origins, 'xx')).toBeNull()
    expect(resolveOrigin(rt.network.origins, 'europe')).toBeNull()
    expect(COUNTRY_CONTINENT.size).toBeGreaterThan(240)
  })

  it('uses the gateway region by default and X-Agnet-Origin only when trusted', () => {
    expect(originOf(rt, undefined)?.name).toBe('eu-fra-1')
    expect(originOf(rt, 'jp')?.name).toBe('JP')
    expect(originOf(rt, 'nowhere')).toBeNull()
    const untrusted = compile(`server: { region: us-was-1 }\n${WS}`)
    expect(originOf(untrusted, 'jp')?.name).toBe('us-was-1')
    expect(originOf(untrusted, 'nowhere')?.name).toBe('us-was-1')
  })

  it('refuses matrix keys that are neither regions nor countries, with a hint', () => {
    let ps: ConfigProblem[] = []
    try {
      compile(`
network:
  rtt:
    mars: { us-pdx-1: 5 }
    US: { GB: 80, narnia: 3 }
${WS}`)
    } catch (err) { if (err instanceof ConfigError) ps = err.problems }
    expect(ps.map(p => p.message)).toEqual([
      expect.stringMatching(/"mars" is neither a region \(us-pdx-1, us-was-1, eu-lon-1, eu-fra-1\) nor an ISO 3166-1 alpha-2 country code/),
      expect.stringMatching(/one side of an RTT entry must be a region/),
      expect.stringMatching(/"narnia" is neither a region/)
    ])
    expect(ps[0]?.line).toBe(4)
  })
})

describe('the embedded default config', () => {
  it('trusts X-Agnet-Origin, carries the RTT matrix and serves gpt-4o-mini-eu from the EU only', async () => {
    const { DEFAULT_CONFIG_PATH } = await import('../../../src/config/store.js')
    const env = { AGNET_DEMO_KEY: 'k', AGNET_DEMO_CLIENT_ID: 'id', AGNET_DEMO_CLIENT_SECRET: 's' }
    const rt = compileRuntime(loadConfig(DEFAULT_CONFIG_PATH, { env }), { dispatchers: registry, env })
    expect(rt.network.trustOriginHeader).toBe(true)
    expect(rtt(rt, 'us-pdx-1', 'eu-fra-1')).toBe(145)
    expect(rtt(rt, 'eu-fra-1', 'us-pdx-1')).toBe(145)
    expect(rtt(rt, 'DE', 'eu-fra-1')).toBe(6)
    const eu = rt.network.models.get('demo/gpt-4o-mini-eu')
    expect(eu?.policies).toEqual(['eu-only'])
    expect(eu?.allowed.map(d => d.region.name)).toEqual(['eu-lon-1', 'eu-fra-1'])
    expect(rt.network.models.get('demo/gpt-4o-mini')?.allowed).toHaveLength(4)
  })
})

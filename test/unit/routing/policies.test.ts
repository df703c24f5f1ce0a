// The policy matrix: which deployments a model may use, computed at compile time from
// Blaxel-shaped location and flavor policies (union within a type, intersection across).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, ConfigError, type ConfigProblem } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import type { Runtime } from '../../../src/core/runtime.js'

const registry = new DispatcherRegistry()
afterAll(async () => { await registry.destroyAll() })

function compile (yaml: string): Runtime {
  const d = mkdtempSync(join(tmpdir(), 'agnet-pol-'))
  const p = join(d, 'agnet.yaml')
  writeFileSync(p, yaml)
  return compileRuntime(loadConfig(p, { env: {} }), { dispatchers: registry })
}

function problems (yaml: string): ConfigProblem[] {
  try { compile(yaml) } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

// Default regions: us-pdx-1 (US, NA; x86, t4), us-was-1 (US, NA; x86, l4),
// eu-lon-1 (GB, EU; x86), eu-fra-1 (DE, EU; x86, t4). One deployment per region.
const POLICIES = `
    policies:
      - { name: us, type: location, locations: [{ type: country, name: us }] }
      - { name: gb, type: location, locations: [{ type: country, name: GB }] }
      - { name: eu, type: location, locations: [{ type: continent, name: eu }] }
      - { name: na, type: location, locations: [{ type: continent, name: NA }] }
      - { name: fra, type: location, locations: [{ type: location, name: EU-FRA-1 }] }
      - { name: us-or-eu, type: location, locations: [{ type: country, name: US }, { type: continent, name: EU }] }
      - { name: t4, type: flavor, flavors: [{ type: gpu, name: T4 }] }
      - { name: l4, type: flavor, flavors: [{ type: gpu, name: l4 }] }
      - { name: x86, type: flavor, flavors: [{ type: cpu, name: x86 }] }
      - { name: cap, type: maxToken, maxTokens: { granularity: minute, total: 10 } }
      - { name: dry-eu, type: location, dryRun: true, locations: [{ type: continent, name: EU }] }
`

function allowedFor (policies: string[]): { allowed: string[]; violation: string | null; reasons: string[] } {
  const rt = compile(`
workspaces:
  - name: acme
${POLICIES}
    models:
      - name: m
        runtime: { type: openai, model: x }
        policies: [${policies.join(', ')}]
`)
  const route = rt.network.models.get('acme/m')
  if (route === undefined) throw new Error('no route')
  return { allowed: route.allowed.map(d => d.region.name), violation: route.violation?.message ?? null, reasons: route.verdicts.map(v => v.reason) }
}

const ALL = ['us-pdx-1', 'us-was-1', 'eu-lon-1', 'eu-fra-1']

describe('policy matrix', () => {
  it.each([
    ['no policy', [], ALL],
    ['a maxToken policy only', ['cap'], ALL],
    ['country US (lower-case in the policy)', ['us'], ['us-pdx-1', 'us-was-1']],
    ['country GB', ['gb'], ['eu-lon-1']],
    ['continent EU (lower-case)', ['eu'], ['eu-lon-1', 'eu-fra-1']],
    ['continent NA', ['na'], ['us-pdx-1', 'us-was-1']],
    ['a region by name (any case)', ['fra'], ['eu-fra-1']],
    ['union within a type: US or EU in one policy', ['us-or-eu'], ALL],
    ['union within a type: GB policy ∪ NA policy', ['gb', 'na'], ['us-pdx-1', 'us-was-1', 'eu-lon-1']],
    ['flavor gpu T4 (case-insensitive)', ['t4'], ['us-pdx-1', 'eu-fra-1']],
    ['flavor union: t4 ∪ l4', ['t4', 'l4'], ['us-pdx-1', 'us-was-1', 'eu-fra-1']],
    ['intersection across types: EU ∩ t4', ['eu', 't4'], ['eu-fra-1']],
    ['intersection across types: (US ∪ GB) ∩ l4', ['us', 'gb', 'l4'], ['us-was-1']],
    ['cpu x86 everywhere ∩ NA', ['x86', 'na'], ['us-pdx-1', 'us-was-1']],
    ['a dry-run policy is reported, not enforced', ['dry-eu'], ALL],
    ['maxToken does not restrict placement: EU ∩ cap', ['eu', 'cap'], ['eu-lon-1', 'eu-fra-1']]
  ])('%s', (_name, policies, expected) => {
    const r = allowedFor(policies as string[])
    expect(r.allowed).toEqual(expected)
    expect(r.violation).toBeNull()
  })

  it('nothing allowed: a 403 POLICY_VIOLATION naming the policies, decided at compile time', () => {
    const r = allowedFor(['gb', 'l4'])
    expect(r.allowed).toEqual([])
    expect(r.violation).toMatch(/gb \(location\), l4 \(flavor\)/)
    const rt = compile(`
workspaces:
  - name: acme
${POLICIES}
    models:
      - { name: m, runtime: { type: openai }, policies: [eu, l4] }
`)
    const v = rt.network.models.get('acme/m')?.violation
    expect(v?.code).toBe('POLICY_VIOLATION')
    expect(v?.status).toBe(403)
  })

  it('says which policy excluded each deployment', () => {
    const r = allowedFor(['eu', 't4'])
    expect(r.reasons[0]).toMatch(/^excluded by eu: us-pdx-1/)
    expect(r.reasons[1]).toMatch(/^excluded by eu, t4/)
    expect(r.reasons[2]).toMatch(/^excluded by t4: eu-lon-1/)
    expect(r.reasons[3]).toBe('allowed by eu, t4')
    expect(allowedFor(['dry-eu']).reasons[0]).toMatch(/dry run: dry-eu would exclude it/)
  })
})

describe('unknown codes are config errors with a hint', () => {
  const bad = (loc: string): ConfigProblem[] => problems(`
workspaces:
  - name: acme
    policies:
      - name: p
        type: location
        locations:
          - { type: country, name: US }
          - ${loc}
    models:
      - { name: m, runtime: { type: openai }, policies: [p] }
`)
  it.each([
    ['{ type: country, name: XX }', /unknown country code "XX"; expected an ISO 3166-1 alpha-2 code/],
    ['{ type: country, name: uk }', /"uk" is not an ISO 3166-1 alpha-2 code; use "GB"/],
    ['{ type: country, name: eu }', /"eu" is a continent code; write \{ type: continent, name: EU \}/],
    ['{ type: country, name: eu-fra-1 }', /"eu-fra-1" is a region; write \{ type: location/],
    ['{ type: continent, name: europe }', /unknown continent code "europe"; expected one of AF, AN, AS, EU, NA, OC, SA/],
    ['{ type: continent, name: de }', /"de" is a country code; write \{ type: country, name: DE \}/],
    ['{ type: location, name: eu-par-1 }', /unknown region "eu-par-1"; known regions: us-pdx-1, us-was-1, eu-lon-1, eu-fra-1/]
  ])('%s', (loc, message) => {
    const ps = bad(loc)
    expect(ps).toHaveLength(1)
    expect(ps[0]?.message).toMatch(message)
    expect(ps[0]?.field).toBe('workspaces[0].policies[0].locations[1].name')
    expect(ps[0]?.line).toBe(9)
  })

  it('an unknown flavor is refused with the known ones', () => {
    const ps = problems(`
workspaces:
  - name: acme
    policies:
      - { name: p, type: flavor, flavors: [{ type: gpu, name: h100 }] }
    models:
      - { name: m, runtime: { type: openai }, policies: [p] }
`)
    expect(ps[0]?.message).toMatch(/no region or deployment offers the gpu flavor "h100"; known flavors: cpu:x86, gpu:l4, gpu:t4/)
  })

  it('a user-defined region counts as known everywhere', () => {
    const rt = compile(`
server: { region: eu-lon-1 }
regions:
  - { name: ap-tyo-1, country: jp, continent: as }
  - { name: eu-lon-1, country: GB, continent: EU }
workspaces:
  - name: acme
    policies:
      - { name: asia, type: location, locations: [{ type: continent, name: AS }] }
    models:
      - { name: m, runtime: { type: openai }, policies: [asia] }
`)
    expect(rt.network.models.get('acme/m')?.allowed.map(d => d.region.name)).toEqual(['ap-tyo-1'])
  })
})

// Every default is written once, in src/config/default-values.ts. These tests walk the schema:
// each `default` keyword is a valid value of its field, is what its description says, and is
// what the compilers produce when a config omits the field.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { describe, expect, it } from 'vitest'
import { Config } from '../../../src/config/schema.js'
import { DEFAULTS, byteCount, durationMs, spellDefault, type Spellable } from '../../../src/config/default-values.js'
import { loadConfig } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import type { Runtime } from '../../../src/core/runtime.js'

interface Field { path: string; node: Record<string, unknown> }

function isNode (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Every node of the schema with its README-style path (`a.b[].c`, `a.<key>`). */
function fields (node: unknown, path: string, out: Field[]): Field[] {
  if (!isNode(node)) return out
  out.push({ path, node })
  const join = (k: string): string => path === '' ? k : `${path}.${k}`
  if (isNode(node.properties)) for (const [k, v] of Object.entries(node.properties)) fields(v, join(k), out)
  if (isNode(node.patternProperties)) for (const v of Object.values(node.patternProperties)) fields(v, join('<key>'), out)
  if (node.items !== undefined) fields(node.items, `${path}[]`, out)
  if (Array.isArray(node.anyOf)) for (const v of node.anyOf) if (isNode(v) && v.type === 'object') fields(v, path, out)
  return out
}

const SCHEMA: unknown = JSON.parse(JSON.stringify(Config))
const ALL = fields(SCHEMA, '', [])
const WITH_DEFAULT = ALL.filter(f => f.node.default !== undefined)
// A network fault's defaults are what the fault does when a field is left out (not config
// values compiled into the runtime): FAULT_DEFAULTS in src/core/faults.ts, read by that schema's
// descriptions and by faults/inject.ts, and tested in test/unit/faults/inject.test.ts.
const OUTSIDE_THE_TABLE = ['network.faults']

function unitOf (node: Record<string, unknown>): 'duration' | 'size' | null {
  if (!Array.isArray(node.anyOf)) return null
  const patterns = node.anyOf.map(p => isNode(p) ? String(p.pattern) : '')
  if (patterns.some(p => p.includes('ms|s|m|h'))) return 'duration'
  if (patterns.some(p => p.includes('KiB'))) return 'size'
  return null
}

function isSpellable (v: unknown): v is Spellable {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return true
  if (Array.isArray(v)) return v.every(isSpellable)
  return isNode(v) && typeof v.name === 'string'
}

const HEX = (c: string): string => `sha256:${c.repeat(64)}`
const BASE_YAML = `
users:
  - name: ann
    apiKeys: [{ name: user-key, hash: "${HEX('a')}" }]
auth:
  external:
    - { name: idp, issuer: "https://idp.example", audience: agnet, algorithms: [HS256], secret: "0123456789abcdef0123456789abcdef" }
workspaces:
  - name: acme
    serviceAccounts:
      - { name: bot, clientId: bot-client, clientSecretHash: "${HEX('b')}", apiKeys: [{ name: bot-key, hash: "${HEX('c')}" }] }
    integrations: [{ name: oai, provider: openai, baseUrl: "http://127.0.0.1:9" }]
    policies:
      - { name: cap, type: maxToken, maxTokens: { granularity: minute, total: 100 } }
    models:
      - name: m
        runtime: { type: openai }
        integrationConnections: [oai]
        policies: [cap]
        deployments: [{ region: us-pdx-1, healthCheck: { path: /health } }]
`
// Regions of its own that name no flavors.
const REGION_YAML = `
server: { region: r1 }
regions: [{ name: r1, country: US, continent: NA }]
workspaces:
  - name: acme
    models: [{ name: m, runtime: { type: openai }, deployments: [{ region: r1, url: "http://127.0.0.1:9" }] }]
`

function compile (yaml: string): Runtime {
  const p = join(mkdtempSync(join(tmpdir(), 'agnet-defaults-')), 'agnet.yaml')
  writeFileSync(p, yaml)
  return compileRuntime(loadConfig(p, { env: {} }), { dispatchers: new DispatcherRegistry(), env: {} })
}

function defined<T> (v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} is missing from the compiled runtime`)
  return v
}

const model = (rt: Runtime) => defined(rt.workspaces.get('acme')?.models.get('m'), 'model acme/m')
const deployment = (rt: Runtime) => defined(model(rt).deployments[0], 'deployment of acme/m')
const issuer = (rt: Runtime) => defined(rt.identity.external.get('https://idp.example'), 'external issuer')
const keyNamed = (rt: Runtime, name: string) => defined([...rt.identity.apiKeys.values()].find(k => k.principal.credential === name), `key ${name}`)
const limit = (rt: Runtime) => defined(rt.usage.models.get('acme/m')?.limits[0], 'limit of acme/m')
const regionsInConfigSpelling = (rt: Runtime) => [...rt.regions.values()].map(r => ({ name: r.name, location: r.location, country: r.country, continent: r.continent, flavors: r.flavors.map(f => ({ type: f.type, name: f.name })) }))
const timeouts = (rt: Runtime) => model(rt).timeouts
const routing = (rt: Runtime) => model(rt).routing

type Read = (rt: Runtime, own: Runtime) => unknown[]
/** Where each default lands in the runtime, in the field's unit (durations in ms, sizes in bytes). */
const COMPILED: Record<string, Read> = {
  'server.port': rt => [rt.server.port],
  'server.host': rt => [rt.server.host],
  'server.region': rt => [rt.server.region, rt.network.defaultOrigin, rt.workspaces.get('acme')?.region],
  'server.trustOriginHeader': rt => [rt.server.trustOriginHeader, rt.network.trustOriginHeader],
  'server.bodyLimit': rt => [rt.server.bodyLimit, model(rt).bodyLimit],
  'server.maxHeaderBytes': rt => [rt.server.maxHeaderBytes],
  'server.logLevel': rt => [rt.server.logLevel],
  'server.accessLog': rt => [rt.server.accessLog],
  'server.shutdownGrace': rt => [rt.server.shutdownGraceMs],
  'server.upstreamConnections': rt => [rt.server.upstreamConnections],
  regions: rt => [regionsInConfigSpelling(rt)],
  'regions[].flavors': (_rt, own) => [regionsInConfigSpelling(own)[0]?.flavors],
  'network.applyDelay': rt => [rt.network.applyDelay],
  'defaults.timeouts.connect': rt => [timeouts(rt).connectMs],
  'defaults.timeouts.firstByte': rt => [timeouts(rt).firstByteMs],
  'defaults.timeouts.idle': rt => [timeouts(rt).idleMs],
  'defaults.timeouts.total': rt => [timeouts(rt).totalMs],
  'defaults.routing.strategy': rt => [routing(rt).strategy, rt.network.models.get('acme/m')?.strategy],
  'defaults.routing.maxAttempts': rt => [routing(rt).maxAttempts],
  'defaults.routing.budget': rt => [routing(rt).budgetMs],
  'defaults.routing.replayBodyLimit': rt => [routing(rt).replayBodyLimit],
  'defaults.routing.ejectAfter': rt => [routing(rt).ejectAfter],
  'defaults.routing.ejectFor': rt => [routing(rt).ejectForMs],
  'defaults.routing.retryNonIdempotent': rt => [routing(rt).retryNonIdempotent],
  'auth.issuer.tokenTtl': rt => [rt.identity.issuer.tokenTtlS * 1000],
  'auth.issuer.refreshTokenTtl': rt => [rt.identity.issuer.refreshTokenTtlS * 1000],
  'auth.external[].jwksCacheTtl': rt => [issuer(rt).jwksCacheTtlMs],
  'auth.external[].jwksCooldown': rt => [issuer(rt).jwksCooldownMs],
  'auth.external[].jwksTimeout': rt => [issuer(rt).jwksTimeoutMs],
  'auth.external[].clockTolerance': rt => [issuer(rt).clockToleranceS * 1000],
  'auth.external[].claims.subject': rt => [issuer(rt).claims.subject],
  'auth.external[].claims.workspace': rt => [issuer(rt).claims.workspace],
  'auth.external[].claims.role': rt => [issuer(rt).claims.role],
  'auth.cacheSize': rt => [rt.identity.cacheSize],
  'users[].apiKeys[].revoked': rt => [keyNamed(rt, 'user-key').revoked],
  'usage.failMode': rt => [rt.usage.store.failMode],
  'usage.timeout': rt => [rt.usage.store.timeoutMs],
  'usage.keyPrefix': rt => [rt.usage.store.keyPrefix],
  'usage.reserveOutput': rt => [rt.usage.models.get('acme/m')?.reserveOutput],
  'workspaces[].serviceAccounts[].role': rt => [rt.identity.clients.get('bot-client')?.principal.workspaces?.get('acme')],
  'workspaces[].serviceAccounts[].apiKeys[].revoked': rt => [keyNamed(rt, 'bot-key').revoked],
  'workspaces[].policies[].maxTokens.step': rt => [limit(rt).step],
  'workspaces[].policies[].dryRun': rt => [rt.workspaces.get('acme')?.policies.get('cap')?.dryRun, limit(rt).dryRun],
  'workspaces[].models[].enabled': rt => [model(rt).enabled],
  'workspaces[].models[].deployments[].weight': rt => [deployment(rt).weight],
  'workspaces[].models[].deployments[].healthCheck.interval': rt => [deployment(rt).healthCheck?.intervalMs],
  'workspaces[].models[].routing.strategy': rt => [routing(rt).strategy],
  'workspaces[].models[].routing.maxAttempts': rt => [routing(rt).maxAttempts],
  'workspaces[].models[].routing.budget': rt => [routing(rt).budgetMs],
  'workspaces[].models[].routing.replayBodyLimit': rt => [routing(rt).replayBodyLimit],
  'workspaces[].models[].routing.ejectAfter': rt => [routing(rt).ejectAfter],
  'workspaces[].models[].routing.ejectFor': rt => [routing(rt).ejectForMs],
  'workspaces[].models[].routing.retryNonIdempotent': rt => [routing(rt).retryNonIdempotent],
  'workspaces[].models[].timeouts.connect': rt => [timeouts(rt).connectMs],
  'workspaces[].models[].timeouts.firstByte': rt => [timeouts(rt).firstByteMs],
  'workspaces[].models[].timeouts.idle': rt => [timeouts(rt).idleMs],
  'workspaces[].models[].timeouts.total': rt => [timeouts(rt).totalMs]
}

describe('the table of defaults', () => {
  it('every default in the schema has its place in the runtime below, and every place a default', () => {
    const inSchema = WITH_DEFAULT.map(f => f.path).filter(p => !OUTSIDE_THE_TABLE.some(o => p.startsWith(o)))
    expect(inSchema.sort()).toEqual(Object.keys(COMPILED).sort())
  })

  it('a config that omits a field compiles to exactly its default', () => {
    const rt = compile(BASE_YAML)
    const own = compile(REGION_YAML)
    for (const { path, node } of WITH_DEFAULT) {
      const read = COMPILED[path]
      if (read === undefined) continue
      const unit = unitOf(node)
      const value = node.default
      const expected = unit === 'duration' && (typeof value === 'string' || typeof value === 'number')
        ? durationMs(value)
        : unit === 'size' && (typeof value === 'string' || typeof value === 'number') ? byteCount(value) : value
      for (const got of read(rt, own)) expect(got, path).toEqual(expected)
    }
  })

  it('every default is a valid value of its field', () => {
    const ajv = new Ajv2019({ strict: false, allowUnionTypes: true })
    for (const { path, node } of WITH_DEFAULT) {
      const { default: value, ...shape } = node
      expect(ajv.validate(shape, value), `${path}: ${JSON.stringify(value)} ${ajv.errorsText()}`).toBe(true)
    }
  })

  it('no description states a default other than its `default` keyword', () => {
    const wrong: string[] = []
    for (const { path, node } of ALL) {
      if (OUTSIDE_THE_TABLE.some(o => path.startsWith(o))) continue
      const text = typeof node.description === 'string' ? node.description : ''
      const stated = text.includes('default ') || node.default !== undefined
      if (!stated) continue
      if (!isSpellable(node.default)) { wrong.push(`${path}: says "${text}" without a \`default\` keyword`); continue }
      const spelled = `default ${spellDefault(node.default)}`
      // Each "default <value>" (prose defaults read "default: ...") names the keyword's value.
      const mentions = [...text.matchAll(/default /g)].map(m => m.index)
      if (mentions.length === 0) wrong.push(`${path}: the description does not state its default ${JSON.stringify(node.default)}`)
      for (const at of mentions) if (!text.startsWith(spelled, at)) wrong.push(`${path}: "${text}" states another default than ${JSON.stringify(node.default)}`)
    }
    expect(wrong).toEqual([])
  })

  it('the table spells durations and sizes as a config would', () => {
    expect(durationMs(DEFAULTS.timeouts.total)).toBe(1_800_000)
    expect(byteCount(DEFAULTS.server.bodyLimit)).toBe(32 * 1024 * 1024)
    expect(() => durationMs('30d')).toThrow(/not a duration/)
    expect(() => byteCount('1MB')).toThrow(/not a size/)
  })
})

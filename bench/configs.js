// The agnet configs the scenarios run against, generated per run (the upstream's port is only
// known then). Written against src/config/schema.ts, so each feature is on as soon as its
// engine lands; scenarios probe whether it really is before timing anything.
import fs from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'
import YAML from 'yaml'

export const WORKSPACE = 'bench'
export const MODEL = 'm'
export const PREFIX = `/${WORKSPACE}/models/${MODEL}`
/** The API key the scenarios send (a bench-only secret; configs hold its hash). */
export const BENCH_KEY = 'agnet_bench_5f1c9a7e0b3d4c2a8e6f1b0d9c7a5e3f'
export const WRONG_KEY = 'agnet_bench_0000000000000000000000000000wrong'
export const CLIENT_ID = 'bench-client'
export const CLIENT_SECRET = 'bench-client-secret-3c9e1f7a2b5d8e0c4a6f'
const UPSTREAM_CREDENTIAL = 'sk-bench-upstream-credential'
export const REGIONS = ['us-pdx-1', 'us-was-1', 'eu-lon-1', 'eu-fra-1']
export const EU_REGIONS = ['eu-lon-1', 'eu-fra-1']
/** A model whose maxToken cap (1 token a month) is exhausted by its first request: proves accounting is on. */
export const TINY_MODEL = 'tiny'

export const sha256 = s => `sha256:${createHash('sha256').update(s).digest('hex')}`

const integration = upstream => ({ name: 'up', provider: 'openai', baseUrl: upstream, apiKey: UPSTREAM_CREDENTIAL })
const serviceAccount = (keys, withClient) => ({
  name: 'bench-sa',
  ...(withClient ? { clientId: CLIENT_ID, clientSecretHash: sha256(CLIENT_SECRET) } : {}),
  apiKeys: keys.map((k, i) => ({ name: `bench-key-${i}`, hash: sha256(k) }))
})
const model = (name, extra = {}) => ({ name, runtime: { type: 'openai', model: 'm' }, integrationConnections: ['up'], ...extra })
const oneDeployment = { deployments: [{ region: 'us-pdx-1' }] }
// 4 regions × 3 deployments; the first listed is in a region the policies forbid, so a gateway
// that ignores policies (picks the first) is caught by the check.
const twelveDeployments = () => REGIONS.flatMap(r => ['a', 'b', 'c'].map(x => ({ region: r, name: `${r}-${x}` })))
const POLICIES = [
  { name: 'eu-only', type: 'location', locations: [{ type: 'continent', name: 'EU' }] },
  { name: 'cpu-x86', type: 'flavor', flavors: [{ type: 'cpu', name: 'x86' }] }
]
const TOKEN_POLICIES = [
  // never reached in a run: the cost of counting, not of refusing, is measured
  { name: 'tokens', type: 'maxToken', maxTokens: { granularity: 'minute', total: 1_000_000_000_000 } },
  { name: 'tiny-cap', type: 'maxToken', maxTokens: { granularity: 'month', total: 1 } }
]
const RTT = { 'us-pdx-1': { 'us-was-1': 60, 'eu-lon-1': 140, 'eu-fra-1': 150 }, 'us-was-1': { 'eu-lon-1': 75, 'eu-fra-1': 85 }, 'eu-lon-1': { 'eu-fra-1': 12 } }

function base (server = {}) {
  return { version: 1, server: { region: 'us-pdx-1', accessLog: true, ...server } }
}

/** name → config object (small configs), built for an upstream base URL. */
export function smallConfigs (upstream, { redisPrefix } = {}) {
  const ws = (extra) => ({ name: WORKSPACE, integrations: [integration(upstream)], ...extra })
  const routed = (nModels, tokens, usage) => ({
    ...base(),
    network: { rtt: RTT },
    ...(usage ? { usage } : {}),
    workspaces: [ws({
      serviceAccounts: [serviceAccount([BENCH_KEY], false)],
      policies: tokens ? [...POLICIES, ...TOKEN_POLICIES] : POLICIES,
      models: [
        model(MODEL, { policies: tokens ? ['eu-only', 'cpu-x86', 'tokens'] : ['eu-only', 'cpu-x86'], deployments: twelveDeployments(), routing: { strategy: 'latency' } }),
        ...(tokens ? [model(TINY_MODEL, { policies: ['tiny-cap'], ...oneDeployment })] : []),
        ...Array.from({ length: nModels - 1 }, (_, i) => model(`filler-${i}`, { policies: ['eu-only', 'cpu-x86'], deployments: twelveDeployments(), routing: { strategy: 'latency' } }))
      ]
    })]
  })
  return {
    open: { ...base(), workspaces: [ws({ models: [model(MODEL, oneDeployment)] })] },
    'open-nolog': { ...base({ accessLog: false }), workspaces: [ws({ models: [model(MODEL, oneDeployment)] })] },
    key: { ...base(), workspaces: [ws({ serviceAccounts: [serviceAccount([BENCH_KEY], false)], models: [model(MODEL, oneDeployment)] })] },
    jwt: { ...base(), workspaces: [ws({ serviceAccounts: [serviceAccount([BENCH_KEY], true)], models: [model(MODEL, oneDeployment)] })] },
    policies: routed(1, false),
    'models-1000': routed(1000, false),
    'full-memory': routed(1, true),
    'full-redis': routed(1, true, { redis: 'redis://127.0.0.1:6379', keyPrefix: redisPrefix ?? 'agnet-bench:', failMode: 'closed' })
  }
}

/** Connections to the upstream's /kb answers (about 1 KB, in each provider's own form). */
const kbIntegrations = upstream => [
  { name: 'up-kb', provider: 'openai', baseUrl: `${upstream}/kb`, apiKey: UPSTREAM_CREDENTIAL },
  { name: 'up-kb-anthropic', provider: 'anthropic', baseUrl: `${upstream}/kb`, apiKey: UPSTREAM_CREDENTIAL }
]

/**
 * Configs for bench/ab.js: one workspace holding a single-deployment model, the same model
 * routed among 12 deployments by policies, and the routed model metered by maxToken, so one
 * agnet process serves every variant and the variants are compared under the same
 * conditions (same process, same JIT, same moment). The small config also
 * holds the mk3 variants (pass-1k, mk3pass-1k, mk3-1k) on the upstream's /kb answers. `big` adds 997 routed
 * filler models.
 */
export function abConfigs (upstream) {
  // a fresh object per model: shared ones would be written as YAML aliases
  const routed = () => ({ policies: ['eu-only', 'cpu-x86'], deployments: twelveDeployments(), routing: { strategy: 'latency' } })
  const cfg = fillers => ({
    ...base(),
    network: { rtt: RTT },
    workspaces: [{
      name: WORKSPACE,
      integrations: [integration(upstream), ...(fillers === 0 ? kbIntegrations(upstream) : [])],
      serviceAccounts: [serviceAccount([BENCH_KEY], false)],
      policies: [...POLICIES, TOKEN_POLICIES[0]],
      models: [
        model('single', oneDeployment),
        model('routed', routed()),
        model('metered', { ...routed(), policies: ['eu-only', 'cpu-x86', 'tokens'] }),
        // mk3: the same 1 KB chat passed through by a plain OpenAI model, by an mk3 OpenAI model
        // (body parsed, `model` replaced) and translated by an mk3 Anthropic model
        ...(fillers === 0
          ? [
              { ...model('pass-1k', oneDeployment), integrationConnections: ['up-kb'] },
              { name: 'mk3pass-1k', runtime: { type: 'openai', model: 'gpt-4o-mini', generation: 'mk3' }, integrationConnections: ['up-kb'], ...oneDeployment },
              { name: 'mk3-1k', runtime: { type: 'anthropic', model: 'claude-3-5-haiku-latest', generation: 'mk3' }, integrationConnections: ['up-kb-anthropic'], ...oneDeployment }
            ]
          : []),
        ...Array.from({ length: fillers }, (_, i) => model(`filler-${i}`, routed()))
      ]
    }]
  })
  // The small config with a fault in force on another model: the attempt stage looks the
  // deployment up in the fault table and finds nothing. With no fault at all it only checks
  // that the table is null, so this bounds what the fault check can cost.
  const faulted = cfg(0)
  faulted.network = { ...faulted.network, faults: [{ name: 'elsewhere', workspace: WORKSPACE, model: 'metered', effect: 'latency', ms: 0 }] }
  return { small: cfg(0), big: cfg(997), faulted }
}

export const SCALE = { workspaces: 10_000, modelsPerWorkspace: 10, keysPerWorkspace: 10 }

/**
 * 10,000 workspaces × 10 models and 100,000 service-account keys (hashes). The bench workspace
 * and key are among them, so requests are byte-for-byte those of the small `key` config.
 * Written one workspace per line (YAML flow style) so a 20 MB file is generated in a blink.
 */
export function writeScaleConfig (file, upstream, scale = SCALE) {
  const out = fs.openSync(file, 'w')
  const head = YAML.stringify(base()).trimEnd()
  fs.writeSync(out, `# generated by bench/configs.js: ${scale.workspaces} workspaces × ${scale.modelsPerWorkspace} models, ${scale.workspaces * scale.keysPerWorkspace} keys\n${head}\nworkspaces:\n`)
  for (let w = 0; w < scale.workspaces; w++) {
    const name = w === 0 ? WORKSPACE : `w${w}`
    const keys = Array.from({ length: scale.keysPerWorkspace }, (_, i) => (w === 0 && i === 0 ? BENCH_KEY : `agnet_bench_${name}_${i}`))
    const models = Array.from({ length: scale.modelsPerWorkspace }, (_, i) => model(i === 0 ? MODEL : `m${i}`, oneDeployment))
    const ws = { name, integrations: [integration(upstream)], serviceAccounts: [serviceAccount(keys, false)], models }
    fs.writeSync(out, `  - ${JSON.stringify(ws)}\n`)
  }
  fs.closeSync(out)
}

export function writeConfig (dir, name, config) {
  const file = path.join(dir, `${name}.yaml`)
  fs.writeFileSync(file, `# generated by bench/configs.js\n${YAML.stringify(config)}`)
  return file
}

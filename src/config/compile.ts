// Step three of the config pipeline: a validated ConfigInput → a frozen Runtime of Maps and
// precomputed decisions (header sets, dispatchers, timeouts in ms). Problems that the schema
// cannot see (duplicates, dangling references, reserved names) are reported with their place.
import { dirname } from 'node:path'
import type { ConfigInput, DeploymentInput, ModelInput, WorkspaceInput } from './schema.js'
import type { RtDeployment, RtFlavor, RtIntegration, RtModel, RtPolicy, RtRegion, RtRouting, RtServer, RtTimeouts, RtWorkspace, Runtime } from '../core/runtime.js'
import type { CompileContext } from './compile-context.js'
import { ConfigError, type ConfigProblem, type LoadedConfig } from './load.js'
import { DEFAULT_ROUTING, DEFAULT_TIMEOUTS, RESERVED_WORKSPACE_NAMES, providerInfo } from './defaults.js'
import { DEFAULTS, byteCount, durationMs, parseBytes, parseDuration } from './default-values.js'
import { serverEnvOverrides } from './env-overrides.js'
import { compileIdentity } from '../auth/compile.js'
import { compileNetwork } from '../routing/compile.js'
import { compileUsage } from '../usage/compile.js'
import type { DispatcherRegistry } from '../proxy/dispatchers.js'
import { compileFaults } from '../faults/compile.js'

export interface CompileOptions {
  dispatchers: DispatcherRegistry
  /** Base URLs of agnet's mock providers by region, for "mock://<region>" URLs. */
  mockUrls?: ReadonlyMap<string, string>
  generation?: number
  env?: NodeJS.ProcessEnv
  /** --port / AGNET_PORT, which win over the file. */
  portOverride?: number
}

const SERVER = DEFAULTS.server
const HEALTH_INTERVAL_MS = durationMs(DEFAULTS.healthCheck.interval)
const BODY_LIMIT = byteCount(SERVER.bodyLimit)
const SHUTDOWN_GRACE_MS = durationMs(SERVER.shutdownGrace)

function flavorsOf (list: ReadonlyArray<{ readonly type: 'cpu' | 'gpu'; readonly name: string }> | undefined): RtFlavor[] {
  return (list ?? DEFAULTS.regionFlavors).map(f => Object.freeze({ type: f.type, name: f.name.toLowerCase() }))
}

function compileRegions (input: ConfigInput, ctx: CompileContext): Map<string, RtRegion> {
  const out = new Map<string, RtRegion>()
  const list = input.regions ?? DEFAULTS.regions
  list.forEach((r, i) => {
    if (out.has(r.name)) ctx.report(['regions', i, 'name'], `region "${r.name}" is defined twice`)
    out.set(r.name, Object.freeze({
      name: r.name,
      location: r.location ?? r.name,
      country: r.country.toUpperCase(),
      continent: r.continent.toUpperCase(),
      flavors: Object.freeze(flavorsOf(r.flavors))
    }))
  })
  return out
}

function compileTimeouts (base: RtTimeouts, t: ModelInput['timeouts']): RtTimeouts {
  if (t === undefined) return base
  return Object.freeze({
    connectMs: parseDuration(t.connect, base.connectMs),
    firstByteMs: parseDuration(t.firstByte, base.firstByteMs),
    idleMs: parseDuration(t.idle, base.idleMs),
    totalMs: parseDuration(t.total, base.totalMs)
  })
}

function compileRouting (base: RtRouting, r: ModelInput['routing']): RtRouting {
  if (r === undefined) return base
  return Object.freeze({
    strategy: r.strategy ?? base.strategy,
    maxAttempts: r.maxAttempts ?? base.maxAttempts,
    budgetMs: parseDuration(r.budget, base.budgetMs),
    replayBodyLimit: parseBytes(r.replayBodyLimit, base.replayBodyLimit),
    ejectAfter: r.ejectAfter ?? base.ejectAfter,
    ejectForMs: parseDuration(r.ejectFor, base.ejectForMs),
    retryNonIdempotent: r.retryNonIdempotent ?? base.retryNonIdempotent
  })
}

const SAFE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

interface ModelScope { ws: WorkspaceInput; wi: number; integrations: ReadonlyMap<string, RtIntegration>; regions: ReadonlyMap<string, RtRegion> }

function compileDeployment (
  d: DeploymentInput, di: number, model: ModelInput, mi: number, scope: ModelScope,
  timeouts: RtTimeouts, ctx: CompileContext, opts: CompileOptions, server: RtServer
): RtDeployment | null {
  const at = (field: string): Array<string | number> => ['workspaces', scope.wi, 'models', mi, 'deployments', di, field]
  const region = scope.regions.get(d.region)
  if (region === undefined) {
    ctx.report(at('region'), `unknown region "${d.region}"; known: ${[...scope.regions.keys()].join(', ')}`)
    return null
  }
  const integrationName = d.integration ?? model.integrationConnections?.[0]
  const integration = integrationName === undefined ? undefined : scope.integrations.get(integrationName)
  if (integrationName !== undefined && integration === undefined) {
    ctx.report(d.integration === undefined ? ['workspaces', scope.wi, 'models', mi, 'integrationConnections', 0] : at('integration'), `unknown integration connection "${integrationName}" in workspace "${scope.ws.name}"`)
    return null
  }
  const providerType = integration?.provider ?? model.runtime.type
  const provider = providerInfo(providerType)
  let raw = d.url ?? integration?.baseUrl ?? provider.baseUrl
  if (raw.startsWith('mock://')) {
    const mockRegion = raw.slice('mock://'.length).replace(/\/$/, '') || region.name
    const resolved = opts.mockUrls?.get(mockRegion)
    // Without a fleet (e.g. `agnet config check`) the URL is still checked for shape.
    raw = resolved ?? `http://127.0.0.1:9/__mock/${mockRegion}`
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    ctx.report(d.url === undefined ? ['workspaces', scope.wi, 'models', mi] : at('url'), `"${raw}" is not an absolute URL`)
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.report(at('url'), `unsupported scheme "${url.protocol}"; expected http, https or mock`)
    return null
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    ctx.report(at('url'), 'a deployment URL carries no credentials, query or fragment; put credentials in an integration connection')
    return null
  }
  const setHeaders: string[] = []
  const apiKey = integration?.input.apiKey
  if (apiKey !== undefined) {
    if (!SAFE_HEADER_VALUE.test(apiKey)) ctx.report(['workspaces', scope.wi, 'integrations'], `integration "${integration?.name}" has an apiKey with control characters`)
    switch (provider.credential) {
      case 'bearer': setHeaders.push('authorization', `Bearer ${apiKey}`); break
      case 'x-api-key': setHeaders.push('x-api-key', apiKey); break
      case 'x-goog-api-key': setHeaders.push('x-goog-api-key', apiKey); break
      case 'api-key': setHeaders.push('api-key', apiKey); break
    }
  }
  const org = integration?.input.organization ?? model.runtime.organization
  if (org !== undefined && provider.credential === 'bearer') setHeaders.push('openai-organization', org)
  for (const [k, v] of Object.entries(integration?.input.headers ?? {})) setHeaders.push(k.toLowerCase(), v)
  const defaultHeaders: string[] = []
  for (const [k, v] of provider.defaultHeaders) defaultHeaders.push(k, v)
  const name = d.name ?? d.region
  const basePath = url.pathname.replace(/\/+$/, '')
  return Object.freeze({
    id: `${scope.ws.name}/${model.name}/${name}`,
    name,
    index: di,
    region,
    url: url.origin + basePath,
    origin: url.origin,
    basePath,
    host: url.host,
    dispatcher: opts.dispatchers.get(url.origin, timeouts.connectMs, server.upstreamConnections),
    weight: d.weight ?? DEFAULTS.deployment.weight,
    priority: d.priority ?? di,
    flavors: Object.freeze(d.flavors === undefined ? region.flavors : flavorsOf(d.flavors)),
    provider: providerType,
    credential: provider.credential,
    setHeaders: Object.freeze(setHeaders),
    defaultHeaders: Object.freeze(defaultHeaders),
    healthCheck: d.healthCheck === undefined ? null : Object.freeze({ path: d.healthCheck.path, intervalMs: parseDuration(d.healthCheck.interval, HEALTH_INTERVAL_MS) })
  })
}

export function compileRuntime (loaded: LoadedConfig, opts: CompileOptions): Runtime {
  const input = loaded.input
  const problems: ConfigProblem[] = []
  const ctx: CompileContext = {
    problems,
    env: opts.env ?? process.env,
    baseDir: loaded.files.length > 0 && loaded.source === loaded.files[0] ? dirname(loaded.source) : loaded.source,
    report (path, message) { problems.push({ ...loaded.locate(path), message }) }
  }
  const regions = compileRegions(input, ctx)
  const s = input.server ?? {}
  const port = opts.portOverride ?? s.port ?? SERVER.port
  const fromEnv = serverEnvOverrides(ctx.env, problems)
  const server: RtServer = Object.freeze({
    port,
    host: s.host ?? SERVER.host,
    publicUrl: s.publicUrl ?? null,
    region: s.region ?? SERVER.region,
    trustOriginHeader: s.trustOriginHeader ?? SERVER.trustOriginHeader,
    bodyLimit: parseBytes(s.bodyLimit, BODY_LIMIT),
    maxHeaderBytes: s.maxHeaderBytes ?? SERVER.maxHeaderBytes,
    logLevel: fromEnv.logLevel ?? s.logLevel ?? SERVER.logLevel,
    accessLog: fromEnv.accessLog ?? s.accessLog ?? SERVER.accessLog,
    shutdownGraceMs: parseDuration(s.shutdownGrace, SHUTDOWN_GRACE_MS),
    upstreamConnections: s.upstreamConnections ?? SERVER.upstreamConnections
  })
  const baseTimeouts = compileTimeouts(DEFAULT_TIMEOUTS, input.defaults?.timeouts)
  const baseRouting = compileRouting(DEFAULT_ROUTING, input.defaults?.routing)

  const workspaces = new Map<string, RtWorkspace>()
  const deployments: RtDeployment[] = []
  input.workspaces.forEach((ws, wi) => {
    if (RESERVED_WORKSPACE_NAMES.has(ws.name)) ctx.report(['workspaces', wi, 'name'], `"${ws.name}" is reserved for agnet's own paths; choose another workspace name`)
    if (workspaces.has(ws.name)) ctx.report(['workspaces', wi, 'name'], `workspace "${ws.name}" is defined twice`)

    const integrations = new Map<string, RtIntegration>()
    ;(ws.integrations ?? []).forEach((ic, ii) => {
      if (integrations.has(ic.name)) ctx.report(['workspaces', wi, 'integrations', ii, 'name'], `integration connection "${ic.name}" is defined twice`)
      integrations.set(ic.name, Object.freeze({ name: ic.name, provider: ic.provider, baseUrl: ic.baseUrl ?? null, input: ic }))
    })
    const policies = new Map<string, RtPolicy>()
    ;(ws.policies ?? []).forEach((p, pi) => {
      if (policies.has(p.name)) ctx.report(['workspaces', wi, 'policies', pi, 'name'], `policy "${p.name}" is defined twice`)
      const need = p.type === 'location' ? 'locations' : p.type === 'flavor' ? 'flavors' : 'maxTokens'
      if (p[need] === undefined) ctx.report(['workspaces', wi, 'policies', pi], `a ${p.type} policy needs "${need}"`)
      policies.set(p.name, Object.freeze({ name: p.name, type: p.type, input: p, dryRun: p.dryRun ?? DEFAULTS.policy.dryRun }))
    })
    const models = new Map<string, RtModel>()
    const scope: ModelScope = { ws, wi, integrations, regions }
    ;(ws.models ?? []).forEach((m, mi) => {
      if (models.has(m.name)) ctx.report(['workspaces', wi, 'models', mi, 'name'], `model "${m.name}" is defined twice in workspace "${ws.name}"`)
      const attached: RtPolicy[] = []
      ;(m.policies ?? []).forEach((pn, pi) => {
        const p = policies.get(pn)
        if (p === undefined) ctx.report(['workspaces', wi, 'models', mi, 'policies', pi], `unknown policy "${pn}" in workspace "${ws.name}"`)
        else attached.push(p)
      })
      const timeouts = compileTimeouts(baseTimeouts, m.timeouts)
      const deploymentInputs: DeploymentInput[] = m.deployments ?? [...regions.keys()].map(region => ({ region }))
      const compiled: RtDeployment[] = []
      const seen = new Set<string>()
      deploymentInputs.forEach((d, di) => {
        const dep = compileDeployment(d, di, m, mi, scope, timeouts, ctx, opts, server)
        if (dep === null) return
        if (seen.has(dep.name)) ctx.report(['workspaces', wi, 'models', mi, 'deployments', di], `two deployments are named "${dep.name}"; give them distinct names`)
        seen.add(dep.name)
        compiled.push(dep)
      })
      if (compiled.length === 0 && problems.length === 0) ctx.report(['workspaces', wi, 'models', mi], 'a model needs at least one deployment')
      deployments.push(...compiled)
      models.set(m.name, Object.freeze({
        key: `${ws.name}/${m.name}`,
        name: m.name,
        workspace: ws.name,
        enabled: m.enabled ?? DEFAULTS.model.enabled,
        runtimeType: m.runtime.type,
        runtimeModel: m.runtime.model ?? null,
        mk3: m.runtime.generation === 'mk3' ? Object.freeze({ provider: m.runtime.type, runtimeModel: m.runtime.model ?? m.name }) : null,
        policies: Object.freeze(attached),
        deployments: Object.freeze(compiled),
        routing: compileRouting(baseRouting, m.routing),
        timeouts,
        bodyLimit: parseBytes(m.bodyLimit, server.bodyLimit),
        input: m
      }))
    })
    workspaces.set(ws.name, Object.freeze({
      name: ws.name,
      displayName: ws.displayName ?? ws.name,
      region: ws.region ?? server.region,
      models,
      policies,
      integrations,
      input: ws
    }))
  })

  const identity = compileIdentity(input, ctx)
  const network = compileNetwork(input, regions, workspaces, ctx)
  const usage = compileUsage(input, ctx)
  const partial = { regions, workspaces, deployments }
  const faults = problems.length > 0 ? [] : compileFaults(input, partial, ctx)
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze({
    faults,
    generation: opts.generation ?? 1,
    loadedAt: Date.now(),
    source: loaded.source,
    files: Object.freeze([...loaded.files]),
    input,
    server,
    regions,
    workspaces,
    deployments: Object.freeze(deployments),
    identity,
    network,
    usage
  })
}

// Compiles the network part of the config: the RTT rows of every origin, and per model the
// deployments its location and flavor policies allow (policies do not depend on the
// request, so the hot path only looks the answer up).
import type { ConfigInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import { DEFAULTS } from '../config/default-values.js'
import { ConfigError } from '../config/problems.js'
import type { RtRegion, RtWorkspace } from '../core/runtime.js'
import { EdgeError } from '../core/errors.js'
import type { ModelRoute, NetworkRuntime, OriginInfo } from '../core/runtime.js'
import { compileRtt } from './network.js'
import { compilePlacementPolicy, judgeDeployment, violationMessage, type PlacementPolicy, type PolicyProblem } from './policies.js'

export function compileNetwork (input: ConfigInput, regions: ReadonlyMap<string, RtRegion>, workspaces: ReadonlyMap<string, RtWorkspace>, ctx: CompileContext): NetworkRuntime {
  const origin = input.server?.region ?? DEFAULTS.server.region
  if (!regions.has(origin)) ctx.report(['server', 'region'], `unknown region "${origin}"; known: ${[...regions.keys()].join(', ')}`)
  const net = compileRtt(input, regions, ctx)

  const knownFlavors = new Set<string>()
  for (const r of regions.values()) for (const f of r.flavors) knownFlavors.add(`${f.type}:${f.name}`)
  for (const ws of workspaces.values()) for (const m of ws.models.values()) for (const d of m.deployments) for (const f of d.flavors) knownFlavors.add(`${f.type}:${f.name}`)

  const models = new Map<string, ModelRoute>()
  const wsIndex = new Map(input.workspaces.map((w, i) => [w.name, i]))
  for (const ws of workspaces.values()) {
    const wi = wsIndex.get(ws.name) ?? 0
    // Each policy is checked once, where it is written, not once per model using it.
    const placement = new Map<string, PlacementPolicy>()
    for (const p of ws.policies.values()) {
      const problems: PolicyProblem[] = []
      const compiled = compilePlacementPolicy(p, regions, knownFlavors, problems)
      if (compiled === null) continue
      placement.set(p.name, compiled)
      const pi = (ws.input.policies ?? []).findIndex(x => x.name === p.name)
      for (const pr of problems) ctx.report(['workspaces', wi, 'policies', pi < 0 ? 0 : pi, ...pr.at], pr.message)
    }
    for (const m of ws.models.values()) {
      const policies: PlacementPolicy[] = []
      for (const p of m.policies) {
        const c = placement.get(p.name)
        if (c !== undefined) policies.push(c)
      }
      const verdicts = m.deployments.map(d => judgeDeployment(policies, d))
      const allowed = m.deployments.filter((_d, i) => verdicts[i]?.allowed === true)
      const regionIdx = new Int32Array(allowed.map(d => net.regionIndex.get(d.region.name) ?? 0))
      const violation = allowed.length === 0 && m.deployments.length > 0
        ? new EdgeError('POLICY_VIOLATION', violationMessage(m.name, policies, m.deployments))
        : null
      models.set(m.key, Object.freeze({
        key: m.key,
        strategy: m.routing.strategy,
        allowed: Object.freeze(allowed),
        regionIdx,
        verdicts: Object.freeze(verdicts),
        violation,
        policies: Object.freeze(policies.map(p => p.name))
      }))
    }
  }

  const fallbackOrigin: OriginInfo | undefined = net.origins.get(origin) ?? net.origins.get(net.regionNames[0] ?? '') ?? net.origins.values().next().value
  // No origin at all: the network has no region, which was reported above as an unknown server.region.
  if (fallbackOrigin === undefined) throw new ConfigError(ctx.problems)
  return Object.freeze({
    defaultOrigin: origin,
    defaultOriginInfo: fallbackOrigin,
    trustOriginHeader: input.server?.trustOriginHeader ?? DEFAULTS.server.trustOriginHeader,
    applyDelay: input.network?.applyDelay ?? DEFAULTS.network.applyDelay,
    regionNames: net.regionNames,
    regionIndex: net.regionIndex,
    origins: net.origins,
    models
  })
}

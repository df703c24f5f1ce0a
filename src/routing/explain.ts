// Explain: every deployment of a model with its verdict and the reason (which policy
// excluded it, its health, its expected latency from an origin) and the one a request from
// there would be sent to now. The selection is the strategy's own, computed without
// committing anything, so asking never changes what traffic does.
import type { RtDeployment, RtModel, Runtime } from '../core/runtime.js'
import type { RoutingServices } from './plan.js'
import type { OriginInfo } from '../core/runtime.js'
import { expectedLatency } from './strategies.js'
import { TTFB_WINDOW } from './health.js'

export type Verdict = 'chosen' | 'failover' | 'excluded' | 'ejected' | 'unhealthy'

export interface DeploymentExplanation {
  name: string
  region: string
  country: string
  continent: string
  flavors: string[]
  weight: number
  priority: number
  verdict: Verdict
  reason: string
  /** Position in the order a request would try (1 = chosen); null when not tried. */
  rank: number | null
  rttMs: number
  /** Smoothed measured time to first byte; null until measured. */
  ttfbMs: number | null
  samples: number
  /** RTT + measured TTFB (the latency strategy's key); null for excluded deployments. */
  expectedMs: number | null
  consecutiveFailures: number
  /** How much longer an ejected deployment stays out, ms. */
  ejectedForMs: number
  lastError: string | null
  /** Injected network faults on this deployment: "name (effect)". */
  faults: string[]
}

export interface RouteExplanation {
  workspace: string
  model: string
  origin: { name: string; kind: 'region' | 'country'; country: string; continent: string }
  strategy: string
  policies: string[]
  maxAttempts: number
  budgetMs: number
  chosen: string | null
  /** The latency strategy tries a deployment it has not measured lately once every so many
   * requests, so it can win its traffic back: the name when the next request is such a try
   * (it is then `chosen`, ahead of the lowest expected latency), else null. */
  explored: string | null
  order: string[]
  /** What a request would be answered instead of being forwarded. */
  error: { code: string; status: number; message: string } | null
  deployments: DeploymentExplanation[]
  /** Injected network faults touching this model's deployments (never real failures). */
  faults: Array<{ name: string; effect: string; deployments: string[] }>
}

/** The injected faults in force on a deployment (the fault registry answers; routing only shows them). */
export type FaultsOn = (dep: RtDeployment) => ReadonlyArray<{ readonly name: string; readonly effect: string }>

const round = (n: number): number => Math.round(n * 100) / 100

export function explainRoute (rt: Runtime, services: RoutingServices, model: RtModel, origin: OriginInfo, faultsOn: FaultsOn | null = null): RouteExplanation {
  const route = rt.network.models.get(model.key)
  const now = services.now()
  const out: RouteExplanation = {
    workspace: model.workspace,
    model: model.name,
    origin: { name: origin.name, kind: origin.kind, country: origin.country, continent: origin.continent },
    strategy: model.routing.strategy,
    policies: route === undefined ? [] : [...route.policies],
    maxAttempts: model.routing.maxAttempts,
    budgetMs: model.routing.budgetMs,
    chosen: null,
    explored: null,
    order: [],
    error: null,
    deployments: [],
    faults: []
  }
  const selection = route === undefined || route.allowed.length === 0 ? null : services.peek(route, origin)
  const rank = new Map<string, number>()
  if (route !== undefined && selection !== null) {
    selection.order.forEach((i, k) => {
      const d = route.allowed[i]
      if (d !== undefined) { rank.set(d.id, k + 1); out.order.push(d.name) }
    })
  }
  out.chosen = out.order[0] ?? null
  if (route !== undefined && selection !== null && selection.explored >= 0) out.explored = route.allowed[selection.explored]?.name ?? null
  model.deployments.forEach((d, di) => {
    const verdict = route?.verdicts[di]
    const h = services.healthOf(d)
    const idx = rt.network.regionIndex.get(d.region.name)
    const rttMs = idx === undefined ? 0 : origin.rtt[idx] ?? 0
    const measured = h.samples > 0 && !Number.isNaN(h.ttfbMs)
    const r = rank.get(d.id) ?? null
    let v: Verdict
    let reason: string
    if (verdict === undefined || !verdict.allowed) {
      v = 'excluded'
      reason = verdict?.reason ?? 'excluded'
    } else if (h.probeDown) {
      v = 'unhealthy'
      reason = `failing its health probe${h.lastError === null ? '' : ` (${h.lastError})`}`
    } else if (h.ejectedUntil > now) {
      v = 'ejected'
      reason = `ejected for ${Math.ceil(h.ejectedUntil - now)} ms more after ${h.ejections} ejection(s)${h.lastError === null ? '' : `; last error ${h.lastError}`}`
    } else {
      v = r === 1 ? 'chosen' : 'failover'
      const exp = expectedLatency({ rttMs, weight: d.weight, priority: d.priority }, h)
      const why = model.routing.strategy === 'latency'
        ? `expected ${round(exp)} ms = RTT ${round(rttMs)} ms + ${measured ? `median TTFB ${round(h.ttfbMs)} ms (last ${Math.min(h.samples, TTFB_WINDOW)} of ${h.samples} answers)` : 'TTFB not measured yet (explored first)'}`
        : model.routing.strategy === 'priority' ? `priority ${d.priority}` : `weight ${d.weight}`
      reason = `${verdict.reason}; ${why}${out.explored === d.name ? `; tried next to measure it again (not answered for a while)` : ''}`
    }
    if (verdict !== undefined && verdict.allowed && verdict.dryRunExcludedBy.length > 0 && !reason.includes('dry run')) reason += `; dry run: ${verdict.dryRunExcludedBy.join(', ')} would exclude it`
    out.deployments.push({
      name: d.name,
      region: d.region.name,
      country: d.region.country,
      continent: d.region.continent,
      flavors: d.flavors.map(f => `${f.type}:${f.name}`),
      weight: d.weight,
      priority: d.priority,
      verdict: v,
      reason,
      rank: v === 'excluded' ? null : r,
      rttMs: round(rttMs),
      ttfbMs: measured ? round(h.ttfbMs) : null,
      samples: h.samples,
      expectedMs: v === 'excluded' ? null : round(rttMs + (measured ? h.ttfbMs : 0)),
      consecutiveFailures: h.failures,
      ejectedForMs: h.ejectedUntil > now ? Math.ceil(h.ejectedUntil - now) : 0,
      lastError: h.lastError,
      faults: (faultsOn?.(d) ?? []).map(f => `${f.name} (${f.effect})`)
    })
    for (const f of faultsOn?.(d) ?? []) {
      let entry = out.faults.find(x => x.name === f.name)
      if (entry === undefined) out.faults.push(entry = { name: f.name, effect: f.effect, deployments: [] })
      entry.deployments.push(d.name)
    }
  })
  if (route?.violation != null) out.error = { code: route.violation.code, status: route.violation.status, message: route.violation.message }
  else if (out.chosen === null) out.error = { code: 'WORKLOAD_UNAVAILABLE', status: 404, message: 'Every deployment the policies allow for this model is failing or ejected right now. Retry later.' }
  return out
}

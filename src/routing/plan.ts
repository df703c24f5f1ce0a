// Stage: which deployments, in which order. Resolves the caller's origin, reads the model's
// precompiled policy verdict, and asks the model's strategy for the healthy allowed
// deployments in the order to try them (a RoutePlan). RoutingServices holds what is learnt per
// deployment (latency, failures, ejections, probes), keyed by deployment id so it survives
// reloads.
import type { Logger } from 'pino'
import { EdgeError } from '../core/errors.js'
import type { RtDeployment, RtModel, Runtime } from '../core/runtime.js'
import type { ModelRoute, OriginInfo } from '../core/runtime.js'
import { resolveOrigin } from './network.js'
import { DeploymentHealth, isHealthy, recordFailure, recordProbe, recordSuccess } from './health.js'
import { STRATEGIES, type CandidateView, type Selection } from './strategies.js'
import { HealthProbes } from './probes.js'

/** The latency strategy explores a stale deployment at most once per this many selections. */
export const EXPLORE_EVERY = 16

export interface RoutingOptions {
  /** Monotonic clock in ms (tests drive it by hand). */
  now?: () => number
  rng?: () => number
  exploreEvery?: number
  logger?: Logger
}

/** A model's selection counters, kept across reloads like the deployments' stats (their lastSampleSeq refers to them). */
class ModelCounters {
  seq = 0
  lastExploreSeq = 0
}

/** Per-model learning state: the selection counters and the health of each allowed deployment. */
class ModelState {
  readonly counters: ModelCounters
  readonly health: DeploymentHealth[]
  /** Candidate views per origin: RTT differs by origin, the rest is static. */
  private readonly views = new Map<OriginInfo, CandidateView[]>()
  private readonly route: ModelRoute

  constructor (route: ModelRoute, health: DeploymentHealth[], counters: ModelCounters) {
    this.route = route
    this.health = health
    this.counters = counters
  }

  viewsFor (origin: OriginInfo): CandidateView[] {
    let v = this.views.get(origin)
    if (v === undefined) {
      const r = this.route
      v = []
      for (let i = 0; i < r.allowed.length; i++) {
        const d = r.allowed[i]
        const idx = r.regionIdx[i]
        const rttMs = idx === undefined ? undefined : origin.rtt[idx]
        if (d === undefined || rttMs === undefined) throw new Error(`routing: ${r.key} has no region index for its deployment ${i}`)
        v.push(Object.freeze({ rttMs, weight: d.weight, priority: d.priority }))
      }
      this.views.set(origin, v)
    }
    return v
  }
}

interface Subscribable {
  readonly current: Runtime
  on (event: 'reloaded', fn: (rt: Runtime) => void): unknown
  off (event: 'reloaded', fn: (rt: Runtime) => void): unknown
}

export class RoutingServices {
  readonly now: () => number
  private readonly rng: () => number
  private readonly exploreEvery: number
  private readonly health = new Map<string, DeploymentHealth>()
  private readonly counters = new Map<string, ModelCounters>()
  /** The upstream each deployment id pointed at: a new URL under the same name starts afresh. */
  private readonly urls = new Map<string, string>()
  private readonly models = new WeakMap<ModelRoute, ModelState>()
  private readonly probes: HealthProbes
  private store: Subscribable | null = null
  private readonly onReload = (rt: Runtime): void => { this.sync(rt) }

  constructor (opts: RoutingOptions = {}) {
    this.now = opts.now ?? (() => performance.now())
    this.rng = opts.rng ?? Math.random
    this.exploreEvery = opts.exploreEvery ?? EXPLORE_EVERY
    this.probes = new HealthProbes((dep, up, reason) => { recordProbe(this.healthOf(dep), up, reason) }, opts.logger ?? null)
  }

  /** Follows the config: probes and stats follow the deployments of each new runtime. */
  attach (store: Subscribable): void {
    this.store = store
    this.sync(store.current)
    store.on('reloaded', this.onReload)
  }

  /** Keeps the stats of deployments still configured, drops the others, restarts probes. */
  sync (rt: Runtime): void {
    const live = new Set(rt.deployments.map(d => d.id))
    for (const id of this.health.keys()) if (!live.has(id)) this.health.delete(id)
    for (const id of this.urls.keys()) if (!live.has(id)) this.urls.delete(id)
    for (const d of rt.deployments) {
      const before = this.urls.get(d.id)
      if (before !== undefined && before !== d.url) this.health.delete(d.id)
      this.urls.set(d.id, d.url)
    }
    for (const key of this.counters.keys()) if (!rt.network.models.has(key)) this.counters.delete(key)
    this.probes.sync(rt.deployments)
  }

  healthOf (dep: RtDeployment): DeploymentHealth {
    let h = this.health.get(dep.id)
    if (h === undefined) this.health.set(dep.id, h = new DeploymentHealth(dep.id))
    return h
  }

  stateOf (route: ModelRoute): ModelState {
    let st = this.models.get(route)
    if (st === undefined) {
      let counters = this.counters.get(route.key)
      if (counters === undefined) this.counters.set(route.key, counters = new ModelCounters())
      st = new ModelState(route, route.allowed.map(d => this.healthOf(d)), counters)
      this.models.set(route, st)
    }
    return st
  }

  /** The selection for a caller at `origin`, without committing it (explain). */
  peek (route: ModelRoute, origin: OriginInfo): Selection {
    const st = this.stateOf(route)
    return STRATEGIES[route.strategy]({
      candidates: st.viewsFor(origin), health: st.health, now: this.now(), seq: st.counters.seq,
      lastExploreSeq: st.counters.lastExploreSeq, exploreEvery: this.exploreEvery, rng: this.rng
    })
  }

  /** Healthy allowed deployments, best first; commits the strategy's state. */
  select (route: ModelRoute, origin: OriginInfo): readonly RtDeployment[] {
    const allowed = route.allowed
    if (allowed.length === 1) {
      // One deployment: nothing to choose, only its health to check.
      const st = this.stateOf(route)
      st.counters.seq++
      const h = st.health[0]
      return h !== undefined && isHealthy(h, this.now()) ? allowed : EMPTY
    }
    const st = this.stateOf(route)
    const sel = this.peek(route, origin)
    st.counters.seq++
    if (sel.wrr !== null) {
      for (let i = 0; i < sel.wrr.length; i++) {
        const h = st.health[i]
        const w = sel.wrr[i]
        if (h !== undefined && w !== undefined) h.wrrCurrent = w
      }
    }
    if (sel.explored >= 0) st.counters.lastExploreSeq = st.counters.seq
    const out: RtDeployment[] = []
    for (const i of sel.order) {
      const d = allowed[i]
      if (d !== undefined) out.push(d)
    }
    return out
  }

  /** Seconds until the first allowed deployment is back in rotation (for Retry-After); 0 if unknown. */
  secondsUntilBack (route: ModelRoute): number {
    const st = this.stateOf(route)
    const now = this.now()
    let soonest = Number.POSITIVE_INFINITY
    for (const h of st.health) if (!h.probeDown && h.ejectedUntil > now && h.ejectedUntil < soonest) soonest = h.ejectedUntil
    return Number.isFinite(soonest) ? Math.max(1, Math.ceil((soonest - now) / 1000)) : 0
  }

  /** An attempt ended: a success feeds the latency average, a failure the ejection logic. */
  record (route: ModelRoute | null, dep: RtDeployment, ok: boolean, ttfbMs: number, retryAfterMs: number, reason: string, ejectAfter: number, ejectForMs: number): void {
    const h = this.healthOf(dep)
    if (ok) {
      const seq = route === null ? 0 : this.stateOf(route).counters.seq
      if (ttfbMs >= 0) recordSuccess(h, ttfbMs, seq, this.exploreEvery)
      else h.failures = 0
    } else {
      recordFailure(h, this.now(), ejectAfter, ejectForMs, retryAfterMs, reason)
    }
  }

  close (): void {
    this.probes.stop()
    if (this.store !== null) this.store.off('reloaded', this.onReload)
    this.store = null
  }
}

const EMPTY: readonly RtDeployment[] = Object.freeze([])
const NO_DEPLOYMENT = new EdgeError('WORKLOAD_UNAVAILABLE')
const NOTHING_HEALTHY = new EdgeError('WORKLOAD_UNAVAILABLE', 'Every deployment the policies allow for this model is failing or ejected right now. Retry later.')
const BAD_ORIGIN = new EdgeError('BAD_REQUEST', 'X-Agnet-Origin must be a region name (such as eu-fra-1) or an ISO 3166-1 alpha-2 country code (such as DE).')

/** The origin of a request: the trusted X-Agnet-Origin, else the gateway's region; null when the header names nothing. */
export function originOf (rt: Runtime, header: string | string[] | undefined): OriginInfo | null {
  const net = rt.network
  if (!net.trustOriginHeader || typeof header !== 'string' || header === '') return net.defaultOriginInfo
  return resolveOrigin(net.origins, header)
}

/** Where a request goes: its origin, its model's routing table, and the deployments to try. */
export interface RoutePlan {
  readonly origin: OriginInfo
  readonly route: ModelRoute
  /** Healthy allowed deployments, best first; empty when refused. */
  readonly candidates: readonly RtDeployment[]
  /** The answer instead of forwarding (a policy excludes every region, nothing healthy); null when there are candidates. */
  readonly refusal: EdgeError | null
}

/** Plans the route of a request for `model` from the caller at `originHeader` (X-Agnet-Origin). */
export function planRoute (rt: Runtime, model: RtModel, originHeader: string | string[] | undefined, services: RoutingServices): RoutePlan | EdgeError {
  const route = rt.network.models.get(model.key)
  if (route === undefined || model.deployments.length === 0) return NO_DEPLOYMENT
  const origin = originOf(rt, originHeader)
  if (origin === null) return BAD_ORIGIN
  if (route.violation !== null) return { origin, route, candidates: EMPTY, refusal: route.violation }
  const list = services.select(route, origin)
  if (list.length === 0) {
    // Tell the client when to come back: the first ejection that ends (not a probe failure).
    const after = services.secondsUntilBack(route)
    const refusal = after === 0 ? NOTHING_HEALTHY : new EdgeError('WORKLOAD_UNAVAILABLE', NOTHING_HEALTHY.message, { headers: { 'retry-after': String(after) } })
    return { origin, route, candidates: EMPTY, refusal }
  }
  return { origin, route, candidates: list, refusal: null }
}

/** Simulated RTT from an origin to a deployment's region (network.applyDelay). */
export function rttTo (rt: Runtime, origin: OriginInfo | null, dep: RtDeployment): number {
  if (origin === null) return 0
  const idx = rt.network.regionIndex.get(dep.region.name)
  return idx === undefined ? 0 : (origin.rtt[idx] ?? 0)
}

/** An attempt as the routing statistics learn from it. */
export interface AttemptReport {
  readonly route: ModelRoute | null
  readonly model: RtModel | null
  readonly deployment: RtDeployment | null
  /** Time to the upstream's response headers; -1 when none came. */
  readonly firstByteMs: number
  /** Code of the last upstream failure. */
  readonly failure: string | null
}

/**
 * Called when an attempt ends, so health and latency statistics can learn. `ok` = the
 * deployment answered something other than 5xx/429; its time to first byte is the sample.
 */
export function recordAttempt (services: RoutingServices, a: AttemptReport, ok: boolean, retryAfterMs = 0, reason: string | null = null): void {
  const dep = a.deployment
  const model = a.model
  if (dep === null || model === null) return
  services.record(a.route, dep, ok, a.firstByteMs, retryAfterMs, ok ? '' : (reason ?? a.failure ?? 'failed'), model.routing.ejectAfter, model.routing.ejectForMs)
}

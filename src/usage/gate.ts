// Stage: token-usage admission and settlement (Blaxel's maxToken policies).
//
// Admission asks the store, atomically over every maxToken policy of the model, whether a
// window is exhausted; a window counts what finished requests used plus a reservation for
// each request in flight (what the store learned of this model's requests, or before that an
// upper bound: estimate.ts), so a burst overshoots a limit by the estimate's error, not by the
// whole burst, from the first request of a new replica on. The request that
// crosses a limit completes; later ones get 429 POLICY_VIOLATION with Retry-After (seconds to
// the window's end) and x-should-retry: false. Settlement adds what the response reported
// (or an estimate) to the window current when the request ended and frees the reservation.
// Rejected requests add nothing. Dry-run policies are checked and reported, never enforced.
import type { Logger } from 'pino'
import { EdgeError } from '../core/errors.js'
import type { RtModel } from '../core/runtime.js'
import type { RtModelLimits, RtTokenLimit, TokenUsage, UsageRuntime, UsageStoreConfig } from '../core/usage.js'
import type { CheckResult, UsageStore } from './store.js'
import { MemoryUsageStore } from './store-memory.js'
import { RedisUsageStore } from './store-redis.js'
import { UsageMeter } from './extract.js'
import { coldReservation, type Reservation } from './estimate.js'
import { outputHintOf } from './output-hint.js'
import { ColdWaits } from './cold-wait.js'
import { isExhausted, policyHeaderAt, rateLimitHeaderOf } from './headers.js'

export interface UsageOptions {
  logger?: Logger | null
  /** The clock windows are computed with (ms since epoch); injectable for tests. */
  now?: () => number
}

/** Counters for /metrics and tests. */
export class UsageStats {
  admitted = 0
  refused = 0
  dryRunViolations = 0
  /** Store calls that failed or timed out (admission and settlement). */
  storeErrors = 0
  failedOpen = 0
  failedClosed = 0
  /** Refusals of a cold model's window that waited for its first settlement instead (cold-wait.ts). */
  coldWaits = 0
  settled = 0
  estimated = 0
  inputTokens = 0
  outputTokens = 0
  /** `ws/model/policy` → requests refused (or, for dry runs, that would have been). */
  readonly refusedByPolicy = new Map<string, number>()
  readonly dryRunByPolicy = new Map<string, number>()
}

/** What admission hands to settlement. */
export class UsageTicket implements Reservation {
  readonly limits: RtModelLimits
  readonly store: UsageStore
  /** Request body bytes and the most output it asks for (-1: unsaid), what the store reserves by. */
  readonly bytes: number
  readonly hint: number
  /** Reserved at admission (0 when the store could not be reached). */
  ri = 0
  ro = 0
  rt = 0
  learned = false
  /** Admitted with the cold reservation: its settlement may let waiting requests in. */
  cold = false
  meter: UsageMeter | null = null
  /** Admission time, by which the store keeps the reservation. */
  readonly at: number
  /** Response headers the admission decided (RateLimit-Policy, RateLimit, dry-run note): flat [name, value, ...]. */
  readonly headers: string[] = []

  constructor (limits: RtModelLimits, store: UsageStore, at: number, bytes: number, hint: number) {
    this.limits = limits
    this.store = store
    this.at = at
    this.bytes = bytes
    this.hint = hint
  }
}

const RETIRE_AFTER_MS = 60_000
const ERROR_LOG_EVERY_MS = 10_000

export class UsageServices {
  readonly now: () => number
  readonly stats = new UsageStats()
  readonly cold = new ColdWaits()
  private readonly logger: Logger | null
  private store: UsageStore | null = null
  private storeId = ''
  private lastErrorLog = 0
  private readonly retired = new Set<UsageStore>()

  constructor (opts: UsageOptions = {}) {
    this.now = opts.now ?? Date.now
    this.logger = opts.logger ?? null
  }

  /** The store for this config; a reload that changes it builds a new one. */
  storeFor (cfg: UsageStoreConfig): UsageStore {
    if (this.store !== null && cfg.id === this.storeId) return this.store
    const old = this.store
    this.store = cfg.redis === null ? new MemoryUsageStore() : new RedisUsageStore(cfg, { onState: (up, err) => { this.onStoreState(cfg, up, err) } })
    this.storeId = cfg.id
    if (old !== null) {
      // Requests admitted on the old store settle there; close it once they are long done.
      this.retired.add(old)
      const t = setTimeout(() => { this.retired.delete(old); void old.close() }, RETIRE_AFTER_MS)
      t.unref()
    }
    return this.store
  }

  /** Builds the store and, for Redis, waits for the connection a bounded time. */
  async start (cfg: UsageStoreConfig, waitMs = Math.max(1000, cfg.timeoutMs)): Promise<void> {
    const store = this.storeFor(cfg)
    if (store instanceof RedisUsageStore) await store.ready(waitMs)
  }

  private onStoreState (cfg: UsageStoreConfig, up: boolean, err: Error | null): void {
    if (this.logger === null) return
    if (up) this.logger.info({ store: 'redis' }, 'usage store reachable')
    else this.logger.warn({ store: 'redis', failMode: cfg.failMode, err: err?.message }, `usage store unreachable: failing ${cfg.failMode}`)
  }

  storeError (failMode: 'open' | 'closed', err: unknown, during: 'check' | 'add'): void {
    this.stats.storeErrors++
    if (during === 'check') {
      if (failMode === 'open') this.stats.failedOpen++
      else this.stats.failedClosed++
    }
    const now = Date.now()
    if (this.logger !== null && now - this.lastErrorLog >= ERROR_LOG_EVERY_MS) {
      this.lastErrorLog = now
      this.logger.warn({ store: 'redis', during, failMode, err: err instanceof Error ? err.message : String(err) }, `usage store call failed: failing ${failMode} (logged at most every ${ERROR_LOG_EVERY_MS / 1000}s; see storeErrors)`)
    }
  }

  /** One line per request a dry-run policy would have refused. */
  logWouldRefuse (reqId: string, model: RtModel, policies: string): void {
    this.logger?.warn({ reqId, workspace: model.workspace, model: model.name, policies }, 'maxToken dry run: this request would be refused')
  }

  /** Connected (Redis) or always true (memory); for readiness and tests. */
  get storeConnected (): boolean {
    return !(this.store instanceof RedisUsageStore) || this.store.connected
  }

  get currentStore (): UsageStore | null { return this.store }

  async close (): Promise<void> {
    const all = [...this.retired]
    if (this.store !== null) all.push(this.store)
    this.retired.clear()
    this.store = null
    await Promise.all(all.map(async s => { await s.close() }))
  }
}

/** What admission decided: a ticket to meter and settle, or the refusal to answer. */
export type Admission = UsageTicket | EdgeError

/** What admission reads of the request. */
export interface AdmissionInput {
  readonly id: string
  /** Request body bytes (0 when there is none or it is unknown). */
  readonly bytesIn: number
  /** The body when it came whole (a Buffer); anything else when it is streamed or absent. */
  readonly body: Buffer | string | null
  /** The request ended (the client left): a cold wait stops asking for it. */
  readonly done: boolean
}

/**
 * Admits or refuses a request for `model`: null when the model has no maxToken policy, else a
 * ticket (admitted) or the refusal. A Promise when the store is shared (Redis) or when the
 * request waits for a cold model's next settlement (then null too if the client left while it
 * waited). `since` is when it first waited (performance.now(); -1: it has not).
 */
export function admitUsage (usage: UsageRuntime, model: RtModel, input: AdmissionInput, services: UsageServices, since = -1): Admission | null | Promise<Admission | null> {
  const ml = usage.models.get(model.key)
  if (ml === undefined) return null
  const cfg = usage.store
  const store = services.storeFor(cfg)
  const now = services.now()
  // The body is read before admission when it came whole (failover.ts): the most output it
  // asks for bounds what is reserved until the store has learned better.
  const body = input.body
  const ticket = new UsageTicket(ml, store, now, input.bytesIn, body instanceof Buffer ? outputHintOf(body) : -1)
  coldReservation(ticket, ml.reserveOutput)
  let result: CheckResult | Promise<CheckResult>
  try {
    result = store.check(ml, ml.clock.at(now).starts, ticket.ri, ticket.ro, ticket.rt, now, ticket)
  } catch (err) {
    return storeFailed(services, ticket, cfg, err)
  }
  if (result instanceof Promise) return result.then(r => decide(usage, model, input, services, ticket, r, now, since), err => storeFailed(services, ticket, cfg, err))
  return decide(usage, model, input, services, ticket, result, now, since)
}

/** Waits for the model's next settlement, then asks again (cold-wait.ts); null when it may not wait. */
function waitCold (usage: UsageRuntime, model: RtModel, input: AdmissionInput, services: UsageServices, key: string, since: number): Promise<Admission | null> | null {
  // Real time, not the windows' clock (which tests stop): the wait is bounded in real time.
  const now = performance.now()
  let retry: (() => void) | null = null
  if (!services.cold.park(key, since, now, () => { retry?.() })) return null
  services.stats.coldWaits++
  return new Promise<Admission | null>(resolve => {
    retry = () => { resolve(input.done ? null : admitUsage(usage, model, input, services, since < 0 ? now : since)) }
  })
}

function decide (usage: UsageRuntime, model: RtModel, input: AdmissionInput, services: UsageServices, ticket: UsageTicket, counts: CheckResult, now: number, since: number): Admission | Promise<Admission | null> {
  const ml = ticket.limits
  const limits = ml.limits
  // Refused while requests admitted cold here still hold their upper bounds: the window may be
  // full of bounds rather than of use, so wait for them rather than answer 429.
  if (counts[0] === 0 && !input.done && services.cold.size > 0) {
    const waiting = waitCold(usage, model, input, services, ml.model, since)
    if (waiting !== null) return waiting
  }
  const policy = policyHeaderAt(ml, now)
  const rateLimit = rateLimitHeaderOf(ml, counts, now)
  const stats = services.stats
  if (counts[0] === 0) {
    // Refused: name the exhausted policy that resets last (the request needs all of them).
    let retry = 0
    let worst: RtTokenLimit | null = null
    for (let j = 0; j < limits.length; j++) {
      const l = limits[j]
      if (l === undefined || l.dryRun || !isExhausted(l, counts[1 + 3 * j] ?? 0, counts[2 + 3 * j] ?? 0, counts[3 + 3 * j] ?? 0)) continue
      const s = ml.clock.at(now).secondsToReset(j, now)
      if (s > retry) { retry = s; worst = l }
      bump(stats.refusedByPolicy, `${ml.model}/${l.policy}`)
    }
    stats.refused++
    const name = worst?.policy ?? '?'
    return new EdgeError('TOKEN_LIMIT_EXHAUSTED', `The token-usage policy "${name}" of this model is exhausted for the current window. It resets in ${retry} s; do not retry before then.`, {
      headers: { 'ratelimit-policy': policy, ratelimit: rateLimit, 'retry-after': String(retry), 'x-should-retry': 'false' }
    })
  }
  stats.admitted++
  ticket.headers.push('ratelimit-policy', policy, 'ratelimit', rateLimit)
  if (!ticket.learned) {
    ticket.cold = true
    services.cold.admittedCold(ml.model)
  }
  let dry: string | null = null
  for (let j = 0; j < limits.length; j++) {
    const l = limits[j]
    if (l !== undefined && l.dryRun && isExhausted(l, counts[1 + 3 * j] ?? 0, counts[2 + 3 * j] ?? 0, counts[3 + 3 * j] ?? 0)) {
      dry = dry === null ? l.policy : `${dry}, ${l.policy}`
      stats.dryRunViolations++
      bump(stats.dryRunByPolicy, `${ml.model}/${l.policy}`)
    }
  }
  if (dry !== null) {
    ticket.headers.push('x-agnet-dry-run', `would refuse: ${dry}`)
    services.logWouldRefuse(input.id, model, dry)
  }
  return ticket
}

function storeFailed (services: UsageServices, ticket: UsageTicket, cfg: UsageStoreConfig, err: unknown): Admission {
  services.storeError(cfg.failMode, err, 'check')
  if (cfg.failMode === 'closed') {
    return new EdgeError('USAGE_STORE_UNREACHABLE', 'The token-usage counters of this model cannot be reached, so the request is refused (usage.failMode: closed). Retry shortly.', {
      headers: { 'retry-after': '1' }
    })
  }
  // Open: admitted unchecked, nothing reserved; its usage is still added if the store is back by then.
  ticket.headers.push('ratelimit-policy', policyHeaderAt(ticket.limits, services.now()))
  ticket.ri = 0
  ticket.ro = 0
  ticket.rt = 0
  return ticket
}

const NO_TTL: readonly number[] = Object.freeze([])

function bump (m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1)
}

/** Called with the relayed response's status and headers: starts metering its body. */
export function beginUsage (ticket: UsageTicket, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
  const ct = headers['content-type']
  const ce = headers['content-encoding']
  const cl = headers['content-length']
  ticket.meter = new UsageMeter(statusCode, typeof ct === 'string' ? ct : undefined, typeof ce === 'string' ? ce : undefined, typeof cl === 'string' ? Number(cl) : -1)
}

/** Sees every response chunk of a limited model (no byte is held back). */
export function observeChunk (ticket: UsageTicket, chunk: Buffer): void {
  const meter = ticket.meter
  if (meter !== null) meter.write(chunk)
}

/**
 * Counts what the request used, once, when it ends (complete, failed or aborted): returns the
 * usage read from the response (null when no response was metered).
 */
export function settleUsage (ticket: UsageTicket, bodyBytes: number, failMode: 'open' | 'closed', services: UsageServices): TokenUsage | null {
  const ml = ticket.limits
  let u: TokenUsage | null = null
  if (ticket.meter !== null) {
    u = ticket.meter.finish(bodyBytes)
    const stats = services.stats
    stats.settled++
    stats.inputTokens += u.input
    stats.outputTokens += u.output
    if (u.estimated) stats.estimated++
  }
  const ai = u?.input ?? 0
  const ao = u?.output ?? 0
  const at = u?.total ?? 0
  // Requests waiting for this model to be learned are asked again once this settlement landed.
  const cold = services.cold
  const model = ml.model
  const landed = ticket.cold ? () => { cold.settledCold(model) } : cold.waiting > 0 ? () => { cold.wake(model) } : null
  if (ai === 0 && ao === 0 && at === 0 && ticket.ri === 0 && ticket.ro === 0 && ticket.rt === 0) {
    landed?.()
    return u
  }
  const now = services.now()
  const clock = ml.clock.at(now)
  // Only a shared store expires keys; the in-process one needs no time-to-live.
  let ttl = NO_TTL
  if (ticket.store.kind !== 'memory') {
    const t = new Array<number>(clock.ends.length)
    for (let j = 0; j < t.length; j++) t[j] = (clock.ends[j] ?? now) - now
    ttl = t
  }
  try {
    // What a request used is learned from once it reported (or was estimated to use) anything.
    const sample = at > 0 ? bodyBytes : -1
    const done = ticket.store.add(ml, clock.starts, ttl, ai, ao, at, ticket.ri, ticket.ro, ticket.rt, ticket.at, sample)
    if (done instanceof Promise) {
      done.then(landed, (err: unknown) => { services.storeError(failMode, err, 'add'); landed?.() })
      return u
    }
  } catch (err) {
    services.storeError(failMode, err, 'add')
  }
  landed?.()
  return u
}

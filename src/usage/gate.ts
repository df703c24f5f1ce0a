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
// The stage's long-lived part (store, counters, logs) is services.ts.
import { EdgeError } from '../core/errors.js'
import type { RtModel } from '../core/runtime.js'
import type { RtModelLimits, RtTokenLimit, TokenCounts, TokenUsage, UsageRuntime, UsageStoreConfig } from '../core/usage.js'
import type { AdmissionRequest, CheckResult, Settlement, UsageStore } from './store.js'
import type { UsageServices } from './services.js'
import { UsageMeter } from './extract.js'
import { coldReservation } from './estimate.js'
import { outputHintOf } from './output-hint.js'
import { isExhausted, policyHeaderAt, rateLimitHeaderOf } from './headers.js'

/** What admission hands to settlement. */
export class UsageTicket implements AdmissionRequest {
  readonly limits: RtModelLimits
  readonly store: UsageStore
  /** Request body bytes and the most output it asks for (-1: unsaid), what the store reserves by. */
  readonly bytes: number
  readonly hint: number
  readonly learn = true
  /** Reserved at admission (zeros when the store could not be reached); released at settlement. */
  readonly reserve: TokenCounts = { input: 0, output: 0, total: 0 }
  learned = false
  /** Admitted with the cold reservation: its settlement may let waiting requests in. */
  cold = false
  meter: UsageMeter | null = null
  /** Admission time, by which the store keeps the reservation. */
  readonly admittedAt: number
  /** Response headers the admission decided (RateLimit-Policy, RateLimit, dry-run note): flat [name, value, ...]. */
  readonly headers: string[] = []

  constructor (limits: RtModelLimits, store: UsageStore, admittedAt: number, bytes: number, hint: number) {
    this.limits = limits
    this.store = store
    this.admittedAt = admittedAt
    this.bytes = bytes
    this.hint = hint
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
    result = store.check(ml, ml.clock.at(now), ticket)
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

function decide (usage: UsageRuntime, model: RtModel, input: AdmissionInput, services: UsageServices, ticket: UsageTicket, checked: CheckResult, now: number, since: number): Admission | Promise<Admission | null> {
  const ml = ticket.limits
  const limits = ml.limits
  const used = checked.used
  // Refused while requests admitted cold here still hold their upper bounds: the window may be
  // full of bounds rather than of use, so wait for them rather than answer 429.
  if (!checked.admitted && !input.done && services.cold.size > 0) {
    const waiting = waitCold(usage, model, input, services, ml.model, since)
    if (waiting !== null) return waiting
  }
  const policy = policyHeaderAt(ml, now)
  const rateLimit = rateLimitHeaderOf(ml, used, now)
  const stats = services.stats
  if (!checked.admitted) {
    // Refused: name the exhausted policy that resets last (the request needs all of them).
    let retry = 0
    let worst: RtTokenLimit | null = null
    for (let j = 0; j < limits.length; j++) {
      const l = limits[j]
      const u = used[j]
      if (l === undefined || u === undefined || l.dryRun || !isExhausted(l, u)) continue
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
    const u = used[j]
    if (l !== undefined && u !== undefined && l.dryRun && isExhausted(l, u)) {
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
  const reserve = ticket.reserve
  reserve.input = 0
  reserve.output = 0
  reserve.total = 0
  return ticket
}

/** What a request that reported nothing and was not metered used. */
const NOTHING: TokenCounts = Object.freeze({ input: 0, output: 0, total: 0 })

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
  const used = u ?? NOTHING
  const released = ticket.reserve
  // Requests waiting for this model to be learned are asked again once this settlement landed.
  const cold = services.cold
  const model = ml.model
  const landed = ticket.cold ? () => { cold.settledCold(model) } : cold.waiting > 0 ? () => { cold.wake(model) } : null
  if (used.input === 0 && used.output === 0 && used.total === 0 && released.input === 0 && released.output === 0 && released.total === 0) {
    landed?.()
    return u
  }
  const now = services.now()
  const settlement: Settlement = {
    used,
    released,
    admittedAt: ticket.admittedAt,
    settledAt: now,
    // What a request used is learned from once it reported (or was estimated to use) anything.
    sampleBytes: used.total > 0 ? bodyBytes : -1
  }
  try {
    const done = ticket.store.add(ml, ml.clock.at(now), settlement)
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

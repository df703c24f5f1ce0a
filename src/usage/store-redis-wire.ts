// The Redis store's wire codec: turns named records (AdmissionRequest, CheckResult,
// settlements) into the keys and flat argument arrays the scripts of store-redis-scripts.ts
// read, and their flat answers back. The only code that knows those layouts besides the
// scripts themselves.
import type { CurrentWindows, RtModelLimits, RtTokenLimit, TokenCounts } from '../core/usage.js'
import type { AdmissionRequest, CheckResult, Settlement } from './store.js'
import { ESTIMATE_TTL_MS } from './estimate.js'

// Settled windows are kept a little past their end so a late settlement still lands.
const WINDOW_SLACK_MS = 60_000
// Reservations are bucketed by admission time in quarters of the longest request (model total
// timeout plus slack); a check reads the current bucket and the four before it.
const RESERVE_BUCKETS = 4
const BUCKETS_READ = RESERVE_BUCKETS + 1

/** Length of a model's reservation buckets. */
function bucketMs (ml: RtModelLimits): number {
  return Math.max(1000, Math.ceil(ml.reserveTtlMs / RESERVE_BUCKETS))
}

function estimateKey (prefix: string, ml: RtModelLimits): string {
  return `${prefix}e:{${ml.model}}`
}

function windowKey (prefix: string, l: RtTokenLimit, start: number): string {
  return `${prefix}u:{${l.key}}:${start}`
}

function reservationKey (prefix: string, l: RtTokenLimit, bucket: number): string {
  return `${prefix}r:{${l.key}}:${bucket}`
}

function startOf (windows: CurrentWindows, j: number, l: RtTokenLimit): number {
  const start = windows.starts[j]
  if (start === undefined) throw new Error(`no window for limit ${l.key}`)
  return start
}

/** A check waiting in a batch for the script's answer. */
export interface CheckWaiter {
  readonly limits: number
  readonly request: AdmissionRequest
  readonly resolve: (r: CheckResult) => void
  readonly reject: (err: unknown) => void
}

/**
 * Appends one check's keys and arguments to a batch, in the layout CHECK reads. Keys are built
 * now: `windows` is the model's shared clock, valid during the caller's call only.
 */
export function encodeCheck (keys: string[], args: Array<string | number>, prefix: string, ml: RtModelLimits, windows: CurrentWindows, request: AdmissionRequest): void {
  const len = bucketMs(ml)
  const bucket = Math.floor(request.admittedAt / len)
  keys.push(estimateKey(prefix, ml))
  let j = 0
  for (const l of ml.limits) {
    keys.push(windowKey(prefix, l, startOf(windows, j++, l)))
    for (let b = 0; b < BUCKETS_READ; b++) keys.push(reservationKey(prefix, l, bucket - b))
  }
  const r = request.reserve
  // bytes -1 tells the script to reserve as sent and not read the estimate.
  args.push(ml.limits.length, r.input, r.output, r.total, len * BUCKETS_READ, BUCKETS_READ, request.learn ? request.bytes : -1, request.learn ? request.hint : -1)
  for (const l of ml.limits) args.push(l.input, l.output, l.total, l.dryRun ? '1' : '0')
}

/**
 * Hands each waiter of a batch its part of CHECK's answer, as a CheckResult, and writes what
 * the script reserved into its request. A reply of the wrong shape fails every waiter.
 */
export function decodeChecks (reply: unknown, waiters: readonly CheckWaiter[]): void {
  // The reply is Redis' (a trust boundary): its length is checked before any element is read.
  let expected = 0
  for (const w of waiters) expected += 5 + 3 * w.limits
  if (!Array.isArray(reply) || reply.length !== expected) {
    for (const w of waiters) w.reject(new Error('unexpected answer from the usage script'))
    return
  }
  let at = 0
  for (const w of waiters) {
    const admitted = Number(reply[at++]) === 1
    const used: TokenCounts[] = []
    for (let j = 0; j < w.limits; j++) {
      used.push({ input: Number(reply[at]), output: Number(reply[at + 1]), total: Number(reply[at + 2]) })
      at += 3
    }
    const request = w.request
    const reserve = request.reserve
    reserve.input = Number(reply[at])
    reserve.output = Number(reply[at + 1])
    reserve.total = Number(reply[at + 2])
    request.learned = Number(reply[at + 3]) === 1
    at += 4
    w.resolve({ admitted, used })
  }
}

/** Settlements of one event-loop turn for one (window key, reservation key) pair, summed. */
class PendingAdd {
  readonly used: TokenCounts = { input: 0, output: 0, total: 0 }
  readonly released: TokenCounts = { input: 0, output: 0, total: 0 }
  /** Time to live of the window key. */
  ttl = 1
  constructor (readonly uk: string, readonly rk: string) {}
}

/** Finished requests of one event-loop turn for one model, summed, to learn from. */
class PendingSample {
  count = 0
  bytes = 0
  input = 0
  output = 0
}

/** The settlements of one event-loop turn, summed per key until they are sent as one ADD. */
export class PendingAdds {
  private readonly adds = new Map<string, PendingAdd>()
  private readonly samples = new Map<string, PendingSample>()

  constructor (private readonly prefix: string) {}

  /** Adds one settlement (see UsageStore.add). */
  add (ml: RtModelLimits, windows: CurrentWindows, settlement: Settlement): void {
    const { used, released, sampleBytes } = settlement
    if (sampleBytes >= 0) {
      const ek = estimateKey(this.prefix, ml)
      let e = this.samples.get(ek)
      if (e === undefined) {
        e = new PendingSample()
        this.samples.set(ek, e)
      }
      e.count++
      e.bytes += sampleBytes
      e.input += used.input
      e.output += used.output
    }
    const bucket = Math.floor(settlement.admittedAt / bucketMs(ml))
    let j = 0
    for (const l of ml.limits) {
      const end = windows.ends[j]
      const uk = windowKey(this.prefix, l, startOf(windows, j++, l))
      if (end === undefined) throw new Error(`no window for limit ${l.key}`)
      const rk = reservationKey(this.prefix, l, bucket)
      const k = `${uk} ${rk}`
      let p = this.adds.get(k)
      if (p === undefined) {
        p = new PendingAdd(uk, rk)
        this.adds.set(k, p)
      }
      p.used.input += used.input
      p.used.output += used.output
      p.used.total += used.total
      p.released.input += released.input
      p.released.output += released.output
      p.released.total += released.total
      p.ttl = Math.max(p.ttl, Math.ceil(end - settlement.settledAt + WINDOW_SLACK_MS))
    }
  }

  /** The keys and arguments of the ADD call, in the layout it reads; no keys when there is nothing to send. */
  encode (): { keys: string[], args: number[] } {
    const keys: string[] = []
    const args: number[] = [this.adds.size]
    for (const p of this.adds.values()) {
      keys.push(p.uk, p.rk)
      args.push(p.used.input, p.used.output, p.used.total, p.released.input, p.released.output, p.released.total, p.ttl)
    }
    for (const [ek, e] of this.samples) {
      keys.push(ek)
      args.push(e.count, e.bytes, e.input, e.output)
    }
    args.push(ESTIMATE_TTL_MS)
    return { keys, args }
  }
}

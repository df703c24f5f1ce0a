// The in-process store (default): one counter per limit, holding its current window's usage
// and the reservations of requests in flight. Synchronous, so admission stays on the fast
// path; atomic because JavaScript runs one thing at a time. It also keeps what each model's
// requests use (estimate.ts), which, like the counts, outlives a reload.
import type { RtModelLimits } from '../core/usage.js'
import type { CheckResult, UsageStore } from './store.js'
import { isExhausted } from './headers.js'
import { learn, learnedReservation, type Estimate, type Reservation } from './estimate.js'

class Counter {
  start = 0
  ui = 0
  uo = 0
  ut = 0
  ri = 0
  ro = 0
  rt = 0
}

export class MemoryUsageStore implements UsageStore {
  readonly kind = 'memory'
  // One entry per limit of the config (reloads may leave a few behind; bounded by config size).
  private readonly counters = new Map<string, Counter>()
  // One per limited model (`ws/model`), bounded like the counters.
  private readonly estimates = new Map<string, Estimate>()

  private counter (key: string, start: number): Counter {
    let c = this.counters.get(key)
    if (c === undefined) {
      c = new Counter()
      c.start = start
      this.counters.set(key, c)
    } else if (start > c.start) {
      // A new window: what was used is gone; reservations of requests in flight are not.
      c.start = start
      c.ui = 0
      c.uo = 0
      c.ut = 0
    }
    return c
  }

  check (ml: RtModelLimits, starts: readonly number[], ri: number, ro: number, rt: number, _now = 0, ask?: Reservation): CheckResult {
    if (ask !== undefined) {
      const e = this.estimates.get(ml.model)
      ask.learned = e !== undefined && e.samples > 0
      if (ask.learned) learnedReservation(ask, e as Estimate)
      else { ask.ri = ri; ask.ro = ro; ask.rt = rt }
      ri = ask.ri
      ro = ask.ro
      rt = ask.rt
    }
    const limits = ml.limits
    const out: CheckResult = new Array<number>(1 + 3 * limits.length)
    let refuse = false
    for (let j = 0; j < limits.length; j++) {
      const l = limits[j] as RtModelLimits['limits'][number]
      const c = this.counter(l.key, starts[j] as number)
      const i = c.start === starts[j] ? c.ui + c.ri : c.ri
      const o = c.start === starts[j] ? c.uo + c.ro : c.ro
      const t = c.start === starts[j] ? c.ut + c.rt : c.rt
      out[1 + 3 * j] = i
      out[2 + 3 * j] = o
      out[3 + 3 * j] = t
      if (!l.dryRun && isExhausted(l, i, o, t)) refuse = true
    }
    out[0] = refuse ? 0 : 1
    if (refuse) {
      if (ask !== undefined) { ask.ri = 0; ask.ro = 0; ask.rt = 0 }
    } else {
      for (const l of limits) {
        const c = this.counters.get(l.key) as Counter
        c.ri += ri
        c.ro += ro
        c.rt += rt
      }
    }
    return out
  }

  add (ml: RtModelLimits, starts: readonly number[], _ttlMs: readonly number[], ai: number, ao: number, at: number, qi: number, qo: number, qt: number, _admittedAt = 0, sampleBytes = -1): void {
    if (sampleBytes >= 0) {
      let e = this.estimates.get(ml.model)
      if (e === undefined) {
        e = { samples: 0, ratio: 0, input: 0, output: 0 }
        this.estimates.set(ml.model, e)
      }
      learn(e, 1, sampleBytes, ai, ao)
    }
    const limits = ml.limits
    for (let j = 0; j < limits.length; j++) {
      const l = limits[j] as RtModelLimits['limits'][number]
      const c = this.counter(l.key, starts[j] as number)
      // A settlement for a window already replaced (clock skew between calls) is dropped.
      if (c.start === starts[j]) {
        c.ui += ai
        c.uo += ao
        c.ut += at
      }
      c.ri = Math.max(0, c.ri - qi)
      c.ro = Math.max(0, c.ro - qo)
      c.rt = Math.max(0, c.rt - qt)
    }
  }

  async close (): Promise<void> {
    this.counters.clear()
    this.estimates.clear()
  }
}

// The in-process store (default): one counter per limit, holding its current window's usage
// and the reservations of requests in flight. Synchronous, so admission stays on the fast
// path; atomic because JavaScript runs one thing at a time. It also keeps what each model's
// requests use (estimate.ts), which, like the counts, outlives a reload.
import type { CurrentWindows, RtModelLimits, RtTokenLimit, TokenCounts } from '../core/usage.js'
import type { AdmissionRequest, CheckResult, Settlement, UsageStore } from './store.js'
import { isExhausted } from './headers.js'
import { learn, learnedReservation, type Estimate } from './estimate.js'

class Counter {
  /** Start of the window `used` counts. */
  start = 0
  /** Settled usage in that window. */
  readonly used: TokenCounts = { input: 0, output: 0, total: 0 }
  /** Reservations of requests in flight, whatever window they were admitted in. */
  readonly reserved: TokenCounts = { input: 0, output: 0, total: 0 }
}

export class MemoryUsageStore implements UsageStore {
  readonly kind = 'memory'
  // One entry per limit of the config (reloads may leave a few behind; bounded by config size).
  private readonly counters = new Map<string, Counter>()
  // One per limited model (`ws/model`), bounded like the counters.
  private readonly estimates = new Map<string, Estimate>()

  /** The counter of limit `l`, brought to the window starting at `start`. */
  private counter (l: RtTokenLimit, start: number): Counter {
    let c = this.counters.get(l.key)
    if (c === undefined) {
      c = new Counter()
      c.start = start
      this.counters.set(l.key, c)
    } else if (start > c.start) {
      // A new window: what was used is gone; reservations of requests in flight are not.
      c.start = start
      const used = c.used
      used.input = 0
      used.output = 0
      used.total = 0
    }
    return c
  }

  check (ml: RtModelLimits, windows: CurrentWindows, request: AdmissionRequest): CheckResult {
    const reserve = request.reserve
    request.learned = false
    if (request.learn) {
      const e = this.estimates.get(ml.model)
      if (e !== undefined && e.samples > 0) {
        learnedReservation(request, e)
        request.learned = true
      }
    }
    const starts = windows.starts
    const used: TokenCounts[] = []
    let refuse = false
    for (const l of ml.limits) {
      const start = starts[used.length]
      if (start === undefined) throw new Error(`no window for limit ${l.key}`)
      const c = this.counter(l, start)
      // Settled usage counts only in its own window (a check for an older one sees reservations).
      const settled = c.start === start
      const u: TokenCounts = {
        input: settled ? c.used.input + c.reserved.input : c.reserved.input,
        output: settled ? c.used.output + c.reserved.output : c.reserved.output,
        total: settled ? c.used.total + c.reserved.total : c.reserved.total
      }
      used.push(u)
      if (!l.dryRun && isExhausted(l, u)) refuse = true
    }
    if (refuse) {
      reserve.input = 0
      reserve.output = 0
      reserve.total = 0
    } else {
      for (const l of ml.limits) {
        // Every limit's counter was made (or moved to its window) by the loop above.
        const c = this.counters.get(l.key)
        if (c === undefined) continue
        const r = c.reserved
        r.input += reserve.input
        r.output += reserve.output
        r.total += reserve.total
      }
    }
    return { admitted: !refuse, used }
  }

  add (ml: RtModelLimits, windows: CurrentWindows, settlement: Settlement): void {
    const spent = settlement.used
    if (settlement.sampleBytes >= 0) {
      let e = this.estimates.get(ml.model)
      if (e === undefined) {
        e = { samples: 0, ratio: 0, input: 0, output: 0 }
        this.estimates.set(ml.model, e)
      }
      learn(e, 1, settlement.sampleBytes, spent.input, spent.output)
    }
    const released = settlement.released
    const starts = windows.starts
    let j = 0
    for (const l of ml.limits) {
      const start = starts[j++]
      if (start === undefined) throw new Error(`no window for limit ${l.key}`)
      const c = this.counter(l, start)
      // A settlement for a window already replaced (clock skew between calls) is dropped.
      if (c.start === start) {
        c.used.input += spent.input
        c.used.output += spent.output
        c.used.total += spent.total
      }
      const r = c.reserved
      r.input = Math.max(0, r.input - released.input)
      r.output = Math.max(0, r.output - released.output)
      r.total = Math.max(0, r.total - released.total)
    }
  }

  async close (): Promise<void> {
    this.counters.clear()
    this.estimates.clear()
  }
}

// Fixed windows of `step × granularity`, aligned to UTC: minute, hour and day windows count
// from the Unix epoch (so a 5-minute window starts at :00, :05, ...; a day at 00:00 UTC);
// month windows are calendar months counted from January 1970. Pure functions of a clock
// reading, so tests drive them with any instant.
import type { CurrentWindows, Granularity } from '../core/usage.js'

const UNIT_MS: Record<Exclude<Granularity, 'month'>, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }

/** Start (ms since epoch) of the window holding `now`. */
export function windowStart (granularity: Granularity, step: number, now: number): number {
  if (granularity !== 'month') {
    const len = UNIT_MS[granularity] * step
    return Math.floor(now / len) * len
  }
  const d = new Date(now)
  const months = (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth()
  const first = Math.floor(months / step) * step
  return Date.UTC(1970 + Math.floor(first / 12), first % 12, 1)
}

/** End (exclusive) of the window that starts at `start`. */
export function windowEnd (granularity: Granularity, step: number, start: number): number {
  if (granularity !== 'month') return start + UNIT_MS[granularity] * step
  const d = new Date(start)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + step, 1)
}

interface WindowShape {
  readonly granularity: Granularity
  readonly step: number
}

/**
 * The current window of each limit of a model, computed again only when one of them ends
 * (or the clock goes back): the request path reads starts and ends instead of doing calendar
 * arithmetic per request. Not shared across models; `starts` and `ends` are read at once by
 * their callers, never kept.
 */
export class WindowClock implements CurrentWindows {
  readonly starts: number[]
  readonly ends: number[]
  private readonly shapes: readonly WindowShape[]
  /** The arrays hold for from <= now < until. */
  private from = Number.POSITIVE_INFINITY
  private until = Number.NEGATIVE_INFINITY

  constructor (shapes: readonly WindowShape[]) {
    this.shapes = shapes
    this.starts = new Array<number>(shapes.length).fill(0)
    this.ends = new Array<number>(shapes.length).fill(0)
  }

  at (now: number): this {
    if (now >= this.from && now < this.until) return this
    let from = Number.NEGATIVE_INFINITY
    let until = Number.POSITIVE_INFINITY
    let j = 0
    for (const w of this.shapes) {
      const s = windowStart(w.granularity, w.step, now)
      const e = windowEnd(w.granularity, w.step, s)
      this.starts[j] = s
      this.ends[j++] = e
      if (s > from) from = s
      if (e < until) until = e
    }
    this.from = from
    this.until = until
    return this
  }

  /** Whole seconds from `now` to the end of limit j's window, at least 1 (Retry-After, RateLimit t=); call at(now) first. */
  secondsToReset (j: number, now: number): number {
    const end = this.ends[j]
    if (end === undefined) throw new RangeError(`no limit ${j} in these windows`)
    return Math.max(1, Math.ceil((end - now) / 1000))
  }
}

// What agnet has learnt about each deployment: its typical time to first byte, consecutive
// failures, ejection with growing back-off, the active probe's verdict and the smooth
// weighted round-robin counter. Keyed by deployment id, so it survives reloads. The
// functions here take the clock as an argument (tests drive time by hand).

/**
 * The time to first byte a deployment is judged by is the median of its last TTFB_WINDOW
 * answers. A mean (even a moving one) is dragged by one slow answer: a garbage-collection
 * pause or a busy host adds hundreds of milliseconds to one sample, which would outweigh the
 * few milliseconds of RTT that separate two nearby regions and send their traffic elsewhere
 * for seconds. The median ignores such outliers until they are the majority, and follows a
 * deployment that really slowed down within TTFB_WINDOW / 2 answers.
 */
export const TTFB_WINDOW = 16
// Scratch for the median: recordSuccess is synchronous and never re-entered.
const SORTED = new Float64Array(TTFB_WINDOW)
/** An ejection never lasts longer than this, however often it doubled. */
export const MAX_EJECT_MS = 300_000
/** Retry-After values beyond this are capped (a bad header must not park a deployment for days). */
export const MAX_RETRY_AFTER_MS = 300_000

export class DeploymentHealth {
  readonly id: string
  /** Median time to first byte of the last TTFB_WINDOW answers, ms; NaN until measured (and again after an ejection). */
  ttfbMs = Number.NaN
  /** Answers measured since the last reset (not capped at the window). */
  samples = 0
  /** The last TTFB_WINDOW samples, a ring written at samples % TTFB_WINDOW. */
  readonly recent = new Float64Array(TTFB_WINDOW)
  /** The model's selection counter at the last sample, to find stale deployments to explore. */
  lastSampleSeq = 0
  /** Consecutive failures since the last success. */
  failures = 0
  /** Monotonic ms until which the deployment is out of rotation (0 = in). */
  ejectedUntil = 0
  /** Consecutive ejections, for the doubling back-off; reset by a success. */
  ejections = 0
  /** After an ejection ends, the first answer decides: a failure re-ejects at once. */
  halfOpen = false
  /** The active health probe's last verdict (false when there is no probe). */
  probeDown = false
  /** Smooth weighted round-robin counter (weighted strategy). */
  wrrCurrent = 0
  /** Why it is out, for explain and logs. */
  lastError: string | null = null

  constructor (id: string) {
    this.id = id
  }
}

export function isHealthy (h: DeploymentHealth, now: number): boolean {
  return !h.probeDown && h.ejectedUntil <= now
}

/** Median of the first n values of `recent` (n ≤ TTFB_WINDOW), by insertion sort into the scratch. */
export function medianOf (recent: Float64Array, n: number): number {
  for (let k = 0; k < n; k++) {
    const x = recent[k] ?? 0
    let m = k - 1
    for (; m >= 0 && (SORTED[m] ?? 0) > x; m--) SORTED[m + 1] = SORTED[m] ?? 0
    SORTED[m + 1] = x
  }
  const mid = n >> 1
  return n % 2 === 1 ? SORTED[mid] ?? 0 : ((SORTED[mid - 1] ?? 0) + (SORTED[mid] ?? 0)) / 2
}

/**
 * A success: the sample joins the window and the median is taken again; the failure streak
 * and back-off reset. When the deployment had not answered for `staleAfter` selections of
 * its model (it was out of favour and is being explored), what it measured before describes
 * another time: the window starts afresh from this answer, as after an ejection, so a
 * deployment that recovered is not judged by the slow answers that sent its traffic away.
 */
export function recordSuccess (h: DeploymentHealth, ttfbMs: number, seq: number, staleAfter = Number.POSITIVE_INFINITY): void {
  if (seq - h.lastSampleSeq >= staleAfter) h.samples = 0
  h.recent[h.samples % TTFB_WINDOW] = ttfbMs
  h.samples++
  h.ttfbMs = medianOf(h.recent, Math.min(h.samples, TTFB_WINDOW))
  h.lastSampleSeq = seq
  h.failures = 0
  h.ejections = 0
  h.halfOpen = false
  h.lastError = null
}

/**
 * A failure: after `ejectAfter` in a row (or one, right after an ejection ended) the
 * deployment is ejected for `ejectForMs × 2^(ejections so far)`. A Retry-After from the
 * upstream parks it at least that long.
 */
export function recordFailure (h: DeploymentHealth, now: number, ejectAfter: number, ejectForMs: number, retryAfterMs: number, reason: string): void {
  h.failures++
  h.lastError = reason
  if (h.failures >= ejectAfter || (h.halfOpen && h.ejectedUntil <= now)) {
    const length = Math.min(ejectForMs * 2 ** Math.min(h.ejections, 20), MAX_EJECT_MS)
    h.ejectedUntil = Math.max(h.ejectedUntil, now + length)
    h.ejections++
    h.failures = 0
    h.halfOpen = true
    // What it measured before may be stale when it comes back: explore it afresh.
    h.ttfbMs = Number.NaN
    h.samples = 0
  }
  if (retryAfterMs > 0) h.ejectedUntil = Math.max(h.ejectedUntil, now + Math.min(retryAfterMs, MAX_RETRY_AFTER_MS))
}

/** The active probe answered: up ends any passive ejection, down takes it out of rotation. */
export function recordProbe (h: DeploymentHealth, up: boolean, reason: string | null): void {
  if (up) {
    if (h.probeDown || h.ejectedUntil > 0) {
      h.ejectedUntil = 0
      h.failures = 0
      h.halfOpen = false
    }
    h.probeDown = false
    return
  }
  h.probeDown = true
  h.lastError = reason
}

/** Retry-After (delta-seconds or an HTTP date) → ms from now; 0 when absent or unreadable. */
export function parseRetryAfter (value: string | string[] | undefined, nowEpochMs: number): number {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v === '') return 0
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  if (Number.isNaN(at)) return 0
  return Math.max(0, at - nowEpochMs)
}

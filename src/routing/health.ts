// What agnet has learnt about each deployment: smoothed time to first byte, consecutive
// failures, ejection with growing back-off, the active probe's verdict and the smooth
// weighted round-robin counter. Keyed by deployment id, so it survives reloads. The
// functions here take the clock as an argument (tests drive time by hand).

/** Weight of a new time-to-first-byte sample in the moving average. */
export const EWMA_ALPHA = 0.3
/** An ejection never lasts longer than this, however often it doubled. */
export const MAX_EJECT_MS = 300_000
/** Retry-After values beyond this are capped (a bad header must not park a deployment for days). */
export const MAX_RETRY_AFTER_MS = 300_000

export class DeploymentHealth {
  readonly id: string
  /** Smoothed time to first byte in ms; NaN until measured (and again after an ejection). */
  ewmaMs = Number.NaN
  samples = 0
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

/** A success: the sample feeds the average, the failure streak and back-off reset. */
export function recordSuccess (h: DeploymentHealth, ttfbMs: number, seq: number): void {
  h.ewmaMs = h.samples === 0 || Number.isNaN(h.ewmaMs) ? ttfbMs : h.ewmaMs + EWMA_ALPHA * (ttfbMs - h.ewmaMs)
  h.samples++
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
    h.ewmaMs = Number.NaN
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

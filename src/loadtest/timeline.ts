// From raw samples to what a scenario reports: per phase and origin a summary and a
// per-second series; per fault and affected origin the time to shift (from the fault's start
// until ≥ 95% of that origin's requests are served by other regions, and stay so) and the
// time to recover (from its end until the affected regions serve their share again). Pure
// functions of the samples, so they are tested without a gateway.
import type { Sample } from './generator.js'

export interface SecondPoint {
  /** Second since the run started (bucket by send time). */
  t: number
  offered: number
  answered: number
  ok: number
  regions: Record<string, number>
  deployments: Record<string, number>
  statuses: Record<string, number>
  rateLimited: number
  errors: number
  noAnswer: number
  failovers: number
  faulted: number
  p50: number | null
  p95: number | null
  p99: number | null
  /** Deployments out of rotation in that second (polled from the gateway). */
  ejected: number
}

export interface OriginSummary {
  requests: number
  answered: number
  /** Share of the origin's successful answers served by each region. */
  regions: Record<string, number>
  deployments: Record<string, number>
  statuses: Record<string, number>
  /** Failed requests (no answer, broken body, 5xx, 4xx other than 429) / requests. */
  errors: number
  /** 429 answers / requests. */
  rateLimited: number
  noAnswer: number
  failovers: number
  p50: number | null
  p95: number | null
  p99: number | null
  series: SecondPoint[]
}

export interface PhaseWindow { name: string; startMs: number; endMs: number; faults: string[] }

export interface FaultWindow { name: string; effect: string; startMs: number; endMs: number; regions: string[] }

export interface OriginShift {
  affected: boolean
  /** Share served by the fault's regions just before it started. */
  baseline: number
  timeToShiftMs: number | null
  timeToRecoverMs: number | null
}

export function percentile (sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
  const v = sorted[i]
  return v === undefined ? null : Math.round(v * 100) / 100
}

const failed = (s: Sample): boolean => s.status === 0 || s.broken || s.status >= 500 || (s.status >= 400 && s.status !== 429)
const success = (s: Sample): boolean => s.status >= 200 && s.status < 400 && !s.broken

function bump (m: Record<string, number>, k: string): void { m[k] = (m[k] ?? 0) + 1 }

function fractions (m: Record<string, number>, total: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, n] of Object.entries(m).sort((a, b) => b[1] - a[1])) out[k] = total === 0 ? 0 : Math.round((n / total) * 10000) / 10000
  return out
}

/** One origin's samples in [startMs, endMs), summarised, with a point per second. */
export function summarise (samples: readonly Sample[], startMs: number, endMs: number, ejectedAt: (second: number) => number): OriginSummary {
  const inside = samples.filter(s => s.t >= startMs && s.t < endMs)
  const regions: Record<string, number> = {}
  const deployments: Record<string, number> = {}
  const statuses: Record<string, number> = {}
  let ok = 0
  let errors = 0
  let limited = 0
  let noAnswer = 0
  let failovers = 0
  const lat: number[] = []
  for (const s of inside) {
    bump(statuses, String(s.status))
    if (s.status === 0) noAnswer++
    if (s.status === 429) limited++
    if (failed(s)) errors++
    if (s.attempts > 1) failovers++
    if (s.ms >= 0) lat.push(s.ms)
    if (success(s)) {
      ok++
      if (s.region !== null) bump(regions, s.region)
      if (s.deployment !== null) bump(deployments, s.deployment)
    }
  }
  lat.sort((a, b) => a - b)
  const series: SecondPoint[] = []
  const first = Math.floor(startMs / 1000)
  const last = Math.ceil(endMs / 1000)
  for (let sec = first; sec < last; sec++) {
    const from = Math.max(startMs, sec * 1000)
    const to = Math.min(endMs, (sec + 1) * 1000)
    if (to <= from) continue
    const b = inside.filter(s => s.t >= from && s.t < to)
    const p: SecondPoint = { t: sec, offered: b.length, answered: 0, ok: 0, regions: {}, deployments: {}, statuses: {}, rateLimited: 0, errors: 0, noAnswer: 0, failovers: 0, faulted: 0, p50: null, p95: null, p99: null, ejected: ejectedAt(sec) }
    const l: number[] = []
    for (const s of b) {
      if (s.status !== 0) p.answered++
      bump(p.statuses, String(s.status))
      if (s.status === 429) p.rateLimited++
      if (s.status === 0) p.noAnswer++
      if (failed(s)) p.errors++
      if (s.attempts > 1) p.failovers++
      if (s.fault !== null) p.faulted++
      if (s.ms >= 0) l.push(s.ms)
      if (success(s)) {
        p.ok++
        if (s.region !== null) bump(p.regions, s.region)
        if (s.deployment !== null) bump(p.deployments, s.deployment)
      }
    }
    l.sort((x, y) => x - y)
    p.p50 = percentile(l, 0.5)
    p.p95 = percentile(l, 0.95)
    p.p99 = percentile(l, 0.99)
    series.push(p)
  }
  const n = inside.length
  return {
    requests: n,
    answered: n - noAnswer,
    regions: fractions(regions, ok),
    deployments: fractions(deployments, ok),
    statuses,
    errors: n === 0 ? 0 : errors / n,
    rateLimited: n === 0 ? 0 : limited / n,
    noAnswer,
    failovers,
    p50: percentile(lat, 0.5),
    p95: percentile(lat, 0.95),
    p99: percentile(lat, 0.99),
    series
  }
}

const WINDOW_MS = 1000
const STEP_MS = 100
/** "Served elsewhere" threshold of the time to shift. */
export const SHIFT_SHARE = 0.95
/** The traffic is back when the fault's regions serve this much of their share before it. */
export const RECOVER_RATIO = 0.9

/**
 * The first time t ≥ from from which every 1 s window (sliding by 100 ms) up to `until`
 * satisfies `ok`; null if none. Windows without requests neither pass nor fail.
 */
function sustained (samples: readonly Sample[], from: number, until: number, ok: (inWindow: Sample[]) => boolean | null, firstOnly = false): number | null {
  const verdicts: Array<[number, boolean]> = []
  for (let w = from; w + WINDOW_MS <= until + 1e-6; w += STEP_MS) {
    const v = ok(samples.filter(s => s.t >= w && s.t < w + WINDOW_MS))
    if (v === true && firstOnly) return w
    if (v !== null) verdicts.push([w, v])
  }
  let found: number | null = null
  for (const [w, v] of verdicts) {
    if (!v) found = null
    else if (found === null) found = w
  }
  return found
}

/** Time to shift and to recover of one origin for one fault. */
export function shiftOf (samples: readonly Sample[], fault: FaultWindow, runEndMs: number): OriginShift {
  const affected = new Set(fault.regions)
  const before = samples.filter(s => s.t >= fault.startMs - 5000 && s.t < fault.startMs && success(s))
  const baseline = before.length === 0 ? 0 : before.filter(s => s.region !== null && affected.has(s.region)).length / before.length
  if (baseline < 0.05) return { affected: false, baseline, timeToShiftMs: null, timeToRecoverMs: null }
  const shiftAt = sustained(samples, fault.startMs, fault.endMs, w => {
    if (w.length === 0) return null
    const elsewhere = w.filter(s => success(s) && s.region !== null && !affected.has(s.region)).length
    return elsewhere / w.length >= SHIFT_SHARE
  })
  let recoverAt: number | null = null
  if (fault.endMs < runEndMs) {
    recoverAt = sustained(samples, fault.endMs, runEndMs, w => {
      const ok = w.filter(success)
      if (ok.length === 0) return null
      return ok.filter(s => s.region !== null && affected.has(s.region)).length / ok.length >= baseline * RECOVER_RATIO
    }, true)
  }
  return {
    affected: true,
    baseline: Math.round(baseline * 10000) / 10000,
    timeToShiftMs: shiftAt === null ? null : Math.round(shiftAt - fault.startMs),
    timeToRecoverMs: recoverAt === null ? null : Math.round(recoverAt - fault.endMs)
  }
}

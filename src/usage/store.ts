// What a usage store does. One call per admission and one per settlement, each atomic over
// every limit of the model, so several replicas sharing a store enforce one limit.
import type { RtModelLimits } from '../core/usage.js'
import type { Reservation } from './estimate.js'

/**
 * Result of a check: `[admitted, i0, o0, t0, i1, o1, t1, ...]` where admitted is 1 or 0 and
 * i/o/t are what each limit has used in its window (settled plus reserved by requests in
 * flight), read before this request's own reservation.
 */
export type CheckResult = number[]

export interface UsageStore {
  readonly kind: 'memory' | 'redis'
  /**
   * Reads every limit of `ml` in the windows starting at `starts`; unless a limit that is not
   * a dry run is exhausted, reserves (input, output, total) on each of them. Rejected
   * requests reserve nothing. `now` is the admission time (reservations are kept by it).
   * `starts` (and `ttlMs` of add) are the model's shared window arrays: read them during the
   * call, never keep them.
   * With `ask`, the store reserves by what it learned of the model's requests when it has
   * learned anything (estimate.ts), else (ri, ro, rt), and writes what it reserved into `ask`
   * (zeros when refused) before answering; the caller releases exactly that at settlement.
   */
  check (ml: RtModelLimits, starts: readonly number[], ri: number, ro: number, rt: number, now: number, ask?: Reservation): CheckResult | Promise<CheckResult>
  /**
   * Adds a finished request's usage to the windows starting at `starts` (the windows of the
   * moment it ended; `ttlMs` until each one ends) and releases its reservation, made at
   * `admittedAt`. With `sampleBytes` >= 0 (its body size) the usage is also learned from, for
   * the reservations of the model's next requests on every replica of the store.
   */
  add (ml: RtModelLimits, starts: readonly number[], ttlMs: readonly number[], ai: number, ao: number, at: number, qi: number, qo: number, qt: number, admittedAt: number, sampleBytes?: number): void | Promise<void>
  close (): Promise<void>
}

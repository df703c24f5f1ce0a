// What a usage store does. One call per admission and one per settlement, each atomic over
// every limit of the model, so several replicas sharing a store enforce one limit.
import type { CurrentWindows, RtModelLimits, TokenCounts } from '../core/usage.js'
import type { Reservation } from './estimate.js'

/** One admission as the store sees it (a UsageTicket is one, so admission allocates nothing more). */
export interface AdmissionRequest extends Reservation {
  /** Admission time: the store keeps the reservation by it. */
  readonly admittedAt: number
  /**
   * Whether the store may reserve by what it learned of the model's requests (estimate.ts).
   * False: it reserves exactly `reserve`, as a plain read with zeros does.
   */
  readonly learn: boolean
  /** Set by the store: true when it reserved by what it learned, false for `reserve` as given. */
  learned: boolean
}

/** What a check found. */
export interface CheckResult {
  /** No limit that is not a dry run was exhausted: the request is admitted and reserved for. */
  readonly admitted: boolean
  /**
   * Per limit of the model, in order: what it has used in its window (settled plus reserved by
   * requests in flight), read before this request's own reservation.
   */
  readonly used: readonly TokenCounts[]
}

/** A finished request, as the store counts it. */
export interface Settlement {
  /** What the request used (reported, or estimated): added to the windows it ended in. */
  readonly used: TokenCounts
  /** Its reservation, released. */
  readonly released: TokenCounts
  /** When it was admitted (where the store keeps its reservation). */
  readonly admittedAt: number
  /** When it ended: the time `windows` were brought to. */
  readonly settledAt: number
  /** Its body size to learn from (for the reservations of the model's next requests), or -1. */
  readonly sampleBytes: number
}

export interface UsageStore {
  readonly kind: 'memory' | 'redis'
  /**
   * Reads every limit of `ml` in its current window (`windows`, brought to the admission time);
   * unless a limit that is not a dry run is exhausted, reserves on each of them. Rejected
   * requests reserve nothing. With `request.learn`, the store reserves by what it learned of
   * the model's requests when it has learned anything (estimate.ts), else `request.reserve` as
   * given; before answering it writes what it reserved into `request.reserve` (zeros when
   * refused) and sets `request.learned`: the caller releases exactly that at settlement.
   * `windows` is the model's shared clock: read it during the call, never keep it.
   */
  check (ml: RtModelLimits, windows: CurrentWindows, request: AdmissionRequest): CheckResult | Promise<CheckResult>
  /**
   * Adds a finished request's usage to the windows current when it ended (`windows`, brought
   * to `settledAt`) and releases its reservation. With `sampleBytes` >= 0 the usage is also
   * learned from, on every replica of the store.
   */
  add (ml: RtModelLimits, windows: CurrentWindows, settlement: Settlement): void | Promise<void>
  close (): Promise<void>
}

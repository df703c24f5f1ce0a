// What one request of a model tends to use, learned from the model's finished requests and
// kept in the usage store, so every replica on the store (and a replica that just started)
// reserves with what all of them have seen. The Redis store runs the same arithmetic in its
// scripts (store-redis.ts); the tests hold the two to the same figures.
//
// A reservation is what admission counts for a request in flight, released when it settles:
// - nothing learned yet (a new model, a fresh store): the input as body bytes / 4 and the
//   output the request asks for at most (its max_tokens or alike), or the configured
//   `usage.reserveOutput` when it names none. An upper bound rather than a guess, so a cold
//   burst cannot run far past a limit; it may refuse more of that first burst instead.
// - learned: input tokens per body byte times this body's size (the mean input when the body
//   size is unknown), and the mean output, never more than the request asks for at most.

import type { TokenCounts } from '../core/usage.js'

/** Weight of one new sample in the moving means. */
export const ALPHA = 0.25
/** How long a model's estimate outlives its last finished request in a shared store. */
export const ESTIMATE_TTL_MS = 24 * 3_600_000
/** Floating error of a product must not round a reservation up by a whole token. */
const ROUNDING_SLACK = 1e-6

export interface Estimate {
  /** Finished requests learned from; 0 = nothing known. */
  samples: number
  /** Input tokens per request-body byte. */
  ratio: number
  input: number
  output: number
}

/** What a reservation is made from: the request's size and the most output it asks for. */
export interface Reservation {
  /** Request body size in bytes (0 when there is none or it is unknown). */
  readonly bytes: number
  /** Most output tokens the request asks for, or -1 when it does not say. */
  readonly hint: number
  /** The tokens reserved. */
  readonly reserve: TokenCounts
}

/** Fills `r.reserve` with the reservation for a request when nothing is learned yet. */
export function coldReservation (r: Reservation, fallbackOutput: number): void {
  const reserve = r.reserve
  reserve.input = Math.ceil(r.bytes / 4)
  reserve.output = r.hint >= 0 ? r.hint : fallbackOutput
  reserve.total = reserve.input + reserve.output
}

/** Fills `r.reserve` from a learned estimate (samples > 0). */
export function learnedReservation (r: Reservation, e: Estimate): void {
  const reserve = r.reserve
  reserve.input = r.bytes > 0 && e.ratio > 0 ? Math.ceil(r.bytes * e.ratio - ROUNDING_SLACK) : Math.ceil(e.input - ROUNDING_SLACK)
  const out = Math.ceil(e.output - ROUNDING_SLACK)
  reserve.output = r.hint >= 0 && r.hint < out ? r.hint : out
  reserve.total = reserve.input + reserve.output
}

/**
 * Moves `e` towards `count` finished requests that used `input` and `output` tokens in all,
 * with `bytes` of request bodies: one sample moves the means by ALPHA, `count` at once by
 * 1 - (1 - ALPHA)^count towards their mean (a store that sums a burst's settlements).
 */
export function learn (e: Estimate, count: number, bytes: number, input: number, output: number): void {
  if (count <= 0) return
  const ratio = bytes > 0 ? input / bytes : e.ratio
  const mi = input / count
  const mo = output / count
  if (e.samples === 0) {
    e.ratio = ratio
    e.input = mi
    e.output = mo
  } else {
    const w = 1 - Math.pow(1 - ALPHA, count)
    e.ratio += w * (ratio - e.ratio)
    e.input += w * (mi - e.input)
    e.output += w * (mo - e.output)
  }
  e.samples += count
}

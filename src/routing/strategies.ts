// Deployment selection: pure functions of (candidates, health and latency stats, clock, rng,
// counters). They never mutate their arguments and do no I/O; the caller commits what they
// return (the new round-robin counters, the exploration mark). Every strategy returns the
// healthy candidates in the order they should be tried: the first is the choice, the rest
// the failover order.

export type StrategyName = 'latency' | 'priority' | 'weighted'

export interface CandidateView {
  /** Simulated RTT from the caller's origin to the deployment's region, ms. */
  readonly rttMs: number
  readonly weight: number
  /** Lower is tried first (priority strategy). */
  readonly priority: number
}

export interface HealthView {
  /** Typical measured time to first byte (median of recent answers), ms; NaN when never measured. */
  readonly ttfbMs: number
  readonly samples: number
  readonly lastSampleSeq: number
  readonly ejectedUntil: number
  readonly probeDown: boolean
  readonly wrrCurrent: number
}

export interface SelectionInput {
  readonly candidates: readonly CandidateView[]
  /** Parallel to candidates. */
  readonly health: readonly HealthView[]
  /** Monotonic clock, ms. */
  readonly now: number
  /** How many selections this model has made so far. */
  readonly seq: number
  /** The selection at which the model last explored a stale deployment. */
  readonly lastExploreSeq: number
  /** Explore at most once per this many selections (latency strategy). */
  readonly exploreEvery: number
  /** Breaks exact ties so equal deployments share the load. */
  readonly rng: () => number
}

export interface Selection {
  /** Indexes into candidates: healthy ones only, best first. */
  readonly order: number[]
  /** Weighted strategy: the new round-robin counters, parallel to candidates; null otherwise. */
  readonly wrr: number[] | null
  /** Latency strategy: the candidate explored first, or -1. */
  readonly explored: number
}

function healthyIndexes (input: SelectionInput): number[] {
  const out: number[] = []
  const { health, now } = input
  for (let i = 0; i < health.length; i++) {
    const h = health[i]
    if (h !== undefined && !h.probeDown && h.ejectedUntil <= now) out.push(i)
  }
  return out
}

/** Expected latency as the latency strategy sees it: RTT + typical measured TTFB (0 while unknown, so new deployments get tried). */
export function expectedLatency (c: CandidateView, h: HealthView): number {
  return c.rttMs + (h.samples > 0 && !Number.isNaN(h.ttfbMs) ? h.ttfbMs : 0)
}

// Scratch space for the sort keys, reused across calls: selection is synchronous and never
// re-entered, so sharing it is unobservable and saves two typed-array allocations per request.
let EXPECTED = new Float64Array(64)
let TIE = new Float64Array(64)

/**
 * Sorts candidate indexes by (EXPECTED, TIE) ascending. Insertion sort: a model has a handful
 * of healthy deployments, where it beats Array.prototype.sort and its comparator calls.
 */
function sortByExpected (order: number[]): void {
  for (let k = 1; k < order.length; k++) {
    const x = order[k]
    if (x === undefined) continue
    const ex = EXPECTED[x] ?? 0
    const tx = TIE[x] ?? 0
    let m = k - 1
    for (; m >= 0; m--) {
      const y = order[m]
      if (y === undefined) break
      const ey = EXPECTED[y] ?? 0
      if (ey < ex || (ey === ex && (TIE[y] ?? 0) <= tx)) break
      order[m + 1] = y
    }
    order[m + 1] = x
  }
}

/**
 * Lowest expected latency first. New and recovered deployments have no measurement yet and
 * count as fast, so they are tried at once. A deployment that was measured slow stops
 * getting traffic and so would never be measured again: once every `exploreEvery`
 * selections, the stalest deployment that could still win (its RTT alone is below the best
 * expected latency) is tried first, so one that recovered wins its traffic back.
 */
export function selectByLatency (input: SelectionInput): Selection {
  const order = healthyIndexes(input)
  const { candidates, health } = input
  const n = order.length
  if (n <= 1) return { order, wrr: null, explored: -1 }
  if (EXPECTED.length < candidates.length) {
    EXPECTED = new Float64Array(candidates.length * 2)
    TIE = new Float64Array(candidates.length * 2)
  }
  for (const i of order) {
    const c = candidates[i]
    const h = health[i]
    if (c === undefined || h === undefined) continue
    EXPECTED[i] = expectedLatency(c, h)
    TIE[i] = input.rng()
  }
  sortByExpected(order)
  let explored = -1
  const first = order[0]
  if (first !== undefined && input.seq - input.lastExploreSeq >= input.exploreEvery) {
    const best = EXPECTED[first] ?? 0
    let stalest = -1
    let stalestSeq = 0
    for (let k = 1; k < n; k++) {
      const i = order[k]
      if (i === undefined) continue
      const h = health[i]
      const c = candidates[i]
      if (h === undefined || c === undefined) continue
      if (h.samples === 0 || input.seq - h.lastSampleSeq < input.exploreEvery) continue
      if (c.rttMs >= best) continue
      if (stalest < 0 || h.lastSampleSeq < stalestSeq) { stalest = k; stalestSeq = h.lastSampleSeq }
    }
    if (stalest > 0) {
      const pick = order[stalest]
      if (pick !== undefined) {
        explored = pick
        order.splice(stalest, 1)
        order.unshift(explored)
      }
    }
  }
  return { order, wrr: null, explored }
}

/** Ordered failover: lowest priority number first, config order among equals. */
export function selectByPriority (input: SelectionInput): Selection {
  const order = healthyIndexes(input)
  const { candidates } = input
  order.sort((a, b) => ((candidates[a]?.priority ?? 0) - (candidates[b]?.priority ?? 0)) || (a - b))
  return { order, wrr: null, explored: -1 }
}

/**
 * Smooth weighted round-robin (nginx): every healthy candidate's counter grows by its
 * weight, the largest wins and gives back the total. Shares match the weights exactly over
 * each cycle and picks interleave. The failover order after the pick is by weight.
 */
export function selectByWeight (input: SelectionInput): Selection {
  const order = healthyIndexes(input)
  const { candidates, health } = input
  const wrr = new Array<number>(health.length)
  for (let i = 0; i < health.length; i++) wrr[i] = health[i]?.wrrCurrent ?? 0
  if (order.length === 0) return { order, wrr, explored: -1 }
  let total = 0
  let best = -1
  let bestWrr = 0
  for (const i of order) {
    const w = candidates[i]?.weight ?? 0
    total += w
    const current = (wrr[i] ?? 0) + w
    wrr[i] = current
    if (best < 0 || current > bestWrr) { best = i; bestWrr = current }
  }
  if (total > 0) wrr[best] = bestWrr - total
  order.sort((a, b) => a === best ? -1 : b === best ? 1 : ((candidates[b]?.weight ?? 0) - (candidates[a]?.weight ?? 0)) || (a - b))
  return { order, wrr, explored: -1 }
}

export const STRATEGIES: Readonly<Record<StrategyName, (input: SelectionInput) => Selection>> = Object.freeze({
  latency: selectByLatency,
  priority: selectByPriority,
  weighted: selectByWeight
})

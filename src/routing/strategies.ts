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
    const h = health[i] as HealthView
    if (!h.probeDown && h.ejectedUntil <= now) out.push(i)
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
    const x = order[k] as number
    const ex = EXPECTED[x] as number
    const tx = TIE[x] as number
    let m = k - 1
    for (; m >= 0; m--) {
      const y = order[m] as number
      const ey = EXPECTED[y] as number
      if (ey < ex || (ey === ex && (TIE[y] as number) <= tx)) break
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
  for (let k = 0; k < n; k++) {
    const i = order[k] as number
    EXPECTED[i] = expectedLatency(candidates[i] as CandidateView, health[i] as HealthView)
    TIE[i] = input.rng()
  }
  sortByExpected(order)
  let explored = -1
  if (input.seq - input.lastExploreSeq >= input.exploreEvery) {
    const best = EXPECTED[order[0] as number] as number
    let stalest = -1
    for (let k = 1; k < n; k++) {
      const i = order[k] as number
      const h = health[i] as HealthView
      if (h.samples === 0 || input.seq - h.lastSampleSeq < input.exploreEvery) continue
      if ((candidates[i] as CandidateView).rttMs >= best) continue
      if (stalest < 0 || h.lastSampleSeq < (health[order[stalest] as number] as HealthView).lastSampleSeq) stalest = k
    }
    if (stalest > 0) {
      explored = order[stalest] as number
      order.splice(stalest, 1)
      order.unshift(explored)
    }
  }
  return { order, wrr: null, explored }
}

/** Ordered failover: lowest priority number first, config order among equals. */
export function selectByPriority (input: SelectionInput): Selection {
  const order = healthyIndexes(input)
  const { candidates } = input
  order.sort((a, b) => ((candidates[a] as CandidateView).priority - (candidates[b] as CandidateView).priority) || (a - b))
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
  for (let i = 0; i < health.length; i++) wrr[i] = (health[i] as HealthView).wrrCurrent
  if (order.length === 0) return { order, wrr, explored: -1 }
  let total = 0
  let best = -1
  for (const i of order) {
    const w = (candidates[i] as CandidateView).weight
    total += w
    wrr[i] = (wrr[i] as number) + w
    if (best < 0 || (wrr[i] as number) > (wrr[best] as number)) best = i
  }
  if (total > 0) wrr[best] = (wrr[best] as number) - total
  order.sort((a, b) => a === best ? -1 : b === best ? 1 : ((candidates[b] as CandidateView).weight - (candidates[a] as CandidateView).weight) || (a - b))
  return { order, wrr, explored: -1 }
}

export const STRATEGIES: Readonly<Record<StrategyName, (input: SelectionInput) => Selection>> = Object.freeze({
  latency: selectByLatency,
  priority: selectByPriority,
  weighted: selectByWeight
})

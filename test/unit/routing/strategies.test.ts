// Deployment selection as pure functions: one contract every strategy passes, then a table
// per strategy, weighted shares over 2,000 picks and latency learning with a hand-driven clock.
import { describe, expect, it } from 'vitest'
import { STRATEGIES, selectByLatency, selectByPriority, selectByWeight, type CandidateView, type HealthView, type SelectionInput, type StrategyName } from '../../../src/routing/strategies.js'
import { DeploymentHealth, TTFB_WINDOW, recordFailure, recordSuccess } from '../../../src/routing/health.js'
import { mulberry32 } from '../../../src/mock/text.js'

function cand (rttMs: number, weight = 1, priority = 0): CandidateView {
  return Object.freeze({ rttMs, weight, priority })
}

function health (over: Partial<HealthView> = {}): HealthView {
  return Object.freeze({ ttfbMs: Number.NaN, samples: 0, lastSampleSeq: 0, ejectedUntil: 0, probeDown: false, wrrCurrent: 0, ...over })
}

function input (candidates: CandidateView[], hs: HealthView[], over: Partial<SelectionInput> = {}): SelectionInput {
  return Object.freeze({ candidates: Object.freeze(candidates), health: Object.freeze(hs), now: 1000, seq: 1, lastExploreSeq: 0, exploreEvery: 16, rng: mulberry32(7), ...over })
}

const NAMES = Object.keys(STRATEGIES) as StrategyName[]

describe.each(NAMES)('contract: %s', (name) => {
  const select = STRATEGIES[name]
  const cands = [cand(30, 1, 2), cand(5, 3, 1), cand(80, 2, 0), cand(10, 0, 3)]
  const hs = [health({ samples: 3, ttfbMs: 20 }), health({ samples: 2, ttfbMs: 100 }), health(), health({ samples: 9, ttfbMs: 1 })]

  it('returns every healthy candidate exactly once', () => {
    const sel = select(input(cands, hs))
    expect([...sel.order].sort()).toEqual([0, 1, 2, 3])
  })

  it('never returns an ejected or probe-failed candidate; nothing when none is healthy', () => {
    const some = [hs[0] as HealthView, health({ ejectedUntil: 2000 }), health({ probeDown: true }), hs[3] as HealthView]
    expect([...select(input(cands, some)).order].sort()).toEqual([0, 3])
    const none = hs.map(() => health({ ejectedUntil: 5000 }))
    expect(select(input(cands, none)).order).toEqual([])
    // An ejection that has run out no longer counts.
    expect(select(input(cands, [health({ ejectedUntil: 1000 })], { candidates: [cand(1)] })).order).toEqual([0])
  })

  it('does not mutate its arguments (all frozen) and is deterministic for the same rng', () => {
    const a = select(input(cands, hs, { rng: mulberry32(3) }))
    const b = select(input(cands, hs, { rng: mulberry32(3) }))
    expect(a).toEqual(b)
  })

  it('a single candidate is chosen; no candidate gives an empty order', () => {
    expect(select(input([cand(9)], [health()])).order).toEqual([0])
    expect(select(input([], [])).order).toEqual([])
  })
})

describe('latency', () => {
  it.each([
    ['lowest RTT wins when nothing is measured', [cand(30), cand(5), cand(80)], [health(), health(), health()], [1, 0, 2]],
    ['RTT + measured TTFB decides', [cand(5), cand(30)], [health({ samples: 5, ttfbMs: 100 }), health({ samples: 5, ttfbMs: 10 })], [1, 0]],
    ['an unmeasured (new) deployment is tried before a measured one of equal RTT', [cand(10), cand(10)], [health({ samples: 5, ttfbMs: 50 }), health()], [1, 0]],
    ['ejected ones are left out', [cand(1), cand(50)], [health({ ejectedUntil: 9999 }), health()], [1]]
  ])('%s', (_n, cands, hs, order) => {
    expect(selectByLatency(input(cands, hs)).order).toEqual(order)
  })

  it('explores the stalest deployment that could still win, at most once per exploreEvery', () => {
    const cands = [cand(5), cand(5), cand(200)]
    const hs = [health({ samples: 50, ttfbMs: 10, lastSampleSeq: 99 }), health({ samples: 5, ttfbMs: 300, lastSampleSeq: 40 }), health({ samples: 5, ttfbMs: 1, lastSampleSeq: 1 })]
    const due = selectByLatency(input(cands, hs, { seq: 100, lastExploreSeq: 80 }))
    // #2 is staler but its RTT alone (200) is above the best expected (15): never worth a try.
    expect(due.explored).toBe(1)
    expect(due.order).toEqual([1, 0, 2])
    const notDue = selectByLatency(input(cands, hs, { seq: 100, lastExploreSeq: 90 }))
    expect(notDue.explored).toBe(-1)
    expect(notDue.order[0]).toBe(0)
  })

  it('orders by expected latency, then the tie-break draw, for any mix of candidates', () => {
    const pick = mulberry32(3)
    for (let t = 0; t < 500; t++) {
      const n = 1 + Math.floor(pick() * 12)
      // few distinct values, so equal expected latencies (and the tie-break) are common
      const cands = Array.from({ length: n }, () => cand(Math.floor(pick() * 4) * 10))
      const hs = Array.from({ length: n }, () => pick() < 0.2 ? health({ ejectedUntil: 9999 }) : pick() < 0.3 ? health() : health({ samples: 3, ttfbMs: Math.floor(pick() * 3) * 5 }))
      const seed = Math.floor(pick() * 1e9)
      const got = selectByLatency(input(cands, hs, { rng: mulberry32(seed) })).order
      // the reference: the same draws, one per healthy candidate in index order, and a plain sort
      const draws = mulberry32(seed)
      const healthy = hs.map((h, i) => [h, i] as const).filter(([h]) => h.ejectedUntil <= 1000).map(([, i]) => i)
      const key = new Map(healthy.map(i => [i, [(cands[i] as CandidateView).rttMs + ((hs[i] as HealthView).samples > 0 ? (hs[i] as HealthView).ttfbMs : 0), draws()] as const]))
      const want = [...healthy].sort((a, b) => ((key.get(a) as readonly number[])[0] as number) - ((key.get(b) as readonly number[])[0] as number) || ((key.get(a) as readonly number[])[1] as number) - ((key.get(b) as readonly number[])[1] as number))
      expect(got, `case ${t}`).toEqual(want)
    }
  })

  it('equal deployments share the load through the tie-break', () => {
    const rng = mulberry32(11)
    const counts = [0, 0, 0]
    for (let i = 0; i < 300; i++) {
      const first = selectByLatency(input([cand(5), cand(5), cand(5)], [health(), health(), health()], { rng })).order[0] ?? -1
      counts[first] = (counts[first] ?? 0) + 1
    }
    for (const c of counts) expect(c).toBeGreaterThan(60)
  })
})

describe('priority', () => {
  it.each([
    ['lowest priority number first, then config order', [cand(1, 1, 2), cand(1, 1, 0), cand(1, 1, 0)], [health(), health(), health()], [1, 2, 0]],
    ['latency does not matter', [cand(200, 1, 0), cand(1, 1, 1)], [health({ samples: 9, ttfbMs: 500 }), health()], [0, 1]],
    ['an ejected first choice is skipped', [cand(1, 1, 0), cand(1, 1, 1)], [health({ ejectedUntil: 5000 }), health()], [1]]
  ])('%s', (_n, cands, hs, order) => {
    expect(selectByPriority(input(cands, hs)).order).toEqual(order)
  })
})

describe('weighted', () => {
  function run (weights: number[], n: number, ejected: (i: number, k: number) => boolean = () => false): number[] {
    const cands = weights.map(w => cand(1, w))
    let wrr = weights.map(() => 0)
    const counts = weights.map(() => 0)
    for (let k = 0; k < n; k++) {
      const hs = wrr.map((c, i) => health({ wrrCurrent: c, ejectedUntil: ejected(i, k) ? 5000 : 0 }))
      const sel = selectByWeight(input(cands, hs))
      wrr = sel.wrr as number[]
      const first = sel.order[0] ?? -1
      counts[first] = (counts[first] ?? 0) + 1
    }
    return counts
  }

  it('observed shares converge to the weights over 2,000 picks (within 1%)', () => {
    const counts = run([1, 2, 5], 2000)
    const total = counts.reduce((a, b) => a + b, 0)
    expect(total).toBe(2000)
    expect(Math.abs((counts[0] as number) / 2000 - 1 / 8)).toBeLessThan(0.01)
    expect(Math.abs((counts[1] as number) / 2000 - 2 / 8)).toBeLessThan(0.01)
    expect(Math.abs((counts[2] as number) / 2000 - 5 / 8)).toBeLessThan(0.01)
  })

  it('interleaves picks instead of bursting (smooth round-robin)', () => {
    const cands = [cand(1, 5), cand(1, 1), cand(1, 1)]
    let wrr = [0, 0, 0]
    const seq: number[] = []
    for (let k = 0; k < 7; k++) {
      const sel = selectByWeight(input(cands, wrr.map(c => health({ wrrCurrent: c }))))
      wrr = sel.wrr as number[]
      seq.push(sel.order[0] as number)
    }
    expect(seq).toEqual([0, 0, 1, 0, 2, 0, 0])
  })

  it('an ejected deployment gets nothing; the others keep their relative shares', () => {
    const counts = run([1, 1, 2], 2000, (i, k) => i === 2 && k < 1000)
    expect(counts[0]).toBeGreaterThan(700)
    expect(Math.abs((counts[0] as number) - (counts[1] as number))).toBeLessThan(10)
  })

  it('the failover order after the pick is by weight', () => {
    const sel = selectByWeight(input([cand(1, 1), cand(1, 3), cand(1, 2)], [health({ wrrCurrent: 10 }), health(), health()]))
    expect(sel.order).toEqual([0, 1, 2])
  })
})

describe('latency learning (pure loop, hand-driven clock)', () => {
  // Two deployments at equal RTT; `ttfb` is what each would measure now.
  function loop (ttfb: number[], n: number, hs: DeploymentHealth[], state: { seq: number; lastExplore: number }): number[] {
    const picks: number[] = []
    const cands = [cand(5), cand(5)]
    const rng = mulberry32(5)
    for (let k = 0; k < n; k++) {
      const sel = selectByLatency({ candidates: cands, health: hs, now: 0, seq: state.seq, lastExploreSeq: state.lastExplore, exploreEvery: 16, rng })
      state.seq++
      if (sel.explored >= 0) state.lastExplore = state.seq
      const i = sel.order[0] as number
      picks.push(i)
      recordSuccess(hs[i] as DeploymentHealth, ttfb[i] as number, state.seq)
    }
    return picks
  }

  it('a deployment made slow loses its traffic within a few requests and wins it back after it recovers', () => {
    const hs = [new DeploymentHealth('a'), new DeploymentHealth('b')]
    const st = { seq: 0, lastExplore: 0 }
    loop([2, 3], 40, hs, st)
    // a becomes slow: once its slow answers are half its window (the median moved), b has
    // the traffic, and keeps it (bar explorations).
    const slow = loop([150, 3], 60, hs, st)
    const firstB = slow.indexOf(1)
    expect(firstB).toBeGreaterThanOrEqual(0)
    expect(firstB).toBeLessThanOrEqual(TTFB_WINDOW / 2)
    expect(slow.slice(10).filter(i => i === 0).length).toBeLessThanOrEqual(4)
    // a recovers and b slows down: a is explored and wins again within 2 × exploreEvery;
    // after that b only sees the one-in-16 exploration that would notice it recovering.
    const back = loop([2, 150], 60, hs, st)
    expect(back.slice(0, 32).filter(i => i === 0).length).toBeGreaterThan(0)
    expect(back.slice(32).filter(i => i === 1).length).toBeLessThanOrEqual(2)
  })

  it('a recovered (ejected then back) deployment is explored first', () => {
    const h = new DeploymentHealth('a')
    recordSuccess(h, 500, 1)
    for (let i = 0; i < 3; i++) recordFailure(h, 0, 3, 1000, 0, 'x')
    expect(h.ejectedUntil).toBe(1000)
    const other = health({ samples: 10, ttfbMs: 20, lastSampleSeq: 10 })
    expect(selectByLatency(input([cand(5), cand(5)], [h, other], { now: 500 })).order).toEqual([1])
    expect(selectByLatency(input([cand(5), cand(5)], [h, other], { now: 1000 })).order).toEqual([0, 1])
  })
})

import { describe, expect, it } from 'vitest'
import { MemoryUsageStore } from '../../../src/usage/store-memory.js'
import type { CurrentWindows, RtModelLimits, RtTokenLimit, TokenCounts } from '../../../src/core/usage.js'
import type { AdmissionRequest, CheckResult, Settlement } from '../../../src/usage/store.js'
import { WindowClock } from '../../../src/usage/windows.js'
import { rateLimitItemsOf } from '../../../src/usage/headers.js'

function limit (over: Partial<RtTokenLimit>): RtTokenLimit {
  return { policy: 'p', key: 'ws/m/p/1minute', granularity: 'minute', step: 1, input: 0, output: 0, total: 0, dryRun: false, ...over }
}
function model (...limits: RtTokenLimit[]): RtModelLimits {
  return { model: 'ws/m', limits, policyHeader: '', reserveTtlMs: 1000, reserveOutput: 1024, clock: new WindowClock(limits), rateLimitItems: rateLimitItemsOf(limits) }
}
/** Windows starting at `starts` (one per limit), a minute long. */
function windows (...starts: number[]): CurrentWindows {
  return { starts, ends: starts.map(s => s + 60_000), at () { return this }, secondsToReset: () => 1 }
}
const tokens = (input: number, output: number, total: number): TokenCounts => ({ input, output, total })
/** A check that reserves exactly (input, output, total), learning nothing. */
const plain = (input: number, output: number, total: number): AdmissionRequest =>
  ({ admittedAt: 0, bytes: 0, hint: -1, reserve: tokens(input, output, total), learn: false, learned: false })
/** An admission as the gate makes it: the cold reservation, replaced by a learned one once the store knows the model. */
const ask = (bytes: number, hint: number, input: number, output: number, total: number): AdmissionRequest =>
  ({ admittedAt: 0, bytes, hint, reserve: tokens(input, output, total), learn: true, learned: false })
const answer = (admitted: boolean, ...used: Array<[number, number, number]>): CheckResult =>
  ({ admitted, used: used.map(([i, o, t]) => tokens(i, o, t)) })
const settle = (used: [number, number, number], released: [number, number, number], sampleBytes = -1): Settlement =>
  ({ used: tokens(...used), released: tokens(...released), admittedAt: 0, settledAt: 0, sampleBytes })

describe('memory usage store', () => {
  it('admits while not exhausted, counts reservations of requests in flight, refuses without reserving', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 100 }))
    expect(s.check(ml, windows(0), plain(10, 30, 40))).toEqual(answer(true, [0, 0, 0]))
    expect(s.check(ml, windows(0), plain(10, 30, 40))).toEqual(answer(true, [10, 30, 40]))
    expect(s.check(ml, windows(0), plain(10, 30, 40))).toEqual(answer(true, [20, 60, 80]))
    // 120 reserved ≥ 100: refused, and the refusal reserves nothing.
    expect(s.check(ml, windows(0), plain(10, 30, 40))).toEqual(answer(false, [30, 90, 120]))
    expect(s.check(ml, windows(0), plain(10, 30, 40))).toEqual(answer(false, [30, 90, 120]))
    // Two finish using less than reserved: room again.
    s.add(ml, windows(0), settle([5, 5, 10], [10, 30, 40]))
    s.add(ml, windows(0), settle([5, 5, 10], [10, 30, 40]))
    expect(s.check(ml, windows(0), plain(10, 30, 40))).toEqual(answer(true, [20, 40, 60]))
  })

  it('checks input, output and total independently; 0 is not checked', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ output: 10 }))
    s.check(ml, windows(0), plain(0, 0, 0))
    s.add(ml, windows(0), settle([1000, 9, 1009], [0, 0, 0]))
    expect(s.check(ml, windows(0), plain(0, 0, 0)).admitted).toBe(true) // input 1000 is not limited
    s.add(ml, windows(0), settle([0, 1, 1], [0, 0, 0]))
    expect(s.check(ml, windows(0), plain(0, 0, 0)).admitted).toBe(false)
  })

  it('a new window starts from zero but keeps reservations of requests still in flight', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 50 }))
    s.check(ml, windows(0), plain(0, 0, 20))
    s.add(ml, windows(0), settle([0, 0, 100], [0, 0, 0]))
    expect(s.check(ml, windows(0), plain(0, 0, 0)).admitted).toBe(false)
    expect(s.check(ml, windows(60000), plain(0, 0, 0))).toEqual(answer(true, [0, 0, 20]))
  })

  it('every policy is enforced; a dry-run one never refuses', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ policy: 'a', key: 'a', total: 10 }), limit({ policy: 'b', key: 'b', total: 5, dryRun: true }))
    s.add(ml, windows(0, 0), settle([0, 0, 7], [0, 0, 0]))
    expect(s.check(ml, windows(0, 0), plain(0, 0, 0)).admitted).toBe(true)
    s.add(ml, windows(0, 0), settle([0, 0, 3], [0, 0, 0]))
    expect(s.check(ml, windows(0, 0), plain(0, 0, 0)).admitted).toBe(false)
  })

  it('reserves what was asked until it learned a request of the model, then by what it learned', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 100 }))
    // Cold: the caller's (upper-bound) reservation, reported back in the request.
    const cold = ask(40, 30, 10, 30, 40)
    expect(s.check(ml, windows(0), cold)).toEqual(answer(true, [0, 0, 0]))
    expect(cold.reserve).toEqual(tokens(10, 30, 40))
    expect(cold.learned).toBe(false)
    // It used 4 in and 12 out: learned (4 / 40 tokens per byte) and released.
    s.add(ml, windows(0), settle([4, 12, 16], [10, 30, 40], 40))
    const warm = ask(80, -1, 20, 1024, 1044)
    expect(s.check(ml, windows(0), warm)).toEqual(answer(true, [4, 12, 16]))
    expect(warm.reserve).toEqual(tokens(8, 12, 20))
    expect(warm.learned).toBe(true)
    // The request's own bound is kept when it is below what was learned.
    const bounded = ask(80, 5, 20, 5, 25)
    expect(s.check(ml, windows(0), bounded)).toEqual(answer(true, [12, 24, 36]))
    expect(bounded.reserve).toEqual(tokens(8, 5, 13))
    // A plain check (learning nothing) reserves exactly what it is given, so reads stay reads.
    expect(s.check(ml, windows(0), plain(0, 0, 0))).toEqual(answer(true, [20, 29, 49]))
    expect(s.check(ml, windows(0), plain(0, 0, 0))).toEqual(answer(true, [20, 29, 49]))
  })

  it('a refusal reports that it reserved nothing; a settlement without a sample teaches nothing', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 10 }))
    s.add(ml, windows(0), settle([0, 0, 10], [0, 0, 0]))
    const r = ask(8, -1, 2, 1024, 1026)
    expect(s.check(ml, windows(0), r).admitted).toBe(false)
    expect(r.reserve).toEqual(tokens(0, 0, 0))
    expect(r.learned).toBe(false)
  })
})

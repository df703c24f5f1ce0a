import { describe, expect, it } from 'vitest'
import { MemoryUsageStore } from '../../../src/usage/store-memory.js'
import type { RtModelLimits, RtTokenLimit } from '../../../src/core/usage.js'
import { WindowClock } from '../../../src/usage/windows.js'
import { rateLimitItemsOf } from '../../../src/usage/headers.js'

function limit (over: Partial<RtTokenLimit>): RtTokenLimit {
  return { policy: 'p', key: 'ws/m/p/1minute', granularity: 'minute', step: 1, input: 0, output: 0, total: 0, dryRun: false, ...over }
}
function model (...limits: RtTokenLimit[]): RtModelLimits {
  return { model: 'ws/m', limits, policyHeader: '', reserveTtlMs: 1000, reserveOutput: 1024, clock: new WindowClock(limits), rateLimitItems: rateLimitItemsOf(limits) }
}

describe('memory usage store', () => {
  it('admits while not exhausted, counts reservations of requests in flight, refuses without reserving', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 100 }))
    expect(s.check(ml, [0], 10, 30, 40)).toEqual([1, 0, 0, 0])
    expect(s.check(ml, [0], 10, 30, 40)).toEqual([1, 10, 30, 40])
    expect(s.check(ml, [0], 10, 30, 40)).toEqual([1, 20, 60, 80])
    // 120 reserved ≥ 100: refused, and the refusal reserves nothing.
    expect(s.check(ml, [0], 10, 30, 40)).toEqual([0, 30, 90, 120])
    expect(s.check(ml, [0], 10, 30, 40)).toEqual([0, 30, 90, 120])
    // Two finish using less than reserved: room again.
    s.add(ml, [0], [60000], 5, 5, 10, 10, 30, 40)
    s.add(ml, [0], [60000], 5, 5, 10, 10, 30, 40)
    expect(s.check(ml, [0], 10, 30, 40)).toEqual([1, 20, 40, 60])
  })

  it('checks input, output and total independently; 0 is not checked', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ output: 10 }))
    s.check(ml, [0], 0, 0, 0)
    s.add(ml, [0], [1], 1000, 9, 1009, 0, 0, 0)
    expect(s.check(ml, [0], 0, 0, 0)[0]).toBe(1) // input 1000 is not limited
    s.add(ml, [0], [1], 0, 1, 1, 0, 0, 0)
    expect(s.check(ml, [0], 0, 0, 0)[0]).toBe(0)
  })

  it('a new window starts from zero but keeps reservations of requests still in flight', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 50 }))
    s.check(ml, [0], 0, 0, 20)
    s.add(ml, [0], [1], 0, 0, 100, 0, 0, 0)
    expect(s.check(ml, [0], 0, 0, 0)[0]).toBe(0)
    expect(s.check(ml, [60000], 0, 0, 0)).toEqual([1, 0, 0, 20])
  })

  it('every policy is enforced; a dry-run one never refuses', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ policy: 'a', key: 'a', total: 10 }), limit({ policy: 'b', key: 'b', total: 5, dryRun: true }))
    s.add(ml, [0, 0], [1, 1], 0, 0, 7, 0, 0, 0)
    expect(s.check(ml, [0, 0], 0, 0, 0)[0]).toBe(1)
    s.add(ml, [0, 0], [1, 1], 0, 0, 3, 0, 0, 0)
    expect(s.check(ml, [0, 0], 0, 0, 0)[0]).toBe(0)
  })

  it('reserves what was asked until it learned a request of the model, then by what it learned', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 100 }))
    // Cold: the caller's (upper-bound) reservation, reported back in the ask.
    const cold = { bytes: 40, hint: 30, ri: 10, ro: 30, rt: 40, learned: false }
    expect(s.check(ml, [0], 10, 30, 40, 0, cold)).toEqual([1, 0, 0, 0])
    expect([cold.ri, cold.ro, cold.rt]).toEqual([10, 30, 40])
    // It used 4 in and 12 out: learned (4 / 40 tokens per byte) and released.
    s.add(ml, [0], [1], 4, 12, 16, 10, 30, 40, 0, 40)
    const warm = { bytes: 80, hint: -1, ri: 20, ro: 1024, rt: 1044, learned: false }
    expect(s.check(ml, [0], 20, 1024, 1044, 0, warm)).toEqual([1, 4, 12, 16])
    expect([warm.ri, warm.ro, warm.rt]).toEqual([8, 12, 20])
    // The request's own bound is kept when it is below what was learned.
    const bounded = { bytes: 80, hint: 5, ri: 20, ro: 5, rt: 25, learned: false }
    expect(s.check(ml, [0], 20, 5, 25, 0, bounded)).toEqual([1, 12, 24, 36])
    expect([bounded.ri, bounded.ro, bounded.rt]).toEqual([8, 5, 13])
    // A plain check (no ask) reserves exactly what it is given, so reads stay reads.
    expect(s.check(ml, [0], 0, 0, 0)).toEqual([1, 20, 29, 49])
    expect(s.check(ml, [0], 0, 0, 0)).toEqual([1, 20, 29, 49])
  })

  it('a refusal reports that it reserved nothing; a settlement without a sample teaches nothing', () => {
    const s = new MemoryUsageStore()
    const ml = model(limit({ total: 10 }))
    s.add(ml, [0], [1], 0, 0, 10, 0, 0, 0)
    const r = { bytes: 8, hint: -1, ri: 2, ro: 1024, rt: 1026, learned: false }
    expect(s.check(ml, [0], 2, 1024, 1026, 0, r)[0]).toBe(0)
    expect([r.ri, r.ro, r.rt]).toEqual([0, 0, 0])
  })
})

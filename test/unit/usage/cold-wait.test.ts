import { afterEach, describe, expect, it, vi } from 'vitest'
import { COLD_WAIT_MS, ColdWaits, MAX_WAITING } from '../../../src/usage/cold-wait.js'

/** Resolves after the turn in which woken requests are retried. */
const nextTurn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('waiting for a cold model to be learned', () => {
  afterEach(() => { vi.useRealTimers() })

  it('never waits when nothing of the model was admitted cold here', () => {
    const w = new ColdWaits()
    expect(w.park('ws/m', -1, 0, () => {})).toBe(false)
    w.admittedCold('ws/other')
    expect(w.park('ws/m', -1, 0, () => {})).toBe(false)
    expect(w.waiting).toBe(0)
  })

  it('retries every waiting request once, on the turn after a cold request of the model settled', async () => {
    const w = new ColdWaits()
    w.admittedCold('ws/m')
    w.admittedCold('ws/m')
    const retried: number[] = []
    expect(w.park('ws/m', -1, 0, () => retried.push(1))).toBe(true)
    expect(w.park('ws/m', -1, 0, () => retried.push(2))).toBe(true)
    expect(w.waiting).toBe(2)
    w.settledCold('ws/m')
    expect(retried).toEqual([]) // never inside the settlement
    await nextTurn()
    expect(retried).toEqual([1, 2])
    expect(w.waiting).toBe(0)
    // One cold request is still in flight: a refusal may wait again.
    expect(w.park('ws/m', 0, 100, () => retried.push(3))).toBe(true)
    w.settledCold('ws/m')
    await nextTurn()
    expect(retried).toEqual([1, 2, 3])
    // None left: the model is forgotten and refusals stand.
    expect(w.size).toBe(0)
    expect(w.park('ws/m', -1, 0, () => {})).toBe(false)
  })

  it('a request that waited its time already is refused; waiting requests are retried when the time is up', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const w = new ColdWaits()
    w.admittedCold('ws/m')
    expect(w.park('ws/m', 1000, 1000 + COLD_WAIT_MS, () => {})).toBe(false)
    let retried = 0
    expect(w.park('ws/m', -1, 0, () => { retried++ })).toBe(true)
    vi.advanceTimersByTime(COLD_WAIT_MS - 1)
    await nextTurn()
    expect(retried).toBe(0)
    vi.advanceTimersByTime(1)
    await nextTurn()
    expect(retried).toBe(1)
  })

  it('at most MAX_WAITING requests of a model wait at once', () => {
    const w = new ColdWaits()
    w.admittedCold('ws/m')
    for (let i = 0; i < MAX_WAITING; i++) expect(w.park('ws/m', -1, 0, () => {})).toBe(true)
    expect(w.park('ws/m', -1, 0, () => {})).toBe(false)
    w.wake('ws/m')
  })
})

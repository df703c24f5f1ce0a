// The Redis store sends the admission checks of one event-loop turn as one script call, in
// order and atomic as a whole: against the real Redis on this machine, checks made in one
// turn see each other's reservations exactly as sequential checks would.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisUsageStore } from '../../src/usage/store-redis.js'
import { WindowClock } from '../../src/usage/windows.js'
import { rateLimitItemsOf } from '../../src/usage/headers.js'
import type { CurrentWindows, RtModelLimits, RtTokenLimit, TokenCounts } from '../../src/core/usage.js'
import type { AdmissionRequest, CheckResult, Settlement } from '../../src/usage/store.js'
import { learn, learnedReservation, type Estimate } from '../../src/usage/estimate.js'

const REDIS = 'redis://127.0.0.1:6379'
const prefix = `agnet-test-batch-${randomBytes(4).toString('hex')}:`
let store: RedisUsageStore

function model (name: string, ...limits: RtTokenLimit[]): RtModelLimits {
  return { model: `ws/${name}`, limits, policyHeader: null, reserveTtlMs: 60_000, reserveOutput: 1024, clock: new WindowClock(limits), rateLimitItems: rateLimitItemsOf(limits) }
}
const limit = (policy: string, total: number, over: Partial<RtTokenLimit> = {}): RtTokenLimit =>
  ({ policy, key: `ws/m/${policy}/1minute`, granularity: 'minute', step: 1, input: 0, output: 0, total, dryRun: false, ...over })
/** Windows starting at `starts` (one per limit), a minute long. */
function windows (...starts: number[]): CurrentWindows {
  return { starts, ends: starts.map(s => s + 60_000), at () { return this }, secondsToReset: () => 1 }
}
const tokens = (input: number, output: number, total: number): TokenCounts => ({ input, output, total })
/** A check admitted at `now` that reserves exactly (input, output, total), learning nothing. */
const plain = (input: number, output: number, total: number, now: number): AdmissionRequest =>
  ({ admittedAt: now, bytes: 0, hint: -1, reserve: tokens(input, output, total), learn: false, learned: false })
/** An admission as the gate makes it: the cold reservation (input, output), replaced by a learned one once the store knows the model. */
const ask = (bytes: number, hint: number, input: number, output: number, now: number): AdmissionRequest =>
  ({ admittedAt: now, bytes, hint, reserve: tokens(input, output, input + output), learn: true, learned: false })
const answer = (admitted: boolean, ...used: Array<[number, number, number]>): CheckResult =>
  ({ admitted, used: used.map(([i, o, t]) => tokens(i, o, t)) })
const settle = (now: number, used: [number, number, number], released: [number, number, number], sampleBytes = -1): Settlement =>
  ({ used: tokens(...used), released: tokens(...released), admittedAt: now, settledAt: now, sampleBytes })

beforeAll(async () => {
  store = new RedisUsageStore({ redis: REDIS, failMode: 'closed', timeoutMs: 1000, keyPrefix: prefix, id: 'test' })
  expect(await store.ready(5000)).toBe(true)
})
afterAll(async () => {
  await store.close()
  const r = new Redis(REDIS)
  const keys = await r.keys(`${prefix}*`)
  if (keys.length > 0) await r.del(...keys)
  r.disconnect()
})

describe('batched admission checks on Redis', () => {
  it('sends the checks of one turn in one call, each seeing the reservations before it', async () => {
    const now = Date.parse('2026-11-25T10:00:30Z')
    const capped = model('capped', limit('cap', 100))
    // A second model (two limits, one a dry run) in the same call: keys and answers stay apart.
    const other = model('other', limit('a', 50, { key: 'ws/o/a/1minute' }), limit('dry', 1, { key: 'ws/o/dry/1minute', dryRun: true }))
    const w = windows(Date.parse('2026-11-25T10:00:00Z'), Date.parse('2026-11-25T10:00:00Z'))
    const spy = vi.spyOn(store.client, 'evalsha')
    const checks = [
      ...Array.from({ length: 12 }, () => store.check(capped, w, plain(0, 0, 10, now))),
      store.check(other, w, plain(0, 0, 30, now)),
      store.check(other, w, plain(0, 0, 30, now))
    ]
    const answers = await Promise.all(checks)
    expect(spy).toHaveBeenCalledTimes(1)
    spy.mockRestore()
    // 10 reserved per check against 100: the first ten are admitted, then refused, nothing more reserved.
    expect(answers.slice(0, 12).map(a => a.admitted)).toEqual([true, true, true, true, true, true, true, true, true, true, false, false])
    expect(answers.slice(0, 12).map(a => a.used)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100].map(t => [tokens(0, 0, t)]))
    // other: the dry-run limit never refuses; the second check sees the first one's 30.
    expect(answers[12]).toEqual(answer(true, [0, 0, 0], [0, 0, 0]))
    expect(answers[13]).toEqual(answer(true, [0, 0, 30], [0, 0, 30]))
  })

  it('fails every check of the call when Redis does not answer, and never hangs', async () => {
    const dead = new RedisUsageStore({ redis: 'redis://127.0.0.1:1', failMode: 'closed', timeoutMs: 100, keyPrefix: prefix, id: 'dead' })
    const m = model('capped', limit('cap', 100))
    const results = await Promise.allSettled([dead.check(m, windows(0), plain(0, 0, 1, 0)), dead.check(m, windows(0), plain(0, 0, 1, 0))])
    expect(results.map(r => r.status)).toEqual(['rejected', 'rejected'])
    await dead.close()
  })

  it('learns from settlements in the store and reserves by it as the memory store does (estimate.ts)', async () => {
    const now = Date.parse('2026-11-25T11:00:30Z')
    const w = windows(Date.parse('2026-11-25T11:00:00Z'))
    const ml = model('learner', limit('cap', 100000, { key: 'ws/learner/cap/1minute' }))
    // Nothing learned: the reservation sent is the one made, and reported back.
    const cold = ask(55, -1, 14, 1024, now)
    await store.check(ml, w, cold)
    expect(cold.reserve).toEqual(tokens(14, 1024, 1038))
    expect(cold.learned).toBe(false)
    // One settlement, then three in one turn (one script call, learned as one step of three).
    await store.add(ml, w, settle(now, [3, 17, 20], [14, 1024, 1038], 55))
    const e: Estimate = { samples: 0, ratio: 0, input: 0, output: 0 }
    learn(e, 1, 55, 3, 17)
    await Promise.all([
      store.add(ml, w, settle(now, [5, 9, 14], [0, 0, 0], 70)),
      store.add(ml, w, settle(now, [2, 30, 32], [0, 0, 0], 41)),
      store.add(ml, w, settle(now, [4, 11, 15], [0, 0, 0], 66))
    ])
    learn(e, 3, 70 + 41 + 66, 5 + 2 + 4, 9 + 30 + 11)
    for (const [bytes, hint] of [[55, -1], [1000, -1], [0, -1], [300, 3], [300, 10_000]] as const) {
      const got = ask(bytes, hint, 1, 1, now)
      await store.check(ml, w, got)
      const want = ask(bytes, hint, 0, 0, now)
      learnedReservation(want, e)
      expect(got.reserve, `${bytes} bytes, hint ${hint}`).toEqual(want.reserve)
      expect(got.learned).toBe(true)
    }
    // The estimate lives in one hash per model, with a time to live.
    const r = new Redis(REDIS)
    const key = `${prefix}e:{ws/learner}`
    expect(Number(await r.hget(key, 's'))).toBe(4)
    expect(await r.pttl(key)).toBeGreaterThan(23 * 3_600_000)
    r.disconnect()
  })

  it('a refused check reports a zero reservation', async () => {
    const now = Date.parse('2026-11-25T12:00:30Z')
    const w = windows(Date.parse('2026-11-25T12:00:00Z'))
    const ml = model('full', limit('cap', 10, { key: 'ws/full/cap/1minute' }))
    await store.add(ml, w, settle(now, [0, 0, 10], [0, 0, 0]))
    const r = ask(10, -1, 3, 1024, now)
    expect((await store.check(ml, w, r)).admitted).toBe(false)
    expect(r.reserve).toEqual(tokens(0, 0, 0))
  })
})

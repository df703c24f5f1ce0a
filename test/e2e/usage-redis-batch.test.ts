// The Redis store sends the admission checks of one event-loop turn as one script call, in
// order and atomic as a whole: against the real Redis on this machine, checks made in one
// turn see each other's reservations exactly as sequential checks would.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisUsageStore } from '../../src/usage/store-redis.js'
import { WindowClock } from '../../src/usage/windows.js'
import { rateLimitItemsOf } from '../../src/usage/headers.js'
import type { RtModelLimits, RtTokenLimit } from '../../src/core/usage.js'
import { learn, learnedReservation, type Estimate, type Reservation } from '../../src/usage/estimate.js'

const REDIS = 'redis://127.0.0.1:6379'
const prefix = `agnet-test-batch-${randomBytes(4).toString('hex')}:`
let store: RedisUsageStore

function model (name: string, ...limits: RtTokenLimit[]): RtModelLimits {
  return { model: `ws/${name}`, limits, policyHeader: null, reserveTtlMs: 60_000, reserveOutput: 1024, clock: new WindowClock(limits), rateLimitItems: rateLimitItemsOf(limits) }
}
const limit = (policy: string, total: number, over: Partial<RtTokenLimit> = {}): RtTokenLimit =>
  ({ policy, key: `ws/m/${policy}/1minute`, granularity: 'minute', step: 1, input: 0, output: 0, total, dryRun: false, ...over })

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
    const starts = [Date.parse('2026-11-25T10:00:00Z'), Date.parse('2026-11-25T10:00:00Z')]
    const spy = vi.spyOn(store.client, 'evalsha')
    const checks = [
      ...Array.from({ length: 12 }, () => store.check(capped, starts, 0, 0, 10, now)),
      store.check(other, starts, 0, 0, 30, now),
      store.check(other, starts, 0, 0, 30, now)
    ]
    const answers = await Promise.all(checks)
    expect(spy).toHaveBeenCalledTimes(1)
    spy.mockRestore()
    // 10 reserved per check against 100: the first ten are admitted, then refused, nothing more reserved.
    expect(answers.slice(0, 12).map(a => a[0])).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    expect(answers.slice(0, 12).map(a => a[3])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100])
    // other: the dry-run limit never refuses; the second check sees the first one's 30.
    expect(answers[12]).toEqual([1, 0, 0, 0, 0, 0, 0])
    expect(answers[13]).toEqual([1, 0, 0, 30, 0, 0, 30])
  })

  it('fails every check of the call when Redis does not answer, and never hangs', async () => {
    const dead = new RedisUsageStore({ redis: 'redis://127.0.0.1:1', failMode: 'closed', timeoutMs: 100, keyPrefix: prefix, id: 'dead' })
    const m = model('capped', limit('cap', 100))
    const results = await Promise.allSettled([dead.check(m, [0], 0, 0, 1, 0), dead.check(m, [0], 0, 0, 1, 0)])
    expect(results.map(r => r.status)).toEqual(['rejected', 'rejected'])
    await dead.close()
  })

  it('learns from settlements in the store and reserves by it as the memory store does (estimate.ts)', async () => {
    const now = Date.parse('2026-11-25T11:00:30Z')
    const starts = [Date.parse('2026-11-25T11:00:00Z')]
    const ml = model('learner', limit('cap', 100000, { key: 'ws/learner/cap/1minute' }))
    const ask = (bytes: number, hint: number, ri: number, ro: number): Reservation => ({ bytes, hint, ri, ro, rt: ri + ro, learned: false })
    // Nothing learned: the reservation sent is the one made, and reported back.
    const cold = ask(55, -1, 14, 1024)
    await store.check(ml, starts, cold.ri, cold.ro, cold.rt, now, cold)
    expect([cold.ri, cold.ro, cold.rt]).toEqual([14, 1024, 1038])
    // One settlement, then three in one turn (one script call, learned as one step of three).
    await store.add(ml, starts, [60000], 3, 17, 20, 14, 1024, 1038, now, 55)
    const e: Estimate = { samples: 0, ratio: 0, input: 0, output: 0 }
    learn(e, 1, 55, 3, 17)
    await Promise.all([
      store.add(ml, starts, [60000], 5, 9, 14, 0, 0, 0, now, 70),
      store.add(ml, starts, [60000], 2, 30, 32, 0, 0, 0, now, 41),
      store.add(ml, starts, [60000], 4, 11, 15, 0, 0, 0, now, 66)
    ])
    learn(e, 3, 70 + 41 + 66, 5 + 2 + 4, 9 + 30 + 11)
    for (const [bytes, hint] of [[55, -1], [1000, -1], [0, -1], [300, 3], [300, 10_000]] as const) {
      const got = ask(bytes, hint, 1, 1)
      await store.check(ml, starts, got.ri, got.ro, got.rt, now, got)
      const want = ask(bytes, hint, 0, 0)
      learnedReservation(want, e)
      expect([got.ri, got.ro, got.rt], `${bytes} bytes, hint ${hint}`).toEqual([want.ri, want.ro, want.rt])
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
    const starts = [Date.parse('2026-11-25T12:00:00Z')]
    const ml = model('full', limit('cap', 10, { key: 'ws/full/cap/1minute' }))
    await store.add(ml, starts, [60000], 0, 0, 10, 0, 0, 0, now)
    const r: Reservation = { bytes: 10, hint: -1, ri: 3, ro: 1024, rt: 1027, learned: false }
    expect((await store.check(ml, starts, r.ri, r.ro, r.rt, now, r))[0]).toBe(0)
    expect([r.ri, r.ro, r.rt]).toEqual([0, 0, 0])
  })
})

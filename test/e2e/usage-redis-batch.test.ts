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

const REDIS = 'redis://127.0.0.1:6379'
const prefix = `agnet-test-batch-${randomBytes(4).toString('hex')}:`
let store: RedisUsageStore

function model (name: string, ...limits: RtTokenLimit[]): RtModelLimits {
  return { model: `ws/${name}`, limits, policyHeader: null, reserveTtlMs: 60_000, clock: new WindowClock(limits), rateLimitItems: rateLimitItemsOf(limits) }
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
})

// Token-usage policies on Redis: two gateways (two replicas) enforce one limit, and a Redis
// that goes away mid-run never hangs a request (fail open or closed, as configured).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import type { RequestRecord } from '../../src/core/request-record.js'
import type { TokenUsage } from '../../src/core/usage.js'
import { RedisUsageStore } from '../../src/usage/store-redis.js'
import { freePort } from '../helpers/net.js'

const SHARED_REDIS = 'redis://127.0.0.1:6379'

function config (redis: string, prefix: string, failMode: 'open' | 'closed' = 'open', timeout = '200ms'): string {
  return `
usage:
  redis: ${redis}
  keyPrefix: "${prefix}"
  failMode: ${failMode}
  timeout: ${timeout}
workspaces:
  - name: demo
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    policies:
      - { name: cap, type: maxToken, maxTokens: { granularity: minute, total: 100 } }
      - { name: burst, type: maxToken, maxTokens: { granularity: hour, total: 2000 } }
      - { name: daycap, type: maxToken, maxTokens: { granularity: day, total: 100 } }
      - { name: cold, type: maxToken, maxTokens: { granularity: minute, total: 2000 } }
      - { name: unsaid, type: maxToken, maxTokens: { granularity: minute, total: 2000 } }
      - { name: shared, type: maxToken, maxTokens: { granularity: minute, total: 2000 } }
    models:
      - name: capped
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [cap]
      - name: burst
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [burst]
      - name: leaky
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [daycap]
        timeouts: { total: 1m }
      - name: cold
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [cold]
      - name: unsaid
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [unsaid]
      - name: shared
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [shared]
`
}

/** A redis-server of our own, to kill and restart. */
async function startRedis (port: number): Promise<ChildProcess> {
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    p.once('exit', code => { reject(new Error(`redis-server exited with ${String(code)}: ${out}`)) })
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('Ready to accept connections')) resolve()
    })
  })
  return p
}

async function stopRedis (p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return
  const exited = new Promise(resolve => p.once('exit', resolve))
  p.kill('SIGKILL')
  await exited
}

interface Replica { gw: TestGateway; call: (model: string, body?: unknown) => Promise<{ res: Response; usage: TokenUsage | null }> }

async function replica (yaml: string, clock: () => number): Promise<Replica> {
  const finished = new Map<string, TokenUsage | null>()
  const waiters = new Map<string, (u: TokenUsage | null) => void>()
  let seq = 0
  const gw = await startGateway(yaml, {
    usageClock: clock,
    observe: (ctx: RequestRecord) => {
      const u = ctx.usage === null ? null : { ...ctx.usage }
      finished.set(ctx.id, u)
      waiters.get(ctx.id)?.(u)
    }
  })
  const tag = randomBytes(3).toString('hex')
  return {
    gw,
    async call (model, body = { messages: [{ role: 'user', content: 'one two three' }] }) {
      const id = `r-${tag}-${++seq}`
      const res = await fetch(`${gw.url}/demo/models/${model}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id, 'x-mock-latency-ms': '50' },
        body: JSON.stringify(body)
      })
      await res.arrayBuffer()
      const usage = finished.has(id) ? finished.get(id) ?? null : await new Promise<TokenUsage | null>(resolve => { waiters.set(id, resolve) })
      return { res, usage }
    }
  }
}

/** Resolves when the replica's Redis store is connected (awaits ioredis' ready event). */
async function connected (r: Replica): Promise<void> {
  const store = r.gw.app.services.usage.currentStore
  if (!(store instanceof RedisUsageStore)) throw new Error('not a Redis store')
  if (!await store.ready(20_000)) throw new Error('Redis did not come back')
}

/** Resolves when the replica has sent every settlement to Redis. */
async function idle (r: Replica): Promise<void> {
  const store = r.gw.app.services.usage.currentStore
  if (store instanceof RedisUsageStore) await store.idle()
}

describe('token usage on Redis: two replicas, one limit', () => {
  const prefix = `agnet-test-${randomBytes(4).toString('hex')}:`
  const clock = { now: Date.parse('2026-11-25T10:00:05Z') }
  let a: Replica
  let b: Replica

  beforeAll(async () => {
    // A check that outlasts usage.timeout is admitted unchecked (fail open) and its reservation
    // left to expire: on a busy test machine that would break the exact figures, so wait longer.
    a = await replica(config(SHARED_REDIS, prefix, 'open', '5s'), () => clock.now)
    b = await replica(config(SHARED_REDIS, prefix, 'open', '5s'), () => clock.now)
    await connected(a)
    await connected(b)
  })
  afterAll(async () => {
    await a?.gw.close()
    await b?.gw.close()
    const r = new Redis(SHARED_REDIS)
    const keys = await r.keys(`${prefix}*`)
    if (keys.length > 0) await r.del(...keys)
    r.disconnect()
  })

  it('requests alternating between the replicas share one counter', async () => {
    const remaining: string[] = []
    // 19 tokens a request, limit 100: six requests (114) exhaust it, the sixth crosses.
    for (let i = 0; i < 6; i++) {
      const { res, usage } = await (i % 2 === 0 ? a : b).call('capped')
      expect(res.status).toBe(200)
      expect(usage?.total).toBe(19)
      remaining.push(res.headers.get('ratelimit') ?? '')
    }
    expect(remaining).toEqual([0, 19, 38, 57, 76, 95].map(u => `"cap:total";r=${100 - u};t=55`))
    for (const r of [a, b]) {
      const { res, usage } = await r.call('capped')
      expect(res.status).toBe(429)
      expect(res.headers.get('retry-after')).toBe('55')
      expect(usage).toBeNull()
    }
    // The keys live in Redis with their window.
    await idle(a)
    await idle(b)
    const redis = new Redis(SHARED_REDIS)
    const key = `${prefix}u:{demo/capped/cap/1minute}:${Date.parse('2026-11-25T10:00:00Z')}`
    expect(await redis.hgetall(key)).toEqual({ i: '18', o: '96', t: '114' })
    const ttl = await redis.pttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(55_000 + 60_000)
    redis.disconnect()
  })

  it('a replica that dies mid-request holds its reservation only as long as a request can live, however busy the model', async () => {
    const redis = new Redis(SHARED_REDIS)
    // Total timeout 1 min → reservations live in 30 s buckets, a check reads 5 of them.
    const t0 = Date.parse('2026-11-25T16:00:00Z')
    clock.now = t0
    await redis.hincrby(`${prefix}r:{demo/leaky/daycap/1day}:${Math.floor(t0 / 30_000)}`, 't', 90)
    await redis.pexpire(`${prefix}r:{demo/leaky/daycap/1day}:${Math.floor(t0 / 30_000)}`, 600_000)
    const first = await a.call('leaky')
    expect(first.res.headers.get('ratelimit')).toBe('"daycap:total";r=10;t=28800') // the dead replica's 90 count
    // Traffic goes on; a minute later the reservation still counts (the request could be alive).
    clock.now = t0 + 60_000
    const second = await b.call('leaky')
    expect(second.res.status).toBe(429)
    expect(second.res.headers.get('ratelimit')).toBe('"daycap:total";r=0;t=28740')
    // Past the longest a request can live: only what was really used counts.
    clock.now = t0 + 150_000
    expect((await a.call('leaky')).res.headers.get('ratelimit')).toBe('"daycap:total";r=81;t=28650')
    redis.disconnect()
  })

  it('200 concurrent requests split over two replicas overshoot by about one request', async () => {
    clock.now = Date.parse('2026-11-25T10:00:05Z')
    // Each replica learns what a request uses from one request of its own.
    await a.call('burst')
    await b.call('burst')
    const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => await (i % 2 === 0 ? a : b).call('burst')))
    const admitted = results.filter(r => r.res.status === 200)
    const refused = results.filter(r => r.res.status === 429)
    expect(admitted.length + refused.length).toBe(200)
    expect(refused.length).toBeGreaterThan(0)
    const used = 38 + admitted.reduce((n, r) => n + (r.usage?.total ?? 0), 0)
    await idle(a)
    await idle(b)
    const redis = new Redis(SHARED_REDIS)
    const stored = await redis.hget(`${prefix}u:{demo/burst/burst/1hour}:${Date.parse('2026-11-25T10:00:00Z')}`, 't')
    const reserved: Record<string, string>[] = []
    for (const k of await redis.keys(`${prefix}r:{demo/burst/burst/1hour}:*`)) reserved.push(await redis.hgetall(k))
    redis.disconnect()
    expect(Number(stored)).toBe(used) // refused requests added nothing
    expect(reserved.length).toBeGreaterThan(0)
    for (const r of reserved) expect(r).toEqual({ i: '0', o: '0', t: '0' }) // every reservation released
    expect(used).toBeGreaterThanOrEqual(2000)
    expect(used - 2000).toBeLessThanOrEqual(2 * 19)
    console.log(`redis store, two replicas, 200 concurrent, limit 2000: admitted ${admitted.length}, refused ${refused.length}, counted ${used} (overshoot ${used - 2000})`)
  })
})

const PROMPT = { messages: [{ role: 'user', content: 'one two three' }] }

/** `n` concurrent requests split over `replicas`; what was admitted and counted in the window. */
async function burstOver (replicas: Replica[], prefix: string, policy: string, window: string, n: number, body: unknown = PROMPT): Promise<{ admitted: number; refused: number; used: number; stored: number; largest: number }> {
  const results = await Promise.all(Array.from({ length: n }, async (_, i) => await (replicas[i % replicas.length] as Replica).call(policy, body)))
  const admitted = results.filter(r => r.res.status === 200)
  const refused = results.filter(r => r.res.status === 429)
  expect(admitted.length + refused.length).toBe(n)
  for (const r of replicas) await idle(r)
  const redis = new Redis(SHARED_REDIS)
  const stored = Number(await redis.hget(`${prefix}u:{demo/${policy}/${policy}/1minute}:${Date.parse(window)}`, 't'))
  const reserved: Record<string, string>[] = []
  for (const k of await redis.keys(`${prefix}r:{demo/${policy}/${policy}/1minute}:*`)) reserved.push(await redis.hgetall(k))
  redis.disconnect()
  for (const r of reserved) expect(r).toEqual({ i: '0', o: '0', t: '0' }) // every reservation released
  return {
    admitted: admitted.length,
    refused: refused.length,
    used: admitted.reduce((a, r) => a + (r.usage?.total ?? 0), 0),
    stored,
    largest: admitted.reduce((m, r) => Math.max(m, r.usage?.total ?? 0), 0)
  }
}

const pct = (over: number): string => `${over >= 0 ? '+' : ''}${(100 * over / 2000).toFixed(1)}%`

describe('token usage on Redis from a cold start: what one replica learned, every replica reserves by', () => {
  const prefix = `agnet-test-${randomBytes(4).toString('hex')}:`
  const clock = { now: Date.parse('2026-11-25T10:00:05Z') }
  const replicas: Replica[] = []
  const start = async (): Promise<Replica> => {
    // As above: no fail-open admission on a busy machine.
    const r = await replica(config(SHARED_REDIS, prefix, 'open', '5s'), () => clock.now)
    replicas.push(r)
    await connected(r)
    return r
  }

  afterAll(async () => {
    for (const r of replicas) await r.gw.close()
    const r = new Redis(SHARED_REDIS)
    const keys = await r.keys(`${prefix}*`)
    if (keys.length > 0) await r.del(...keys)
    r.disconnect()
  })

  it('two fresh replicas, nothing in Redis, 400 concurrent requests that say their max_tokens: the overshoot stays under one request (≤ 10%)', async () => {
    const [a, b] = [await start(), await start()]
    clock.now = Date.parse('2026-11-25T10:00:05Z')
    const r = await burstOver([a, b], prefix, 'cold', '2026-11-25T10:00:00Z', 400, { ...PROMPT, max_tokens: 24 })
    expect(r.stored).toBe(r.used) // refused requests added nothing
    expect(r.refused).toBeGreaterThan(0)
    expect(r.stored - 2000).toBeLessThan(r.largest)
    expect(r.stored - 2000).toBeLessThanOrEqual(200)
    console.log(`redis store, two replicas, cold, 400 concurrent with max_tokens, limit 2000: admitted ${r.admitted}, refused ${r.refused}, counted ${r.stored} (overshoot ${r.stored - 2000}, ${pct(r.stored - 2000)})`)
  })

  it('two fresh replicas, 400 concurrent requests that do not say: those usage.reserveOutput crowds out wait for a settlement, then the window fills to the crossing request', async () => {
    const [a, b] = [replicas[0] as Replica, replicas[1] as Replica]
    clock.now = Date.parse('2026-11-25T10:01:05Z')
    const waited = (): number => a.gw.app.services.usage.stats.coldWaits + b.gw.app.services.usage.stats.coldWaits
    const before = waited()
    const r = await burstOver([a, b], prefix, 'unsaid', '2026-11-25T10:01:00Z', 400)
    expect(r.stored).toBe(r.used)
    expect(waited() - before).toBeGreaterThan(0) // 1024 held for each would admit two
    expect(r.stored).toBeGreaterThanOrEqual(2000)
    expect(r.stored - 2000).toBeLessThan(r.largest)
    expect(r.stored - 2000).toBeLessThanOrEqual(200)
    console.log(`redis store, two replicas, cold, 400 concurrent without max_tokens (reserveOutput 1024), limit 2000: admitted ${r.admitted}, refused ${r.refused}, counted ${r.stored} (overshoot ${r.stored - 2000}, ${pct(r.stored - 2000)}), ${waited() - before} waited for the first settlement`)
  })

  it('replicas started after another learned the model reserve by it from their first request: the window fills, overshoot under one request (≤ 1%)', async () => {
    clock.now = Date.parse('2026-11-25T10:02:05Z')
    // One request on a replica that then goes away: what it learned stays in Redis.
    const teacher = replicas[0] as Replica
    expect((await teacher.call('shared')).res.status).toBe(200)
    await idle(teacher)
    clock.now = Date.parse('2026-11-25T10:03:05Z')
    const [c, d] = [await start(), await start()]
    const r = await burstOver([c, d], prefix, 'shared', '2026-11-25T10:03:00Z', 400)
    expect(r.stored).toBe(r.used)
    expect(r.refused).toBeGreaterThan(0)
    // Cold, these replicas would have held 1024 output tokens a request and waited.
    expect(c.gw.app.services.usage.stats.coldWaits + d.gw.app.services.usage.stats.coldWaits).toBe(0)
    expect(r.stored).toBeGreaterThanOrEqual(2000)
    expect(r.stored - 2000).toBeLessThan(r.largest)
    expect(r.stored - 2000).toBeLessThanOrEqual(20)
    console.log(`redis store, two replicas started warm, 400 concurrent, limit 2000: admitted ${r.admitted}, refused ${r.refused}, counted ${r.stored} (overshoot ${r.stored - 2000}, ${pct(r.stored - 2000)})`)
  })
})

describe('token usage when Redis goes away mid-run', () => {
  let port: number
  let redis: ChildProcess
  const clock = { now: Date.parse('2026-11-25T12:00:05Z') }

  beforeAll(async () => {
    port = await freePort()
    redis = await startRedis(port)
  })
  afterAll(async () => { await stopRedis(redis) })

  it('fail open: admits with a log line and a count, never hangs, and counts again once Redis is back', async () => {
    const r = await replica(config(`redis://127.0.0.1:${port}`, 'open:'), () => clock.now)
    try {
      await connected(r)
      expect((await r.call('capped')).res.headers.get('ratelimit')).toBe('"cap:total";r=100;t=55')
      await stopRedis(redis)
      const down = await r.call('capped')
      expect(down.res.status).toBe(200)
      expect(down.res.headers.get('ratelimit-policy')).toBe('"cap:total";q=100;w=60;qu="tokens"')
      expect(down.res.headers.get('ratelimit')).toBeNull() // unknown while the store is away
      const stats = r.gw.app.services.usage.stats
      expect(stats.failedOpen).toBeGreaterThanOrEqual(1)
      expect(r.gw.logs.some(l => l.includes('usage store') && l.includes('failing open'))).toBe(true)
      redis = await startRedis(port)
      await connected(r)
      // A fresh Redis (nothing saved): the count starts again from what happens now.
      // It knows nothing of the model either, so the first request holds its upper bound until
      // its settlement lands; the settlement script is not loaded in the new Redis yet, so its
      // fallback call can trail the next check: wait for it.
      expect((await r.call('capped')).res.headers.get('ratelimit')).toBe('"cap:total";r=100;t=55')
      await idle(r)
      expect((await r.call('capped')).res.headers.get('ratelimit')).toBe('"cap:total";r=81;t=55')
      expect(r.gw.logs.some(l => l.includes('usage store reachable'))).toBe(true)
    } finally {
      await r.gw.close()
    }
  })

  it('fail closed: 503 with Retry-After at once, then admits again once Redis is back', async () => {
    const r = await replica(config(`redis://127.0.0.1:${port}`, 'closed:', 'closed'), () => clock.now)
    try {
      await connected(r)
      expect((await r.call('capped')).res.status).toBe(200)
      await stopRedis(redis)
      const down = await r.call('capped')
      expect(down.res.status).toBe(503)
      expect(down.res.headers.get('retry-after')).toBe('1')
      expect(down.res.headers.get('x-blaxel-error-code')).toBe('WORKLOAD_UNAVAILABLE')
      expect(r.gw.app.services.usage.stats.failedClosed).toBeGreaterThanOrEqual(1)
      redis = await startRedis(port)
      await connected(r)
      expect((await r.call('capped')).res.status).toBe(200)
    } finally {
      await r.gw.close()
    }
  })

  it('a reload that changes usage.redis moves the counters to the new Redis', async () => {
    const prefix = `agnet-test-${randomBytes(4).toString('hex')}:`
    const r = await replica(config(`redis://127.0.0.1:${port}`, prefix), () => clock.now)
    try {
      await connected(r)
      await r.call('capped')
      expect((await r.call('capped')).res.headers.get('ratelimit')).toBe('"cap:total";r=81;t=55')
      const result = await r.gw.rewrite(config(SHARED_REDIS, prefix))
      expect(result.ok).toBe(true)
      // The first limited request builds the new store and waits (bounded) for its connection.
      const first = await r.call('capped')
      expect(first.res.headers.get('ratelimit')).toBe('"cap:total";r=100;t=55')
      await idle(r)
      const shared = new Redis(SHARED_REDIS)
      const key = `${prefix}u:{demo/capped/cap/1minute}:${Date.parse('2026-11-25T12:00:00Z')}`
      expect(await shared.hget(key, 't')).toBe('19')
      expect((await r.call('capped')).res.headers.get('ratelimit')).toBe('"cap:total";r=81;t=55')
      await shared.del(key, ...await shared.keys(`${prefix}r:{demo/capped/cap/1minute}:*`))
      shared.disconnect()
    } finally {
      await r.gw.close()
    }
  })
})

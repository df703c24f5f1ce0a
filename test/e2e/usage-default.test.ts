// The embedded default config's capped demo model: a user sees a 429 within a few requests.
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serve, type Served } from '../../src/server.js'
import { createLogger } from '../../src/observability/logger.js'

let served: Served
const env: NodeJS.ProcessEnv = { AGNET_DEMO_KEY: 'agnet_demo_key_for_usage_tests_0123', AGNET_DEMO_CLIENT_ID: 'demo-client', AGNET_DEMO_CLIENT_SECRET: 'demo-secret-0123456789' }

beforeAll(async () => {
  const logger = createLogger({ level: 'warn', destination: new Writable({ write (_c, _e, cb) { cb() } }) })
  served = await serve({ port: 0, host: '127.0.0.1', env, banner: false, watch: false, handleSignals: false, logger })
})
afterAll(async () => { await served.close() })

it('gpt-4o-mini-capped answers 429 POLICY_VIOLATION after a handful of requests, with the RateLimit headers on every answer', async () => {
  const statuses: number[] = []
  let refused: Response | null = null
  // 200 tokens a minute, ~17 a request: 12 requests; 30 covers a minute turning mid-test.
  for (let i = 0; i < 30 && refused === null; i++) {
    const res = await fetch(`http://127.0.0.1:${served.port}/demo/models/gpt-4o-mini-capped/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.AGNET_DEMO_KEY as string}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    })
    await res.arrayBuffer()
    expect(res.headers.get('ratelimit-policy')).toBe('"demo-token-cap:total";q=200;w=60;qu="tokens"')
    expect(res.headers.get('ratelimit')).toMatch(/^"demo-token-cap:total";r=\d+;t=\d+$/)
    statuses.push(res.status)
    if (res.status === 429) refused = res
  }
  expect(refused).not.toBeNull()
  expect(refused?.headers.get('x-should-retry')).toBe('false')
  expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  expect(statuses.filter(s => s !== 200 && s !== 429)).toEqual([])
})

describe('README numbers', () => {
  // A server of its own: its token windows start empty.
  let fresh: Served
  beforeAll(async () => {
    const logger = createLogger({ level: 'warn', destination: new Writable({ write (_c, _e, cb) { cb() } }) })
    fresh = await serve({ port: 0, host: '127.0.0.1', env, banner: false, watch: false, handleSignals: false, logger })
  })
  afterAll(async () => { await fresh.close() })

  it('the README\'s numbers for gpt-4o-mini-capped: 19 tokens a request with the first request\'s prompt, the 12th in a minute refused', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const call = async (): Promise<Response> => await fetch(`http://127.0.0.1:${fresh.port}/demo/models/gpt-4o-mini-capped/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.AGNET_DEMO_KEY as string}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello from agnet' }] })
    })
    // Counted from an empty window; the count restarts if a minute turns meanwhile.
    let served200 = 0
    let lastReset = Infinity
    let perRequest = 0
    for (let i = 0; i < 200; i++) {
      const res = await call()
      const body = await res.json() as { usage?: { total_tokens: number } }
      const reset = Number(/t=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1])
      if (reset > lastReset) served200 = 0 // a new window began
      lastReset = reset
      if (res.status === 200) {
        perRequest = body.usage?.total_tokens ?? 0
        served200++
        continue
      }
      break
    }
    expect(perRequest).toBe(19)
    const refusedAt = Math.ceil(200 / perRequest) + 1
    expect(served200 + 1).toBe(refusedAt)
    expect(readme.replace(/\s+/g, ' ')).toContain(`each request uses ${perRequest} tokens, so the first ${refusedAt - 1} requests of a minute pass (the ${refusedAt - 1}th crosses the limit and completes) and the ${refusedAt}th is the first one refused`)
  })
})

// The remote JWKS cache with an injected clock: one fetch per cool-down whatever the storm,
// concurrent misses share a fetch, known keys keep serving while the endpoint is down.
import http from 'node:http'
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RemoteJwks } from '../../../src/auth/jwks.js'

let server: http.Server
let url = ''
let mode: 'ok' | 'down' | 'hang' = 'ok'
let hits = 0
const jwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'k1' }

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    hits++
    if (mode === 'hang') return
    if (mode === 'down') { res.writeHead(503).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'sym' }] }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/jwks`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

// A generous fetch timeout where the endpoint answers (a loaded CI machine can take a few
// hundred ms for a first fetch); the hanging case uses a short one.
function make (now: { t: number }, timeoutMs = 10_000): RemoteJwks {
  return new RemoteJwks({ url, algorithms: ['ES256', 'HS256'], ttlMs: 60_000, cooldownMs: 30_000, timeoutMs, now: () => now.t })
}

describe('RemoteJwks', () => {
  it('fetches once, then answers synchronously from the cache; oct keys from the network are ignored', async () => {
    mode = 'ok'; hits = 0
    const clock = { t: 1_000_000 }
    const j = make(clock)
    const first = await j.keysFor('k1')
    expect(first).toHaveLength(1)
    const second = j.keysFor('k1')
    expect(Array.isArray(second)).toBe(true)
    expect(await j.keysFor('sym')).toHaveLength(0)
    expect(hits).toBe(1) // the unknown "sym" is inside the cool-down: no second fetch
  })

  it('a storm of unknown kids while the endpoint is down costs one fetch per cool-down', async () => {
    mode = 'down'; hits = 0
    const clock = { t: 5_000_000 }
    const j = make(clock)
    const answers = await Promise.all(Array.from({ length: 100 }, async (_, i) => await j.keysFor(`nope-${i}`)))
    expect(answers.every(a => a.length === 0)).toBe(true)
    expect(hits).toBe(1)
    for (let i = 0; i < 100; i++) expect(j.keysFor(`again-${i}`)).toEqual([]) // sync refusals, no fetch
    expect(hits).toBe(1)
    clock.t += 30_001
    await j.keysFor('after-cooldown')
    expect(hits).toBe(2)
  })

  it('a hanging endpoint is cut at the timeout, and the storm waits on that one fetch only', async () => {
    mode = 'hang'; hits = 0
    const j = make({ t: 9_000_000 }, 200)
    const answers = await Promise.all(Array.from({ length: 50 }, async (_, i) => await j.keysFor(`k-${i}`)))
    expect(answers.every(a => a.length === 0)).toBe(true)
    expect(hits).toBe(1)
  })

  it('known keys keep working from the cache while the endpoint is down, even when stale', async () => {
    mode = 'ok'; hits = 0
    const clock = { t: 20_000_000 }
    const j = make(clock)
    expect(await j.keysFor('k1')).toHaveLength(1)
    mode = 'down'
    clock.t += 120_000 // past the TTL: a background refresh is started, the stale key still answers
    const k = j.keysFor('k1')
    expect(Array.isArray(k) && k.length === 1).toBe(true)
    expect(j.fetches).toBe(2) // the refresh started in the background
  })
})

// Network faults end to end: each effect injected over the HTTP API between a real gateway
// and real mock upstreams, going through failover, ejection, timeouts and the replay rule;
// the API's access rules and errors; visibility in headers, the access line, metrics and
// explain; faults declared in the config and kept across reloads.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startTunableMock, type TunableMock } from '../helpers/tunable-mock.js'
import { runCli } from '../helpers/cli.js'

const ADMIN = 'agnet_test_fault_admin_0123456789'
const MEMBER = 'agnet_test_fault_member_012345678'
const OTHER_ADMIN = 'agnet_test_fault_other_0123456789'

let gw: TestGateway
let a: TunableMock
let b: TunableMock
let yaml: string

const dep = (name: string, region: string, url: string): string => `          - { name: ${name}, region: ${region}, url: "${url}" }`
const model = (name: string, deps: string[], routing = '', extra = ''): string => `      - name: ${name}
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        routing: { strategy: priority${routing} }${extra}
        deployments:
${deps.join('\n')}`

beforeAll(async () => {
  ;[a, b] = await Promise.all([startTunableMock('eu-fra-1'), startTunableMock('eu-lon-1')])
  const ab = [dep('a', 'eu-fra-1', a.url), dep('b', 'eu-lon-1', b.url)]
  yaml = `
server: { region: eu-fra-1, trustOriginHeader: true }
users:
  - name: root
    apiKeys: [{ name: root-key, value: "${ADMIN}" }]
  - name: mia
    apiKeys: [{ name: mia-key, value: "${MEMBER}" }]
  - name: olga
    apiKeys: [{ name: olga-key, value: "${OTHER_ADMIN}" }]
workspaces:
  - name: acme
    members: [{ user: root, role: admin }, { user: mia, role: member }, { user: olga, role: admin }]
    integrations:
      - { name: oai, provider: openai, apiKey: "sk-upstream" }
    models:
${model('down', ab)}
${model('reset', ab)}
${model('reset-opt-in', ab, ', retryNonIdempotent: true')}
${model('status', ab)}
${model('solo', [dep('a', 'eu-fra-1', a.url)])}
${model('latency', ab)}
${model('stall', ab, '', '\n        timeouts: { firstByte: 150ms }')}
${model('cut', ab)}
${model('ratelimit', ab)}
${model('errors', [dep('a', 'eu-fra-1', a.url)], ', ejectAfter: 100')}
  - name: beta
    members: [{ user: root, role: admin }]
    integrations:
      - { name: oai, provider: openai, apiKey: "sk-upstream" }
    models:
${model('other', [dep('x', 'eu-fra-1', a.url)])}
`
  gw = await startGateway(yaml)
})

afterAll(async () => {
  await gw.close()
  await Promise.all([a.kill(), b.kill()])
})

beforeEach(async () => {
  for (const m of [a, b]) { m.knobs = {}; m.answer = null; m.requests = 0; m.bodies.length = 0 }
  await api('DELETE', '/v0/network/faults')
})

async function api (method: string, path: string, body?: unknown, key: string | null = ADMIN): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {}
  if (key !== null) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${gw.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, json: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

async function fault (name: string, body: Record<string, unknown>): Promise<void> {
  const r = await api('PUT', `/v0/network/faults/${name}`, body)
  expect(r.status, JSON.stringify(r.json)).toBe(201)
}

const chat = (tag: string, stream = false): string => JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: `hello ${tag}` }] })

async function post (modelName: string, payload: string, ws = 'acme'): Promise<Response> {
  return await fetch(`${gw.url}/${ws}/models/${modelName}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: payload })
}

describe('effects, through the real failover machinery', () => {
  it('down: a refused connection, nothing sent, the next deployment serves; marked in header and access line', async () => {
    await fault('fra-down', { region: 'eu-fra-1', model: 'down', effect: 'down' })
    const res = await post('down', chat('d1'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    expect(res.headers.get('x-agnet-attempts')).toBe('2')
    expect(res.headers.get('x-agnet-fault')).toBe('fra-down')
    await res.text()
    expect(a.requests).toBe(0)
    expect(b.bodies).toEqual([chat('d1')])
    const line = gw.logs.map(l => JSON.parse(l) as Record<string, unknown>).findLast(l => l.msg === 'request' && l.model === 'down')
    expect(line).toMatchObject({ fault: 'fra-down', failure: 'ECONNREFUSED', deployment: 'b', attempts: 2 })
  })

  it('reset after a full POST body: not replayed by default, 502 retryable, executed exactly once', async () => {
    await fault('fra-reset', { deployment: 'a', model: 'reset', effect: 'reset' })
    const res = await post('reset', chat('r1'))
    expect(res.status).toBe(502)
    expect(res.headers.get('x-agnet-fault')).toBe('fra-reset')
    const body = await res.json() as { error: { code: string; retryable: boolean; message: string } }
    expect(body.error).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', retryable: true })
    expect(body.error.message).toMatch(/may have run/)
    await a.waitForRequests(1)
    expect(a.bodies).toEqual([chat('r1')])
    expect(b.requests).toBe(0)
  })

  it('reset after a full POST body with routing.retryNonIdempotent: replayed on the next deployment', async () => {
    await fault('fra-reset', { deployment: 'a', model: 'reset-opt-in', effect: 'reset' })
    const res = await post('reset-opt-in', chat('r2'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    await res.text()
    expect(b.bodies).toEqual([chat('r2')])
  })

  it('reset on a GET (idempotent) moves to the next deployment', async () => {
    await fault('fra-reset', { deployment: 'a', model: 'reset', effect: 'reset' })
    const res = await fetch(`${gw.url}/acme/models/reset/v1/models`, { headers: { authorization: `Bearer ${ADMIN}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    await res.text()
  })

  it('status: answered before any byte, so it fails over; relayed as is on the last candidate', async () => {
    await fault('fra-503', { deployment: 'a', effect: 'status', status: 503 })
    const moved = await post('status', chat('s1'))
    expect(moved.status).toBe(200)
    expect(moved.headers.get('x-agnet-deployment')).toBe('b')
    await moved.text()
    const solo = await post('solo', chat('s2'))
    expect(solo.status).toBe(503)
    expect(solo.headers.get('x-agnet-fault')).toBe('fra-503')
    expect(await solo.json()).toMatchObject({ error: { type: 'agnet_fault', code: 503 } })
    expect(a.requests).toBe(0)
  })

  it('latency: the attempt is delayed, then served by the same deployment', async () => {
    await fault('slow-fra', { model: 'latency', region: 'eu-fra-1', effect: 'latency', ms: 30, jitter: 10 })
    const res = await post('latency', chat('l1'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('a')
    expect(res.headers.get('x-agnet-fault')).toBe('slow-fra')
    await res.text()
  })

  it('stall: no headers ever, so the first-byte timeout ends it (504, never retried)', async () => {
    await fault('fra-stall', { model: 'stall', deployment: 'a', effect: 'stall' })
    const res = await post('stall', chat('t1'))
    expect(res.status).toBe(504)
    expect(await res.json()).toMatchObject({ error: { code: 'UPSTREAM_TIMEOUT' } })
    expect(b.requests).toBe(0)
  })

  it('cut: the stream breaks after afterBytes; the client sees a broken stream, never a clean end', async () => {
    await fault('fra-cut', { model: 'cut', deployment: 'a', effect: 'cut', afterBytes: 40 })
    const res = await post('cut', chat('c1', true))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-fault')).toBe('fra-cut')
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let got = 0
    const broken = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return false
          got += value.length
        }
      } catch { return true }
    })()
    expect(broken).toBe(true)
    expect(got).toBe(40)
  })

  it('ratelimit: a 429 with Retry-After; the deployment is kept out that long', async () => {
    await fault('fra-429', { model: 'ratelimit', deployment: 'a', effect: 'ratelimit', retryAfter: 30 })
    const res = await post('ratelimit', chat('q1'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-deployment')).toBe('b')
    await res.text()
    const explain = await api('GET', '/v0/routing/acme/ratelimit')
    const deps = explain.json.deployments as Array<{ name: string; verdict: string; ejectedForMs: number; faults: string[] }>
    expect(deps[0]).toMatchObject({ name: 'a', verdict: 'ejected', faults: ['fra-429 (ratelimit)'] })
    expect(deps[0]?.ejectedForMs).toBeGreaterThan(20_000)
    expect(explain.json.faults).toEqual([{ name: 'fra-429', effect: 'ratelimit', deployments: ['a'] }])
    const again = await post('ratelimit', chat('q2'))
    expect(again.headers.get('x-agnet-deployment')).toBe('b')
    expect(again.headers.get('x-agnet-fault')).toBeNull()
    await again.text()
  })

  it('errors: a seeded fraction of 500s that replays identically', async () => {
    const run = async (): Promise<string> => {
      await fault('flaky', { model: 'errors', effect: 'errors', rate: 0.3, seed: 7 })
      let seq = ''
      for (let i = 0; i < 30; i++) {
        const res = await post('errors', chat(`e${i}`))
        seq += res.status === 500 ? 'x' : '.'
        await res.text()
      }
      await api('DELETE', '/v0/network/faults/flaky')
      return seq
    }
    const first = await run()
    const second = await run()
    expect(first).toBe(second)
    expect(first).toContain('x')
    expect(first).toContain('.')
  })
})

describe('the /v0/network/faults API', () => {
  it('lists, replaces, deletes one and all', async () => {
    await fault('one', { region: 'eu-fra-1', effect: 'down' })
    await fault('two', { region: 'eu-lon-1', effect: 'latency', ms: 5 })
    const replaced = await api('PUT', '/v0/network/faults/two', { region: 'eu-lon-1', effect: 'latency', ms: 9 })
    expect(replaced.status).toBe(200)
    const list = await api('GET', '/v0/network/faults')
    expect((list.json.faults as Array<{ name: string; source: string }>).map(f => f.name)).toEqual(['one', 'two'])
    expect((await api('DELETE', '/v0/network/faults/one')).json).toEqual({ deleted: ['one'] })
    expect((await api('DELETE', '/v0/network/faults/one')).status).toBe(404)
    expect((await api('DELETE', '/v0/network/faults')).json).toEqual({ deleted: ['two'] })
    expect((await api('GET', '/v0/network/faults')).json).toEqual({ faults: [] })
  })

  it('a bad body is a 400 naming the field and the valid values', async () => {
    const effect = await api('PUT', '/v0/network/faults/x', { region: 'eu-fra-1', effect: 'explode' })
    expect(effect.status).toBe(400)
    expect(effect.json.message).toMatch(/^effect: .*down, reset, status, latency, stall, cut, ratelimit, errors/)
    const rate = await api('PUT', '/v0/network/faults/x', { region: 'eu-fra-1', effect: 'errors', rate: 2 })
    expect(rate.status).toBe(400)
    expect(rate.json.message).toMatch(/^rate: /)
    const field = await api('PUT', '/v0/network/faults/x', { region: 'eu-fra-1', effect: 'down', colour: 'red' })
    expect(field.json.message).toMatch(/^colour: unknown field/)
    const none = await api('PUT', '/v0/network/faults/x', { effect: 'down' })
    expect(none.status).toBe(400)
  })

  it('a fault on a target that does not exist is a 404 naming the valid values', async () => {
    const r = await api('PUT', '/v0/network/faults/x', { region: 'mars-1', effect: 'down' })
    expect(r.status).toBe(404)
    expect(r.json.message).toMatch(/^region: unknown region "mars-1"; valid: eu-fra-1, eu-lon-1/)
    const combo = await api('PUT', '/v0/network/faults/x', { workspace: 'beta', model: 'down', effect: 'down' })
    expect(combo.status).toBe(404)
  })

  it('a member gets 403, an admin of only some touched workspaces 403, anonymous 401', async () => {
    expect((await api('PUT', '/v0/network/faults/x', { workspace: 'acme', effect: 'down' }, MEMBER)).status).toBe(403)
    // A region fault touches acme and beta; olga is admin of acme only.
    const partial = await api('PUT', '/v0/network/faults/x', { region: 'eu-fra-1', effect: 'down' }, OTHER_ADMIN)
    expect(partial.status).toBe(403)
    expect(partial.json.message).toMatch(/missing: beta/)
    expect((await api('PUT', '/v0/network/faults/x', { workspace: 'acme', effect: 'down' }, OTHER_ADMIN)).status).toBe(201)
    expect((await api('DELETE', '/v0/network/faults/x', undefined, MEMBER)).status).toBe(403)
    expect((await api('PUT', '/v0/network/faults/x', { workspace: 'acme', effect: 'down' }, null)).status).toBe(401)
    expect((await api('GET', '/v0/network/faults', undefined, null)).status).toBe(401)
  })

  it('counts injections on /metrics', async () => {
    await fault('fra-down', { region: 'eu-fra-1', model: 'down', effect: 'down' })
    await (await post('down', chat('m1'))).text()
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    expect(text).toMatch(/agnet_faults_active\{source="api"\} 1/)
    expect(text).toMatch(/agnet_fault_injections_total\{fault="fra-down",effect="down",workspace="acme",model="down",region="eu-fra-1",deployment="a"\} [1-9]/)
  })

  it('run-time faults survive a reload while their target exists', async () => {
    await fault('keep', { region: 'eu-lon-1', effect: 'latency', ms: 1 })
    await fault('gone', { workspace: 'beta', effect: 'down' })
    const r = await gw.rewrite(yaml.replace(/ {2}- name: beta[\s\S]*$/, ''))
    expect(r.ok).toBe(true)
    const names = ((await api('GET', '/v0/network/faults')).json.faults as Array<{ name: string }>).map(f => f.name)
    expect(names).toEqual(['keep'])
    expect((await gw.rewrite(yaml)).ok).toBe(true)
  })
})

describe('agnet chaos', () => {
  it('adds, lists and clears faults over the HTTP API; a bad flag is exit 2 naming it', async () => {
    const add = await runCli(['chaos', 'add', 'cli-down', '--region', 'eu-fra-1', '--workspace', 'acme', '--effect', 'down', '--ttl', '60', '--url', gw.url, '--api-key', ADMIN])
    expect(add.code, add.stderr).toBe(0)
    expect(add.stdout).toMatch(/^fault cli-down \(down\) on \d+ deployment\(s\): acme\/down\/a/)
    const list = await runCli(['chaos', 'list', '--json', '--url', gw.url, '--api-key', ADMIN])
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'cli-down', source: 'api', spec: { effect: 'down', ttl: 60 } }])
    const bad = await runCli(['chaos', 'add', 'x', '--workspace', 'acme', '--effect', 'errors', '--rate', 'lots', '--url', gw.url, '--api-key', ADMIN])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--rate must be a number/)
    const clear = await runCli(['chaos', 'clear', '--url', gw.url, '--api-key', ADMIN])
    expect(clear.stdout).toMatch(/cleared cli-down/)
    expect((await api('GET', '/v0/network/faults')).json).toEqual({ faults: [] })
  }, 300_000)
})

describe('faults declared in the config', () => {
  it('are in force from start, listed as config, and not deletable over the API', async () => {
    const m = await startTunableMock('eu-fra-1')
    const n = await startTunableMock('eu-lon-1')
    const g = await startGateway(`
network:
  faults:
    - { name: fra-out, region: eu-fra-1, effect: down }
workspaces:
  - name: w
    integrations: [{ name: oai, provider: openai, apiKey: "k" }]
    models:
      - name: m
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        routing: { strategy: priority }
        deployments:
          - { name: a, region: eu-fra-1, url: "${m.url}" }
          - { name: b, region: eu-lon-1, url: "${n.url}" }
`)
    try {
      const res = await fetch(`${g.url}/w/models/m/v1/chat/completions`, { method: 'POST', body: chat('cfg'), headers: { 'content-type': 'application/json' } })
      expect(res.headers.get('x-agnet-deployment')).toBe('b')
      expect(res.headers.get('x-agnet-fault')).toBe('fra-out')
      await res.text()
      const list = await (await fetch(`${g.url}/v0/network/faults`)).json() as { faults: Array<{ name: string; source: string }> }
      expect(list.faults).toMatchObject([{ name: 'fra-out', source: 'config' }])
      // Open gateway: loopback may change faults; a config fault is changed in the config.
      expect((await fetch(`${g.url}/v0/network/faults/fra-out`, { method: 'DELETE' })).status).toBe(409)
    } finally {
      await g.close()
      await Promise.all([m.kill(), n.kill()])
    }
  })

  it('with an unknown region are refused at load with the place and the valid values', async () => {
    await expect(startGateway(`
network:
  faults:
    - { name: bad, region: mars-1, effect: down }
workspaces:
  - name: w
    models:
      - { name: m, runtime: { type: openai, model: m } }
`)).rejects.toThrow(/network\.faults\[0\]\.region.*unknown region "mars-1"; valid: /s)
  })
})

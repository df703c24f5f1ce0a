// One access line per request on every plane: the control plane (/v0, /api), the token
// issuer (with the grant type, never a secret) and edge errors, whose bodies count in bytesOut.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

const KEY = 'agnet_access_lines_key_0123456789'
const CLIENT_ID = 'lines-bot'
const CLIENT_SECRET = 'lines-secret-0123456789abcdef'

const CONFIG = (accessLog: boolean): string => `
server: { accessLog: ${accessLog} }
users:
  - name: alice
    apiKeys: [{ name: laptop, value: "${KEY}" }]
workspaces:
  - name: acme
    members: [{ user: alice, role: admin }]
    serviceAccounts:
      - { name: bot, clientId: ${CLIENT_ID}, clientSecret: "${CLIENT_SECRET}" }
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-provider-secret" }
    policies:
      - { name: tiny, type: maxToken, maxTokens: { granularity: hour, total: 1 } }
    models:
      - { name: gpt, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
      - { name: capped, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], policies: [tiny], deployments: [{ region: us-pdx-1 }] }
`

type Line = Record<string, unknown> & { ms?: Record<string, unknown> }

let gw: TestGateway
let seq = 0

beforeAll(async () => { gw = await startGateway(CONFIG(true)) })
afterAll(async () => { await gw.close() })

/** The line of a request id; lines are written when the response has finished, so wait turns. */
async function lineOf (id: string): Promise<Line> {
  for (let i = 0; i < 2000; i++) {
    const raw = gw.logs.find(l => l.includes(`"reqId":"${id}"`))
    if (raw !== undefined) return JSON.parse(raw) as Line
    await new Promise(resolve => setImmediate(resolve))
  }
  throw new Error(`no access line for ${id}; lines:\n${gw.logs.join('\n')}`)
}

async function call (path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<{ id: string; res: Response; body: string }> {
  const id = `lines-${++seq}`
  const res = await fetch(gw.url + path, { ...init, headers: { 'x-request-id': id, ...init.headers } })
  const body = await res.text()
  return { id, res, body }
}

const auth = { authorization: `Bearer ${KEY}` }

describe('access lines on the control plane', () => {
  it('logs a /v0 request with the principal, status and the body bytes, in the run plane\'s shape', async () => {
    const { id, res, body } = await call('/v0/models', { headers: auth })
    expect(res.status).toBe(200)
    const line = await lineOf(id)
    expect(line).toMatchObject({ msg: 'request', plane: 'control', method: 'GET', path: '/v0/models', workspace: 'acme', principal: 'alice', credential: 'laptop', status: 200, outcome: 'ok', code: null, bytesIn: 0, bytesOut: Buffer.byteLength(body), model: null, tokens: null })
    expect(typeof line.ms?.total).toBe('number')
    // The same keys as a run-plane line, so one parser reads both.
    const run = await call('/acme/models/gpt/v1/chat/completions', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"messages":[{"role":"user","content":"hi"}]}' })
    expect(run.res.status).toBe(200)
    const runLine = await lineOf(run.id)
    for (const k of Object.keys(runLine)) expect(line).toHaveProperty(k)
  })

  it('logs /api requests, refusals with their code, and never the query string', async () => {
    const ok = await call('/api/workspaces/acme?token=never-logged', { headers: auth })
    expect(ok.res.status).toBe(200)
    expect(await lineOf(ok.id)).toMatchObject({ plane: 'control', path: '/api/workspaces/acme', status: 200 })
    const denied = await call('/v0/models', { headers: { authorization: 'Bearer wrong-key-never-logged' } })
    expect(denied.res.status).toBe(401)
    expect(await lineOf(denied.id)).toMatchObject({ plane: 'control', status: 401, outcome: 'error', code: 'Unauthorized', principal: null, bytesOut: Buffer.byteLength(denied.body) })
    const missing = await call('/v0/nothing-here', { headers: auth })
    expect(missing.res.status).toBe(404)
    expect(await lineOf(missing.id)).toMatchObject({ plane: 'control', status: 404, code: 'Not Found', bytesOut: Buffer.byteLength(missing.body) })
    const all = gw.logs.join('\n')
    expect(all).not.toContain('never-logged')
    expect(all).not.toContain(KEY)
  })

  it('logs token requests with the grant type and no secret, under /v0, /api and the root', async () => {
    for (const prefix of ['/v0', '/api', '']) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET })
      const { id, res, body } = await call(`${prefix}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
      expect(res.status).toBe(200)
      const tokens = JSON.parse(body) as { access_token: string; refresh_token: string }
      const line = await lineOf(id)
      expect(line).toMatchObject({ plane: 'control', method: 'POST', path: `${prefix}/oauth/token`, grantType: 'client_credentials', status: 200, outcome: 'ok', bytesIn: form.toString().length, bytesOut: Buffer.byteLength(body) })
      const all = gw.logs.join('\n')
      expect(all).not.toContain(CLIENT_SECRET)
      expect(all).not.toContain(tokens.access_token)
      expect(all).not.toContain(tokens.refresh_token)
    }
    const bad = await call('/v0/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'spent-or-forged-never-logged' }) })
    expect(bad.res.status).toBe(400)
    expect(await lineOf(bad.id)).toMatchObject({ grantType: 'refresh_token', status: 400, code: 'invalid_grant', bytesOut: Buffer.byteLength(bad.body) })
    const odd = await call('/v0/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'a"b\n{}' }) })
    expect(await lineOf(odd.id)).toMatchObject({ grantType: 'other' })
    expect(gw.logs.join('\n')).not.toContain('never-logged')
  })

  it('logs edge answers outside the run plane, and leaves probes and scrapes out', async () => {
    const lost = await call('/nowhere')
    expect(lost.res.status).toBe(404)
    expect(await lineOf(lost.id)).toMatchObject({ plane: 'edge', path: '/nowhere', status: 404, code: 'ROUTE_NOT_FOUND', bytesOut: Buffer.byteLength(lost.body) })
    const discovery = await call('/.well-known/jwks.json')
    expect(await lineOf(discovery.id)).toMatchObject({ plane: 'control', status: 200, bytesOut: Buffer.byteLength(discovery.body) })
    for (const p of ['/healthz', '/readyz', '/metrics']) {
      const { id, res } = await call(p)
      expect(res.status).toBe(200)
      await lineOf(lost.id)
      expect(gw.logs.some(l => l.includes(`"reqId":"${id}"`))).toBe(false)
    }
  })
})

describe('bytesOut of edge errors on the run plane', () => {
  it('counts the error body of a 401 and of a 429', async () => {
    const denied = await call('/acme/models/gpt/v1/chat/completions', { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' })
    expect(denied.res.status).toBe(401)
    expect(await lineOf(denied.id)).toMatchObject({ status: 401, code: 'AUTHENTICATION_FAILED', bytesOut: Buffer.byteLength(denied.body) })
    const chat = { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"messages":[{"role":"user","content":"hi"}]}' }
    const first = await call('/acme/models/capped/v1/chat/completions', chat)
    expect(first.res.status).toBe(200)
    const refused = await call('/acme/models/capped/v1/chat/completions', chat)
    expect(refused.res.status).toBe(429)
    expect(await lineOf(refused.id)).toMatchObject({ status: 429, code: 'POLICY_VIOLATION', bytesOut: Buffer.byteLength(refused.body) })
    expect(Buffer.byteLength(refused.body)).toBeGreaterThan(0)
  })
})

describe('server.accessLog: false', () => {
  it('silences control-plane lines too', async () => {
    const result = await gw.rewrite(CONFIG(false))
    expect(result).toMatchObject({ ok: true })
    const { id, res } = await call('/v0/models', { headers: auth })
    expect(res.status).toBe(200)
    // A line written after this request's would prove ordering; a run-plane error line is not
    // written either, so check the request's own id after the response and one more turn.
    await new Promise(resolve => setImmediate(resolve))
    expect(gw.logs.some(l => l.includes(`"reqId":"${id}"`))).toBe(false)
    await gw.rewrite(CONFIG(true))
  })
})

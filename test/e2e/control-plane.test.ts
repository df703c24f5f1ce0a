// The /v0 control-plane subset over real sockets: Blaxel's JSON shapes, versioned lists,
// the control-plane error shape, authentication like the run plane, workspace resolution,
// and the /api alias used by @blaxel/core's initialize({ proxy }).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

const ALICE = 'agnet_test_alice_key_0123456789'
const SA = 'agnet_test_sa_key_0123456789abcd'
const SCOPED = 'agnet_test_scoped_key_0123456789'

const CONFIG = `
users:
  - name: alice
    apiKeys:
      - { name: alice-key, value: "${ALICE}" }
      - { name: alice-scoped, value: "${SCOPED}", scopes: [gpt] }
workspaces:
  - name: demo
    displayName: Demo workspace
    region: eu-fra-1
    members: [{ user: alice, role: admin }]
    serviceAccounts:
      - name: ci
        apiKeys: [{ name: ci-key, value: "${SA}" }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream-secret", organization: org-1, headers: { x-secret-header: "hidden-value" } }
      - { name: ant, provider: anthropic, baseUrl: "mock://", apiKey: "sk-ant-secret" }
    policies:
      - { name: eu-only, type: location, locations: [{ type: continent, name: EU }] }
      - { name: tpm, type: maxToken, maxTokens: { granularity: minute, total: 1000 }, dryRun: true }
    models:
      - name: gpt
        displayName: GPT mini
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        policies: [eu-only, tpm]
        labels: { team: search }
        deployments: [{ region: eu-fra-1 }, { region: eu-lon-1 }]
      - name: claude
        runtime: { type: anthropic, model: claude-3-5-haiku-latest }
        integrationConnections: [ant]
        deployments: [{ region: us-pdx-1 }]
      - name: gpt-mk3
        runtime: { type: openai, model: gpt-4o-mini, generation: mk3 }
        integrationConnections: [oai]
        deployments: [{ region: us-was-1 }]
      - name: off
        enabled: false
        runtime: { type: openai, model: gpt-4o }
        integrationConnections: [oai]
        deployments: [{ region: us-pdx-1 }]
  - name: other
    members: [{ user: alice, role: member }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-other" }
    models:
      - name: m1
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: us-pdx-1 }]
  - name: private
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-private" }
    models:
      - name: p1
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: us-pdx-1 }]
`

interface CpErrorBody { code: number; error: string; message: string }
interface ModelJson {
  metadata: { name: string; displayName: string; workspace: string; url: string; labels: Record<string, string> }
  spec: { enabled: boolean; runtime: { type: string; model: string }; policies: string[]; integrationConnections: string[] }
  status: string
}
interface Page<T> { data: T[]; meta: { hasMore: boolean; nextCursor: string; total: number } }

describe('control plane /v0', () => {
  let gw: TestGateway
  const get = async (path: string, headers: Record<string, string> = {}, key: string | null = ALICE): Promise<Response> =>
    await fetch(`${gw.url}${path}`, { headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers } })

  beforeAll(async () => { gw = await startGateway(CONFIG) })
  afterAll(async () => { await gw.close() })

  describe('authentication and errors', () => {
    it('refuses a request without a credential in the control-plane error shape', async () => {
      const res = await get('/v0/models', { 'x-blaxel-workspace': 'demo' }, null)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer')
      const body = await res.json() as CpErrorBody
      expect(body).toMatchObject({ code: 401, error: 'Unauthorized' })
      expect(typeof body.message).toBe('string')
      expect(res.headers.get('x-blaxel-source')).toBeNull()
    })

    it('refuses an unknown key with 401 and never echoes it', async () => {
      const res = await get('/v0/models', { 'x-blaxel-workspace': 'demo' }, 'agnet_not_a_real_key_000000000')
      expect(res.status).toBe(401)
      const text = await res.text()
      expect(text).not.toContain('agnet_not_a_real_key')
      expect(JSON.parse(text)).toMatchObject({ code: 401, error: 'Unauthorized' })
    })

    it('accepts X-Blaxel-Authorization over a dummy Authorization, as the SDKs send it', async () => {
      const res = await fetch(`${gw.url}/v0/models/gpt`, { headers: { 'x-blaxel-authorization': `Bearer ${ALICE}`, authorization: 'Bearer replaced', 'x-blaxel-workspace': 'demo' } })
      expect(res.status).toBe(200)
    })

    it('answers 404 in the control-plane shape for an unknown model and an unknown route', async () => {
      const res = await get('/v0/models/nope', { 'x-blaxel-workspace': 'demo' })
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({ code: 404, error: 'Not Found', message: 'Model "nope" not found in workspace "demo".' })
      const route = await get('/v0/no-such-thing')
      expect(route.status).toBe(404)
      expect(await route.json()).toMatchObject({ code: 404, error: 'Not Found' })
    })

    it('refuses a workspace the credential does not reach with 403, before revealing whether it exists', async () => {
      const sa = await get('/v0/models', { 'x-blaxel-workspace': 'other' }, SA)
      expect(sa.status).toBe(403)
      expect(await sa.json()).toMatchObject({ code: 403, error: 'Forbidden' })
      const missing = await get('/v0/models', { 'x-blaxel-workspace': 'does-not-exist' }, SA)
      expect(missing.status).toBe(403)
      const priv = await get('/v0/workspaces/private')
      expect(priv.status).toBe(403)
    })

    it('rejects an unparseable Blaxel-Version like Blaxel does', async () => {
      const res = await get('/v0/models', { 'x-blaxel-workspace': 'demo', 'blaxel-version': 'latest' })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 400, error: 'invalid_api_version' })
    })
  })

  describe('workspace resolution', () => {
    it('takes X-Blaxel-Workspace first, then ?workspace=, then the credential', async () => {
      const byHeader = await (await get('/v0/models?workspace=demo', { 'x-blaxel-workspace': 'other' })).json() as ModelJson[]
      expect(byHeader.map(m => m.metadata.name)).toEqual(['m1'])
      const byQuery = await (await get('/v0/models?workspace=other')).json() as ModelJson[]
      expect(byQuery.map(m => m.metadata.workspace)).toEqual(['other'])
      // A service account reaches exactly one workspace: it is the default.
      const byCredential = await (await get('/v0/models', {}, SA)).json() as ModelJson[]
      expect(byCredential.map(m => m.metadata.name).sort()).toEqual(['claude', 'gpt', 'gpt-mk3', 'off'])
    })
  })

  describe('models', () => {
    it('serves the Model resource with metadata.url pointing at agnet\'s run plane', async () => {
      const res = await get('/v0/models/gpt', { 'x-blaxel-workspace': 'demo' })
      expect(res.status).toBe(200)
      const m = await res.json() as ModelJson
      expect(m.metadata).toMatchObject({ name: 'gpt', displayName: 'GPT mini', workspace: 'demo', url: `${gw.url}/demo/models/gpt`, labels: { team: 'search' } })
      expect(m.spec).toMatchObject({ enabled: true, runtime: { type: 'openai', model: 'gpt-4o-mini' }, policies: ['eu-only', 'tpm'], integrationConnections: ['oai'] })
      expect(m.status).toBe('DEPLOYED')
      // The URL it hands out really serves the model.
      const run = await fetch(`${m.metadata.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: m.spec.runtime.model, messages: [{ role: 'user', content: 'hi' }] })
      })
      expect(run.status).toBe(200)
      expect(['eu-fra-1', 'eu-lon-1']).toContain(run.headers.get('x-agnet-region'))
    })

    it('serves an mk3 model the way the TS SDKs call it: {metadata.url}/v1/... with the Blaxel model name', async () => {
      const m = await (await get('/v0/models/gpt-mk3', { 'x-blaxel-workspace': 'demo' })).json() as ModelJson & { spec: { runtime: { generation: string } } }
      expect(m.spec.runtime.generation).toBe('mk3')
      const run = await fetch(`${m.metadata.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'x-blaxel-authorization': `Bearer ${ALICE}`, authorization: 'Bearer replaced', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-mk3', messages: [{ role: 'user', content: 'hi' }] })
      })
      expect(run.status).toBe(200)
      expect(run.headers.get('x-agnet-region')).toBe('us-was-1')
    })

    it('reports a disabled model as not enabled', async () => {
      const m = await (await get('/v0/models/off', { 'x-blaxel-workspace': 'demo' })).json() as ModelJson
      expect(m.spec.enabled).toBe(false)
      expect(m.status).toBe('DEACTIVATED')
    })

    it('never shows a provider secret', async () => {
      const text = await (await get('/v0/models', { 'x-blaxel-workspace': 'demo' })).text()
      expect(text).not.toContain('sk-upstream-secret')
      const conns = await (await get('/v0/integrations/connections', { 'x-blaxel-workspace': 'demo' })).text()
      expect(conns).not.toContain('sk-upstream-secret')
      expect(conns).not.toContain('hidden-value')
      expect(JSON.parse(conns)).toEqual([
        expect.objectContaining({ metadata: expect.objectContaining({ name: 'oai', workspace: 'demo' }), spec: { integration: 'openai', config: { organization: 'org-1' }, sandbox: false } }),
        expect.objectContaining({ metadata: expect.objectContaining({ name: 'ant' }), spec: { integration: 'anthropic', config: {}, sandbox: false } })
      ])
    })

    it('lists models as a bare array without Blaxel-Version and as {data, meta} from 2026-04-28', async () => {
      const bare = await (await get('/v0/models', { 'x-blaxel-workspace': 'demo' })).json() as ModelJson[]
      expect(Array.isArray(bare)).toBe(true)
      expect(bare.map(m => m.metadata.name)).toEqual(['gpt', 'claude', 'gpt-mk3', 'off'])
      const old = await (await get('/v0/models', { 'x-blaxel-workspace': 'demo', 'blaxel-version': '2025-12-01' })).json() as ModelJson[]
      expect(Array.isArray(old)).toBe(true)
      const page = await (await get('/v0/models?sort=name:asc', { 'x-blaxel-workspace': 'demo', 'blaxel-version': '2026-04-28' })).json() as Page<ModelJson>
      expect(page.data.map(m => m.metadata.name)).toEqual(['claude', 'gpt', 'gpt-mk3', 'off'])
      expect(page.meta).toEqual({ hasMore: false, nextCursor: '', total: 4 })
    })

    it('paginates with limit and an opaque cursor bound to its query', async () => {
      const h = { 'x-blaxel-workspace': 'demo', 'blaxel-version': '2026-05-01' }
      const p1 = await (await get('/v0/models?sort=name:asc&limit=2', h)).json() as Page<ModelJson>
      expect(p1.data.map(m => m.metadata.name)).toEqual(['claude', 'gpt'])
      expect(p1.meta.hasMore).toBe(true)
      expect(p1.meta.nextCursor).not.toBe('')
      const p2 = await (await get(`/v0/models?sort=name:asc&limit=2&cursor=${p1.meta.nextCursor}`, h)).json() as Page<ModelJson>
      expect(p2.data.map(m => m.metadata.name)).toEqual(['gpt-mk3', 'off'])
      expect(p2.meta).toEqual({ hasMore: false, nextCursor: '', total: 4 })
      const wrong = await get(`/v0/models?sort=name:desc&limit=2&cursor=${p1.meta.nextCursor}`, h)
      expect(wrong.status).toBe(400)
      expect(await wrong.json()).toMatchObject({ code: 400, error: 'Bad Request' })
    })

    it('filters by q and status on the paginated listing', async () => {
      const h = { 'x-blaxel-workspace': 'demo', 'blaxel-version': '2026-04-28' }
      const q = await (await get('/v0/models?q=search', h)).json() as Page<ModelJson>
      expect(q.data.map(m => m.metadata.name)).toEqual(['gpt'])
      const s = await (await get('/v0/models?status=deactivated', h)).json() as Page<ModelJson>
      expect(s.data.map(m => m.metadata.name)).toEqual(['off'])
      expect((await get('/v0/models?status=SLEEPING', h)).status).toBe(400)
    })

    it('lists only the models a scoped key may call', async () => {
      const list = await (await get('/v0/models', { 'x-blaxel-workspace': 'demo' }, SCOPED)).json() as ModelJson[]
      expect(list.map(m => m.metadata.name)).toEqual(['gpt'])
      expect((await get('/v0/models/claude', { 'x-blaxel-workspace': 'demo' }, SCOPED)).status).toBe(403)
    })

    it('uses server.publicUrl for metadata.url when configured', async () => {
      const r = await gw.rewrite(CONFIG.replace('users:', 'server:\n  publicUrl: https://agnet.example.test/\nusers:'))
      expect(r.ok).toBe(true)
      try {
        const m = await (await get('/v0/models/gpt', { 'x-blaxel-workspace': 'demo' })).json() as ModelJson
        expect(m.metadata.url).toBe('https://agnet.example.test/demo/models/gpt')
      } finally {
        expect((await gw.rewrite(CONFIG)).ok).toBe(true)
      }
    })

    it('does not put a hostile Host header into metadata.url', async () => {
      const { request } = await import('undici')
      const res = await request(`${gw.url}/v0/models/gpt`, { headers: { host: 'evil.test/x?', authorization: `Bearer ${ALICE}`, 'x-blaxel-workspace': 'demo' } })
      const m = await res.body.json() as ModelJson
      expect(m.metadata.url).not.toContain('evil')
    })
  })

  describe('integrations, workspaces, policies, locations, configuration', () => {
    it('describes an integration with endpoints so a default path can be chosen', async () => {
      const res = await get('/v0/integrations/openai')
      expect(res.status).toBe(200)
      const body = await res.json() as { name: string; endpoints: Record<string, { method: string }> }
      expect(body.name).toBe('openai')
      expect(body.endpoints['/v1/chat/completions']).toMatchObject({ method: 'POST' })
      expect(body.endpoints['/v1/models']).toMatchObject({ method: 'GET' })
      const ant = await (await get('/v0/integrations/anthropic')).json() as { endpoints: Record<string, unknown> }
      expect(Object.keys(ant.endpoints)).toEqual(['/v1/messages'])
      const unknown = await get('/v0/integrations/nope')
      expect(unknown.status).toBe(404)
      expect(await unknown.json()).toMatchObject({ code: 404, error: 'Not Found' })
    })

    it('lists the workspaces a credential reaches and describes one', async () => {
      const all = await (await get('/v0/workspaces')).json() as Array<{ name: string }>
      expect(all.map(w => w.name)).toEqual(['demo', 'other'])
      const sa = await (await get('/v0/workspaces', {}, SA)).json() as Array<{ name: string }>
      expect(sa.map(w => w.name)).toEqual(['demo'])
      const one = await (await get('/v0/workspaces/demo?countResources=true')).json() as Record<string, unknown>
      expect(one).toMatchObject({ name: 'demo', displayName: 'Demo workspace', region: 'eu-fra-1', status: 'ready', resourceCounts: { models: 4, policies: 2, integrationconnections: 2 } })
      expect((await get('/v0/workspaces/nope-nope')).status).toBe(403)
    })

    it('serves policies with their spec and usage counts, versioned like models', async () => {
      const list = await (await get('/v0/policies', { 'x-blaxel-workspace': 'demo' })).json() as Array<{ metadata: { name: string }; spec: Record<string, unknown>; usage: { models: number } }>
      expect(list.map(p => p.metadata.name)).toEqual(['eu-only', 'tpm'])
      expect(list[0]?.spec).toMatchObject({ type: 'location', locations: [{ type: 'continent', name: 'EU' }] })
      expect(list[0]?.usage.models).toBe(1)
      const paged = await (await get('/v0/policies', { 'x-blaxel-workspace': 'demo', 'blaxel-version': '2026-04-28' })).json() as Page<unknown>
      expect(paged.meta.total).toBe(2)
      const tpm = await (await get('/v0/policies/tpm', { 'x-blaxel-workspace': 'demo' })).json() as { spec: Record<string, unknown> }
      expect(tpm.spec).toMatchObject({ type: 'maxToken', maxTokens: { granularity: 'minute', step: 1, total: 1000 }, dryRun: true })
      const usages = await (await get('/v0/policies/eu-only/usages', { 'x-blaxel-workspace': 'demo' })).json()
      expect(usages).toEqual({ agents: [], functions: [], jobs: [], models: ['gpt'], sandboxes: [] })
      expect((await get('/v0/policies/nope', { 'x-blaxel-workspace': 'demo' })).status).toBe(404)
    })

    it('lists locations and the configuration for location policies', async () => {
      const locs = await (await get('/v0/locations')).json() as Array<{ region: string; country: string; continent: string; flavors: unknown[] }>
      expect(locs.map(l => l.region)).toEqual(['us-pdx-1', 'us-was-1', 'eu-lon-1', 'eu-fra-1'])
      expect(locs[2]).toMatchObject({ region: 'eu-lon-1', country: 'GB', continent: 'EU', status: 'healthy' })
      const conf = await (await get('/v0/configuration')).json() as { continents: Array<{ name: string; displayName: string }>; countries: Array<{ name: string; displayName: string }>; regions: Array<{ name: string }>; detectedRegion: string }
      expect(conf.continents).toEqual([{ name: 'NA', displayName: 'North America' }, { name: 'EU', displayName: 'Europe' }])
      expect(conf.countries.map(c => c.name)).toEqual(['US', 'GB', 'DE'])
      expect(conf.countries[1]?.displayName).toBe('United Kingdom')
      expect(conf.regions).toHaveLength(4)
      expect(conf.detectedRegion).toBe('us-pdx-1')
    })
  })

  describe('/api alias', () => {
    it('serves the same routes under /api, authenticated the same way', async () => {
      const m = await (await get('/api/models/gpt', { 'x-blaxel-workspace': 'demo' })).json() as ModelJson
      expect(m.metadata.name).toBe('gpt')
      expect((await get('/api/models/gpt', { 'x-blaxel-workspace': 'demo' }, null)).status).toBe(401)
      const run = await fetch(`${gw.url}/run/demo/models/claude/v1/messages`, {
        method: 'POST',
        headers: { 'x-blaxel-authorization': `Bearer ${ALICE}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] })
      })
      expect(run.status).toBe(200)
      expect((await run.json() as { type: string }).type).toBe('message')
    })
  })
})

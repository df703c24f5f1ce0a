// Every answer agnet gives itself, on real sockets, carries the catalogue entry whole: Blaxel's
// edge shape with action, do_not and docs_url on the run plane; the control-plane shape on /v0.
// One request per way of failing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CATALOGUE, type ErrorId } from '../../src/core/errors.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

let gw: TestGateway

beforeAll(async () => {
  gw = await startGateway(`
users:
  - name: alice
    apiKeys: [{ name: k, value: "agnet_test_key_0123456789abcdef" }]
workspaces:
  - name: other
  - name: acme
    members: [{ user: alice, role: member }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    policies:
      - { name: mars, type: location, locations: [{ type: country, name: BR }] }
    models:
      - { name: gpt, runtime: { type: openai }, integrationConnections: [oai], deployments: [{ region: eu-lon-1 }] }
      - { name: off, enabled: false, runtime: { type: openai }, integrationConnections: [oai], deployments: [{ region: eu-lon-1 }] }
      - { name: nowhere, runtime: { type: openai }, policies: [mars], integrationConnections: [oai], deployments: [{ region: eu-lon-1 }] }
      - { name: dead, runtime: { type: openai }, deployments: [{ region: eu-lon-1, url: "http://127.0.0.1:9" }] }
`)
})
afterAll(async () => { await gw.close() })

const KEY = { authorization: 'Bearer agnet_test_key_0123456789abcdef' }

function expectEntry (body: unknown, id: ErrorId): void {
  const e = CATALOGUE[id]
  expect(body).toMatchObject({
    error: { code: e.code, status: e.status, retryable: e.retryable, origin: 'platform', action: e.action, do_not: e.doNot, docs_url: e.docsUrl }
  })
}

describe('edge errors carry action, do_not and docs_url', () => {
  it.each([
    ['AUTHENTICATION_REQUIRED', '/acme/models/gpt/v1/models', {}],
    ['AUTHENTICATION_FAILED', '/acme/models/gpt/v1/models', { authorization: 'Bearer agnet_wrong_key_0123456789abcd' }],
    ['FORBIDDEN', '/other/models/gpt/v1/models', KEY],
    ['WORKLOAD_NOT_FOUND', '/acme/models/nope/v1/models', KEY],
    ['ROUTE_NOT_FOUND', '/acme/agents/x', KEY],
    ['MODEL_DISABLED', '/acme/models/off/v1/models', KEY],
    ['POLICY_VIOLATION', '/acme/models/nowhere/v1/models', KEY],
    ['UPSTREAM_REFUSED', '/acme/models/dead/v1/models', KEY]
  ] as Array<[ErrorId, string, Record<string, string>]>)('%s', async (id, path, headers) => {
    const res = await fetch(`${gw.url}${path}`, { headers })
    expect(res.status).toBe(CATALOGUE[id].status)
    expect(res.headers.get('x-blaxel-error-code')).toBe(CATALOGUE[id].code)
    expectEntry(await res.json(), id)
  })
})

describe('control-plane errors come from the same catalogue', () => {
  it('a workspace the credential does not reach is 403 in the control-plane shape', async () => {
    const res = await fetch(`${gw.url}/v0/models`, { headers: { ...KEY, 'x-blaxel-workspace': 'other' } })
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({ code: 403, error: 'Forbidden', message: 'This credential has no access to workspace "other".' })
  })

  it('an unknown control-plane route is 404 in the control-plane shape', async () => {
    const res = await fetch(`${gw.url}/v0/nothing-here`, { headers: KEY })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ code: 404, error: 'Not Found', message: 'No route GET /v0/nothing-here.' })
  })

  it('an unknown API version names itself as Blaxel does', async () => {
    const res = await fetch(`${gw.url}/v0/models`, { headers: { ...KEY, 'blaxel-version': 'yesterday' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 400, error: 'invalid_api_version' })
  })
})

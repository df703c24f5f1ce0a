// Rotating a service account's client secret revokes what was issued under the old one:
// access tokens (even one already verified and cached) and refresh tokens. Real sockets, real
// mock upstream, the rotation done by a config reload as a user would do it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { hashLine } from '../../src/auth/api-keys.js'

const CLIENT = 'ci-bot'
const OLD_SECRET = 'old-secret-0123456789abcdef'
const NEW_SECRET = 'new-secret-0123456789abcdef'

let mock: MockServer
let gw: TestGateway

const configYaml = (secret: string, otherSecret = 'other-secret-0123456789'): string => `
version: 1
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "${mock.url}", apiKey: "sk-provider-secret" }
    serviceAccounts:
      - { name: bot, clientId: ${CLIENT}, clientSecretHash: "${hashLine(secret)}" }
      - { name: other, clientId: other-bot, clientSecret: "${otherSecret}" }
    models:
      - { name: gpt, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
`

interface Tokens { access_token: string; refresh_token: string }

async function tokenFor (clientId: string, secret: string): Promise<Tokens> {
  const r = await fetch(`${gw.url}/v0/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret })
  })
  expect(r.status).toBe(200)
  return await r.json() as Tokens
}

async function call (token: string): Promise<number> {
  const r = await fetch(`${gw.url}/acme/models/gpt/__echo/x`, { headers: { authorization: `Bearer ${token}` } })
  await r.arrayBuffer()
  return r.status
}

async function refresh (token: string): Promise<{ status: number; body: { error?: string; error_description?: string } }> {
  const r = await fetch(`${gw.url}/v0/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: token }) })
  return { status: r.status, body: await r.json() as { error?: string } }
}

beforeAll(async () => {
  mock = await startMockServer({ region: 'test' })
  gw = await startGateway(configYaml(OLD_SECRET))
})
afterAll(async () => {
  await gw.close()
  await mock.close()
})

describe('client secret rotation', () => {
  it('[A32] revokes access and refresh tokens issued under the old secret, and only those', async () => {
    const old = await tokenFor(CLIENT, OLD_SECRET)
    const spare = await tokenFor(CLIENT, OLD_SECRET)
    const other = await tokenFor('other-bot', 'other-secret-0123456789')
    expect(await call(old.access_token)).toBe(200) // verified and cached now

    expect((await gw.rewrite(configYaml(NEW_SECRET))).ok).toBe(true)

    // The old secret no longer gets tokens, and what it got is revoked, cached or not.
    const denied = await fetch(`${gw.url}/v0/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: CLIENT, client_secret: OLD_SECRET }) })
    expect(denied.status).toBe(400) // invalid_client without HTTP Basic (RFC 6749 §5.2)
    expect(((await denied.json()) as { error: string }).error).toBe('invalid_client')
    expect(await call(old.access_token)).toBe(401)
    expect(await call(spare.access_token)).toBe(401)
    const r = await refresh(spare.refresh_token)
    expect(r.status).toBe(400)
    expect(r.body.error).toBe('invalid_grant')
    expect(r.body.error_description).toMatch(/rotated/)

    // The new secret works, and another account's tokens were not touched.
    const fresh = await tokenFor(CLIENT, NEW_SECRET)
    expect(await call(fresh.access_token)).toBe(200)
    expect(await call(other.access_token)).toBe(200)
    expect((await refresh(fresh.refresh_token)).status).toBe(200)

    // A reload that changes something else keeps the tokens of the current secret valid.
    expect((await gw.rewrite(configYaml(NEW_SECRET, 'other-secret-0123456789'))).ok).toBe(true)
    expect(await call(fresh.access_token)).toBe(200)
  })
})

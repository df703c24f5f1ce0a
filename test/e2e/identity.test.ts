// Identity end to end: API keys, issued and external JWTs, service accounts and workspace
// access, on real sockets with a real mock upstream. Adversarial cases are numbered [A1]...
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, createLocalJWKSet, jwtVerify, decodeProtectedHeader, decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { hashLine } from '../../src/auth/api-keys.js'

const KEY_ALICE = 'agnet_alice_key_0123456789abcdef'
const KEY_SCOPED = 'agnet_scoped_key_0123456789abcdef'
const KEY_EXPIRED = 'agnet_expired_key_0123456789abcdef'
const KEY_REVOKED = 'agnet_revoked_key_0123456789abcdef'
const KEY_LATER = 'agnet_later_revoked_0123456789abcdef'
const KEY_HASHED = 'agnet_hashed_key_0123456789abcdef'
const KEY_BOT = 'agnet_bot_key_0123456789abcdef'
const KEY_BOB = 'agnet_bob_key_0123456789abcdef'
const BOT_ID = 'bot-client'
const BOT_SECRET = 'bot-secret-0123456789abcdef'
const HS_SECRET = 'hs-shared-secret-0123456789abcdef-0123456789'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed = generateKeyPairSync('ed25519')
const remoteKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const RSA_PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
const ED_PEM = ed.publicKey.export({ type: 'spki', format: 'pem' }) as string

// A JWKS endpoint the test drives: ok, down (503) or hanging; hits counted.
type JwksMode = 'ok' | 'down' | 'hang'
const jwksState: Record<string, { mode: JwksMode; hits: number }> = { main: { mode: 'ok', hits: 0 }, down: { mode: 'down', hits: 0 }, slow: { mode: 'hang', hits: 0 } }
let jwksServer: http.Server
let jwksBase = ''

let mock: MockServer
let gw: TestGateway
let dir = ''

const configYaml = (opts: { revokeLater?: boolean; dropBot?: boolean } = {}): string => `
users:
  - name: alice
    apiKeys:
      - { name: alice-key, value: "${KEY_ALICE}" }
      - { name: alice-scoped, value: "${KEY_SCOPED}", scopes: [gpt] }
      - { name: alice-expired, value: "${KEY_EXPIRED}", expiresAt: "2001-01-01T00:00:00Z" }
      - { name: alice-revoked, value: "${KEY_REVOKED}", revoked: true }
      - { name: alice-later, value: "${KEY_LATER}"${opts.revokeLater === true ? ', revoked: true' : ''} }
      - { name: alice-hashed, hash: "${hashLine(KEY_HASHED)}" }
  - name: bob
    apiKeys:
      - { name: bob-key, value: "${KEY_BOB}" }
auth:
  external:
    - { name: ext-hs, issuer: "https://hs.example", audience: agnet, algorithms: [HS256], secret: "${HS_SECRET}" }
    - name: ext-rs
      issuer: "https://rs.example"
      audience: [agnet, other-aud]
      algorithms: [RS256]
      publicKeyPem: |
${RSA_PEM.trim().split('\n').map(l => `        ${l}`).join('\n')}
    - { name: ext-es, issuer: "https://es.example", audience: agnet, algorithms: [ES256], jwksFile: "${join(dir, 'es.jwks.json')}" }
    - { name: ext-ed, issuer: "https://ed.example", audience: agnet, algorithms: [EdDSA], publicKeyFile: "${join(dir, 'ed.pem')}", claims: { subject: email, workspace: teams } }
    - { name: ext-remote, issuer: "https://remote.example", audience: agnet, algorithms: [ES256], jwksUrl: "${jwksBase}/main", jwksCooldown: 60s, jwksTimeout: 300ms }
    - { name: ext-down, issuer: "https://down.example", audience: agnet, algorithms: [ES256], jwksUrl: "${jwksBase}/down", jwksCooldown: 60s, jwksTimeout: 300ms }
    - { name: ext-slow, issuer: "https://slow.example", audience: agnet, algorithms: [ES256], jwksUrl: "${jwksBase}/slow", jwksCooldown: 60s, jwksTimeout: 300ms }
workspaces:
  - name: acme
    members: [{ user: alice, role: admin }]
    serviceAccounts:
${opts.dropBot === true ? '      - { name: other-bot, clientId: other-client, clientSecret: "x-0123456789" }' : `      - name: bot
        clientId: ${BOT_ID}
        clientSecret: "${BOT_SECRET}"
        apiKeys: [{ name: bot-key, value: "${KEY_BOT}" }]`}
    integrations:
      - { name: oai, provider: openai, baseUrl: "${mock.url}", apiKey: "sk-provider-secret" }
    models:
      - { name: gpt, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
      - { name: other-model, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
  - name: gamma
    members: [{ user: alice, role: member }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "${mock.url}", apiKey: "sk-provider-secret" }
    models:
      - { name: gpt, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
  - name: beta
    members: [{ user: bob, role: member }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "${mock.url}", apiKey: "sk-provider-secret" }
    models:
      - { name: gpt, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
`

interface Res { status: number; headers: http.IncomingHttpHeaders; body: string }

async function send (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Res> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.port, path, method, headers, agent: false }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', d => { text += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A raw request, for header lists node's client would normalise (repeated credential headers). */
async function sendRaw (path: string, headerLines: string[]): Promise<Res> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(gw.port, '127.0.0.1', () => { sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${headerLines.join('\r\n')}\r\nConnection: close\r\n\r\n`) })
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('data', d => { buf += d })
    sock.on('end', () => {
      const [head = '', body = ''] = buf.split('\r\n\r\n')
      const headers: http.IncomingHttpHeaders = {}
      for (const line of head.split('\r\n').slice(1)) { const i = line.indexOf(':'); headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim() }
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), headers, body })
    })
    sock.on('error', reject)
  })
}

const bearer = (t: string): Record<string, string> => ({ 'x-blaxel-authorization': `Bearer ${t}` })
const code = (r: Res): string | undefined => (JSON.parse(r.body) as { error?: { code?: string } }).error?.code

/** What a client can observe, minus what differs per request anyway. */
function observable (r: Res): unknown {
  const headers = { ...r.headers }
  for (const h of ['date', 'server-timing', 'connection', 'keep-alive']) delete headers[h]
  const body = JSON.parse(r.body) as { error: Record<string, unknown> }
  delete body.error.timestamp
  return { status: r.status, headers, body }
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
const nowS = (): number => Math.floor(Date.now() / 1000)
const claims = (iss: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ iss, aud: 'agnet', sub: 'ext-user', workspace: 'acme', iat: nowS(), exp: nowS() + 600, ...extra })

async function sign (key: KeyObject | Uint8Array, alg: string, payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return await new SignJWT(payload).setProtectedHeader({ alg, ...header }).sign(key)
}

function hmacToken (secret: string | Buffer, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agnet-identity-'))
  writeFileSync(join(dir, 'es.jwks.json'), JSON.stringify({ keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'es-1', use: 'sig' }] }))
  writeFileSync(join(dir, 'ed.pem'), ED_PEM)
  jwksServer = http.createServer((req, res) => {
    const name = (req.url ?? '').slice(1)
    const s = jwksState[name]
    if (s === undefined) { res.writeHead(404).end(); return }
    s.hits++
    if (s.mode === 'hang') return
    if (s.mode === 'down') { res.writeHead(503).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...remoteKey.publicKey.export({ format: 'jwk' }), kid: 'remote-1', alg: 'ES256' }] }))
  })
  await new Promise<void>(resolve => jwksServer.listen(0, '127.0.0.1', resolve))
  const a = jwksServer.address()
  jwksBase = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`
  mock = await startMockServer({ region: 'test' })
  gw = await startGateway(configYaml())
})

afterAll(async () => {
  await gw.close()
  await mock.close()
  jwksServer.closeAllConnections()
  await new Promise(resolve => jwksServer.close(resolve))
})

describe('carriers and precedence', () => {
  it('[A1] no credential: 401 AUTHENTICATION_REQUIRED with WWW-Authenticate: Bearer', async () => {
    const r = await send('/acme/models/gpt/__echo/x')
    expect(r.status).toBe(401)
    expect(code(r)).toBe('AUTHENTICATION_REQUIRED')
    expect(r.headers['www-authenticate']).toBe('Bearer')
    expect(r.headers['x-blaxel-source']).toBe('platform')
  })

  it('X-Blaxel-Authorization wins; a dummy "Authorization: Bearer replaced" beside it works', async () => {
    const r = await send('/acme/models/gpt/__echo/x', { ...bearer(KEY_ALICE), authorization: 'Bearer replaced' })
    expect(r.status).toBe(200)
  })

  it('Authorization alone works, and the Bearer scheme is case-insensitive', async () => {
    expect((await send('/acme/models/gpt/__echo/x', { authorization: `Bearer ${KEY_ALICE}` })).status).toBe(200)
    expect((await send('/acme/models/gpt/__echo/x', { authorization: `bEARER ${KEY_ALICE}` })).status).toBe(200)
  })

  it('[A2] a bad X-Blaxel-Authorization is not rescued by a good Authorization', async () => {
    const r = await send('/acme/models/gpt/__echo/x', { ...bearer('agnet_wrong'), authorization: `Bearer ${KEY_ALICE}` })
    expect(r.status).toBe(401)
    expect(code(r)).toBe('AUTHENTICATION_FAILED')
    expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
  })

  it('[A3] x-api-key and x-goog-api-key are never Blaxel credentials', async () => {
    for (const h of ['x-api-key', 'x-goog-api-key', 'api-key']) {
      const r = await send('/acme/models/gpt/__echo/x', { [h]: KEY_ALICE })
      expect(r.status).toBe(401)
      expect(code(r)).toBe('AUTHENTICATION_REQUIRED')
    }
  })

  it('[A4] a repeated credential header gets 400 BAD_REQUEST with Bearer error="invalid_request", even with two valid keys', async () => {
    const r = await sendRaw('/acme/models/gpt/__echo/x', [`X-Blaxel-Authorization: Bearer ${KEY_ALICE}`, `X-Blaxel-Authorization: Bearer ${KEY_BOB}`])
    expect(r.status).toBe(400)
    expect(code(r)).toBe('BAD_REQUEST')
    expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_request"')
    const auth2 = await sendRaw('/acme/models/gpt/__echo/x', [`Authorization: Bearer ${KEY_ALICE}`, `Authorization: Bearer ${KEY_ALICE}`])
    expect(auth2.status).toBe(400)
  })

  it('[A5] other schemes and malformed values are 401 AUTHENTICATION_FAILED', async () => {
    for (const v of [`Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${KEY_ALICE} extra`, `Bearer${KEY_ALICE}`, 'Bearer a"b']) {
      const r = await send('/acme/models/gpt/__echo/x', { authorization: v })
      expect(r.status, v).toBe(401)
      expect(code(r)).toBe('AUTHENTICATION_FAILED')
    }
    // "Bearer" with nothing after it is an unset shell variable: no credential, said so.
    const empty = await send('/acme/models/gpt/__echo/x', { authorization: 'Bearer' })
    expect(empty.status).toBe(401)
    expect(code(empty)).toBe('AUTHENTICATION_REQUIRED')
  })

  it('the legacy X-Blaxel-Api-Key header still works', async () => {
    expect((await send('/acme/models/gpt/__echo/x', { 'x-blaxel-api-key': KEY_ALICE })).status).toBe(200)
  })

  it('[A6] the path\'s workspace is authoritative: X-Blaxel-Workspace neither grants nor redirects', async () => {
    const r = await send('/beta/models/gpt/__echo/x', { ...bearer(KEY_ALICE), 'x-blaxel-workspace': 'acme' })
    expect(r.status).toBe(403)
    const ok = await send('/acme/models/gpt/__echo/x', { ...bearer(KEY_ALICE), 'x-blaxel-workspace': 'beta', 'x-request-id': 'claimed-beta' })
    expect(ok.status).toBe(200)
    // The disagreement is logged (a workspace name only; anything else is "(invalid)").
    const line = JSON.parse(gw.logs.find(l => l.includes('"reqId":"claimed-beta"')) ?? '{}') as Record<string, unknown>
    expect(line).toMatchObject({ workspace: 'acme', claimedWorkspace: 'beta' })
    await send('/acme/models/gpt/__echo/x', { ...bearer(KEY_ALICE), 'x-blaxel-workspace': KEY_BOB, 'x-request-id': 'claimed-junk' })
    expect(JSON.parse(gw.logs.find(l => l.includes('"reqId":"claimed-junk"')) ?? '{}')).toMatchObject({ claimedWorkspace: '(invalid)' })
  })

  it('[A7] oversized tokens are refused unparsed; oversized header blocks get 431', async () => {
    const big = await send('/acme/models/gpt/__echo/x', bearer('a'.repeat(9000)))
    expect(big.status).toBe(401)
    expect(code(big)).toBe('AUTHENTICATION_FAILED')
    const huge = await send('/acme/models/gpt/__echo/x', bearer('a'.repeat(20000)))
    expect(huge.status).toBe(431)
  })
})

describe('API keys', () => {
  it('[A8] an unknown key: 401 AUTHENTICATION_FAILED', async () => {
    const r = await send('/acme/models/gpt/__echo/x', bearer('agnet_unknown_0000000000000000'))
    expect(r.status).toBe(401)
    expect(code(r)).toBe('AUTHENTICATION_FAILED')
  })

  it('[A9] an expired key and a revoked key: 401', async () => {
    for (const k of [KEY_EXPIRED, KEY_REVOKED]) {
      const r = await send('/acme/models/gpt/__echo/x', bearer(k))
      expect(r.status).toBe(401)
      expect(code(r)).toBe('AUTHENTICATION_FAILED')
    }
    expect(JSON.parse((await send('/acme/models/gpt/__echo/x', bearer(KEY_EXPIRED))).body).error.message).toMatch(/expired/)
  })

  it('a key configured only by its hash works', async () => {
    expect((await send('/acme/models/gpt/__echo/x', bearer(KEY_HASHED))).status).toBe(200)
  })

  it('a personal key reaches every workspace of its user (with the user\'s role), and no other', async () => {
    expect((await send('/acme/models/gpt/__echo/x', bearer(KEY_ALICE))).status).toBe(200)
    expect((await send('/gamma/models/gpt/__echo/x', bearer(KEY_ALICE))).status).toBe(200)
    const r = await send('/beta/models/gpt/__echo/x', bearer(KEY_ALICE))
    expect(r.status).toBe(403)
    expect(code(r)).toBe('FORBIDDEN')
  })

  it('[A10] a service-account key reaches its one workspace only (wrong workspace = 403)', async () => {
    expect((await send('/acme/models/gpt/__echo/x', bearer(KEY_BOT))).status).toBe(200)
    expect((await send('/gamma/models/gpt/__echo/x', bearer(KEY_BOT))).status).toBe(403)
  })

  it('[A11] key scopes: the scoped model works, any other name is 403 whether it exists or not', async () => {
    expect((await send('/acme/models/gpt/__echo/x', bearer(KEY_SCOPED))).status).toBe(200)
    const existing = await send('/acme/models/other-model/__echo/x', { ...bearer(KEY_SCOPED), 'x-request-id': 'same-id' })
    const unknown = await send('/acme/models/no-such-model/__echo/x', { ...bearer(KEY_SCOPED), 'x-request-id': 'same-id' })
    expect(existing.status).toBe(403)
    expect(observable(unknown)).toEqual(observable(existing))
  })
})

describe('decision order: 401, then 403, then 404', () => {
  it('[A12] without a valid credential, existing and unknown workspaces and models look the same', async () => {
    const paths = ['/acme/models/gpt/v1/chat', '/acme/models/nope/v1/chat', '/nope/models/gpt/v1/chat', '/beta/models/gpt/v1/chat']
    // One client-chosen request id, so even content-length can be compared.
    for (const headers of [{}, bearer('agnet_wrong_key_000000000'), bearer('eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln')]) {
      const answers = await Promise.all(paths.map(async p => observable(await send(p, { ...headers, 'x-request-id': 'same-id' }, 'POST', '{}'))))
      for (const a of answers) expect(a).toEqual(answers[0])
      expect((answers[0] as { status: number }).status).toBe(401)
    }
  })

  it('[A13] a valid credential outside its workspace gets the same 403 for existing and unknown workspaces', async () => {
    const a = await send('/beta/models/gpt/x', { ...bearer(KEY_BOT), 'x-request-id': 'same-id' })
    const b = await send('/nope/models/gpt/x', { ...bearer(KEY_BOT), 'x-request-id': 'same-id' })
    expect(a.status).toBe(403)
    expect(observable(a)).toEqual(observable(b))
  })

  it('404s come last, to a credential that may see the workspace', async () => {
    const r = await send('/acme/models/nope/x', bearer(KEY_ALICE))
    expect(r.status).toBe(404)
    expect(code(r)).toBe('WORKLOAD_NOT_FOUND')
  })
})

describe('external issuers', () => {
  it('HS256 (secret), RS256 (PEM), ES256 (JWKS file), EdDSA (PEM file, mapped claims) and a JWKS URL are accepted', async () => {
    const tokens = [
      await sign(new TextEncoder().encode(HS_SECRET), 'HS256', claims('https://hs.example')),
      await sign(rsa.privateKey, 'RS256', claims('https://rs.example', { aud: 'other-aud' })),
      await sign(ec.privateKey, 'ES256', claims('https://es.example'), { kid: 'es-1' }),
      await sign(ed.privateKey, 'EdDSA', claims('https://ed.example', { sub: undefined, email: 'e@x', workspace: undefined, teams: ['beta', 'acme'] })),
      await sign(remoteKey.privateKey, 'ES256', claims('https://remote.example'), { kid: 'remote-1' })
    ]
    for (const t of tokens) {
      const r = await send('/acme/models/gpt/__echo/x', bearer(t))
      expect(r.status, decodeJwt(t).iss).toBe(200)
    }
    // The workspace claim scopes the token: acme only.
    expect((await send('/gamma/models/gpt/__echo/x', bearer(tokens[0] as string))).status).toBe(403)
  })

  it('[A14] alg "none" in every spelling is refused', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const t = `${b64({ alg, typ: 'JWT' })}.${b64(claims('https://hs.example'))}.`
      const r = await send('/acme/models/gpt/__echo/x', bearer(t + 'x'))
      expect(r.status, alg).toBe(401)
      const r2 = await send('/acme/models/gpt/__echo/x', bearer(`${b64({ alg })}.${b64(claims('https://hs.example'))}.e30`))
      expect(r2.status, alg).toBe(401)
    }
  })

  it('[A15] HS/RS key confusion: an HS256 token signed with the RS issuer\'s public PEM is refused', async () => {
    const t = hmacToken(RSA_PEM, { alg: 'HS256', typ: 'JWT' }, claims('https://rs.example'))
    expect((await send('/acme/models/gpt/__echo/x', bearer(t))).status).toBe(401)
    const der = rsa.publicKey.export({ type: 'spki', format: 'der' })
    expect((await send('/acme/models/gpt/__echo/x', bearer(hmacToken(der, { alg: 'HS256' }, claims('https://rs.example'))))).status).toBe(401)
  })

  it('[A16] missing exp, or exp as a string, is refused', async () => {
    const key = new TextEncoder().encode(HS_SECRET)
    expect((await send('/acme/models/gpt/__echo/x', bearer(await sign(key, 'HS256', claims('https://hs.example', { exp: undefined }))))).status).toBe(401)
    expect((await send('/acme/models/gpt/__echo/x', bearer(hmacToken(HS_SECRET, { alg: 'HS256' }, claims('https://hs.example', { exp: String(nowS() + 600) }))))).status).toBe(401)
  })

  it('[A17] nbf or iat in the future (beyond the clock tolerance) is refused; a small skew is tolerated', async () => {
    const key = new TextEncoder().encode(HS_SECRET)
    expect((await send('/acme/models/gpt/__echo/x', bearer(await sign(key, 'HS256', claims('https://hs.example', { nbf: nowS() + 3600 }))))).status).toBe(401)
    expect((await send('/acme/models/gpt/__echo/x', bearer(await sign(key, 'HS256', claims('https://hs.example', { iat: nowS() + 3600 }))))).status).toBe(401)
    expect((await send('/acme/models/gpt/__echo/x', bearer(await sign(key, 'HS256', claims('https://hs.example', { exp: nowS() - 5 }))))).status).toBe(200)
  })

  it('[A18] an expired token is refused and says so', async () => {
    const t = await sign(new TextEncoder().encode(HS_SECRET), 'HS256', claims('https://hs.example', { exp: nowS() - 3600, iat: nowS() - 7200 }))
    const r = await send('/acme/models/gpt/__echo/x', bearer(t))
    expect(r.status).toBe(401)
    expect(JSON.parse(r.body).error.message).toMatch(/expired/)
  })

  it('[A19] wrong iss, wrong aud or no aud is refused', async () => {
    const key = new TextEncoder().encode(HS_SECRET)
    for (const extra of [{ iss: 'https://evil.example' }, { aud: 'someone-else' }, { aud: undefined }]) {
      const r = await send('/acme/models/gpt/__echo/x', bearer(await sign(key, 'HS256', claims('https://hs.example', extra))))
      expect(r.status, JSON.stringify(extra)).toBe(401)
    }
  })

  it('[A20] a kid carrying a path or URL never reaches the file system or the network', async () => {
    const before = jwksState.main!.hits
    for (const kid of ['../../../../etc/passwd', 'http://127.0.0.1:1/evil', '/dev/zero', 'file:///etc/shadow', 'a\u0000b']) {
      const t = await sign(stranger.privateKey, 'ES256', claims('https://es.example'), { kid })
      expect((await send('/acme/models/gpt/__echo/x', bearer(t))).status, kid).toBe(401)
      const t2 = await sign(stranger.privateKey, 'ES256', claims('https://remote.example'), { kid })
      expect((await send('/acme/models/gpt/__echo/x', bearer(t2))).status, kid).toBe(401)
    }
    expect(jwksState.main!.hits - before).toBeLessThanOrEqual(1) // the JWKS URL, not the kid, and one cool-down at most
  })

  it('[A21] embedded jwk, jku, x5u or x5c headers are refused even when the signature matches the embedded key', async () => {
    const attackerJwk = stranger.publicKey.export({ format: 'jwk' })
    const headers = [{ jwk: attackerJwk }, { jku: `${jwksBase}/main` }, { x5u: `${jwksBase}/main` }, { x5c: ['MIIB'] }]
    for (const h of headers) {
      const t = await sign(stranger.privateKey, 'ES256', claims('https://remote.example'), { kid: 'remote-1', ...h })
      expect((await send('/acme/models/gpt/__echo/x', bearer(t))).status, Object.keys(h)[0]).toBe(401)
    }
    // And with the issuer's own valid key: still refused, a token never points at keys.
    const t = await sign(remoteKey.privateKey, 'ES256', claims('https://remote.example'), { kid: 'remote-1', jku: 'https://evil.example/jwks' })
    expect((await send('/acme/models/gpt/__echo/x', bearer(t))).status).toBe(401)
  })

  it('[A22] a storm of unknown kids while the JWKS endpoint is down or hanging costs one fetch, and every answer is a prompt 401', async () => {
    for (const [name, iss] of [['down', 'https://down.example'], ['slow', 'https://slow.example']] as const) {
      const before = jwksState[name]!.hits
      const tokens = await Promise.all(Array.from({ length: 40 }, async (_, i) => await sign(stranger.privateKey, 'ES256', claims(iss), { kid: `storm-${i}` })))
      const answers = await Promise.all(tokens.map(async t => await send('/acme/models/gpt/__echo/x', bearer(t))))
      expect(answers.every(a => a.status === 401)).toBe(true)
      expect(jwksState[name]!.hits - before).toBeLessThanOrEqual(1)
      // Inside the cool-down: more unknown kids cause no fetch at all.
      await send('/acme/models/gpt/__echo/x', bearer(await sign(stranger.privateKey, 'ES256', claims(iss), { kid: 'later' })))
      expect(jwksState[name]!.hits - before).toBeLessThanOrEqual(1)
    }
  })

  it('[A23] keys already fetched keep working while the JWKS endpoint is down', async () => {
    const t = await sign(remoteKey.privateKey, 'ES256', claims('https://remote.example', { jti: 'fresh' }), { kid: 'remote-1' })
    jwksState.main!.mode = 'down'
    try {
      expect((await send('/acme/models/gpt/__echo/x', bearer(t))).status).toBe(200)
    } finally {
      jwksState.main!.mode = 'ok'
    }
  })

  it('[A24] malformed JWTs are 401, never 500', async () => {
    const bad = ['a.b.c', 'eyJ.eyJ.sig', `${b64('str')}.${b64({})}.x`, `${b64({ alg: 'HS256' })}.${b64([1])}.x`, `${b64({ alg: 'HS256' })}.bm90IGpzb24.x`, `${b64({ alg: 7 })}.${b64(claims('https://hs.example'))}.x`, `${b64({ alg: 'HS256', crit: ['exp'] })}.${b64(claims('https://hs.example'))}.x`]
    for (const t of bad) {
      const r = await send('/acme/models/gpt/__echo/x', bearer(t))
      expect(r.status, t).toBe(401)
    }
  })

  it('[A25] a token signed by an unknown key for a known issuer is refused', async () => {
    const t = await sign(new TextEncoder().encode('another-secret-0123456789abcdef-xyz'), 'HS256', claims('https://hs.example'))
    expect((await send('/acme/models/gpt/__echo/x', bearer(t))).status).toBe(401)
  })
})

describe('the token issuer', () => {
  const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

  async function token (body: unknown, headers: Record<string, string> = {}, type = 'application/json'): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
    const r = await fetch(`${gw.url}/v0/oauth/token`, { method: 'POST', headers: { 'content-type': type, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
    return { status: r.status, json: await r.json() as Record<string, unknown>, headers: r.headers }
  }

  it('client_credentials by HTTP Basic: a JWT with kid, exp, iat, sub, workspace and jti, 2 h, that the run plane accepts', async () => {
    const r = await token({ grant_type: 'client_credentials' }, { authorization: basic(BOT_ID, BOT_SECRET) })
    expect(r.status).toBe(200)
    expect(r.headers.get('cache-control')).toBe('no-store')
    expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: 7200 })
    expect(typeof r.json.refresh_token).toBe('string')
    const at = r.json.access_token as string
    const header = decodeProtectedHeader(at)
    expect(header.alg).toBe('ES256')
    expect(typeof header.kid).toBe('string')
    const payload = decodeJwt(at)
    expect(payload).toMatchObject({ sub: BOT_ID, workspace: 'acme' })
    expect((payload.exp as number) - (payload.iat as number)).toBe(7200)
    expect(typeof payload.jti).toBe('string')
    // Verifiable by anyone with the published JWKS.
    const jwks = await (await fetch(`${gw.url}/.well-known/jwks.json`)).json() as { keys: never[] }
    const disco = await (await fetch(`${gw.url}/v0/.well-known/openid-configuration`)).json() as Record<string, unknown>
    await jwtVerify(at, createLocalJWKSet({ keys: jwks.keys }), { issuer: disco.issuer as string })
    expect(disco.token_endpoint).toBe(`${gw.url}/v0/oauth/token`)
    expect((await fetch(`${gw.url}/api/.well-known/jwks.json`)).status).toBe(200)
    expect((await fetch(`${gw.url}/v0/.well-known/jwks.json`)).status).toBe(200)
    expect((await send('/acme/models/gpt/__echo/x', bearer(at))).status).toBe(200)
    expect((await send('/acme/models/gpt/__echo/x', { authorization: `Bearer ${at}` })).status).toBe(200)
    expect((await send('/gamma/models/gpt/__echo/x', bearer(at))).status).toBe(403)
  })

  it('client_credentials with id and secret in a form body or JSON body; /api alias', async () => {
    const form = await token(`grant_type=client_credentials&client_id=${BOT_ID}&client_secret=${BOT_SECRET}`, {}, 'application/x-www-form-urlencoded')
    expect(form.status).toBe(200)
    const json = await fetch(`${gw.url}/api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: BOT_ID, client_secret: BOT_SECRET }) })
    expect(json.status).toBe(200)
  })

  it('[A26] a wrong client secret or unknown client: invalid_client (401 by Basic, 400 in the body); no secret: 400 invalid_request', async () => {
    const wrong = await token({ grant_type: 'client_credentials' }, { authorization: basic(BOT_ID, 'wrong') })
    expect(wrong.status).toBe(401)
    expect(wrong.json.error).toBe('invalid_client')
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/)
    const unknown = await token({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: BOT_SECRET })
    expect(unknown.status).toBe(400) // body credentials: 400 as Blaxel answers; Basic: 401 with a challenge
    expect((await token({ grant_type: 'client_credentials', client_id: BOT_ID, client_secret: 'wrong' })).status).toBe(400)
    expect(unknown.json).toEqual({ error: 'invalid_client', error_description: expect.any(String) })
    expect((await token({ grant_type: 'client_credentials', client_id: BOT_ID })).json.error).toBe('invalid_request')
  })

  it('[A27] bad grants: missing, unsupported, non-string fields, both Basic and body secrets', async () => {
    expect((await token({})).json.error).toBe('invalid_request')
    const dev = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code' })
    expect(dev.status).toBe(400)
    expect(dev.json.error).toBe('unsupported_grant_type')
    expect((await token({ grant_type: 'client_credentials', client_id: [BOT_ID], client_secret: BOT_SECRET })).json.error).toBe('invalid_request')
    expect((await token({ grant_type: 'client_credentials', client_secret: BOT_SECRET }, { authorization: basic(BOT_ID, BOT_SECRET) })).json.error).toBe('invalid_request')
    // Unparseable or unsupported bodies still answer in the OAuth shape.
    for (const [body, type, status] of [['{"grant_type":', 'application/json', 400], ['', 'application/json', 400], ['grant_type=client_credentials', 'text/plain', 400], ['<grant/>', 'application/xml', 415]] as const) {
      const r = await token(body, {}, type)
      expect(r.status, `${type} ${body}`).toBe(status)
      expect(r.json.error).toBe('invalid_request')
    }
  })

  it('[A28] refresh tokens are single-use; reusing one revokes its whole family', async () => {
    const first = await token({ grant_type: 'client_credentials' }, { authorization: basic(BOT_ID, BOT_SECRET) })
    const rt1 = first.json.refresh_token as string
    const second = await token({ grant_type: 'refresh_token', refresh_token: rt1 })
    expect(second.status).toBe(200)
    expect(decodeJwt(second.json.access_token as string).sub).toBe(BOT_ID)
    const rt2 = second.json.refresh_token as string
    const reuse = await token({ grant_type: 'refresh_token', refresh_token: rt1 })
    expect(reuse.status).toBe(400)
    expect(reuse.json.error).toBe('invalid_grant')
    // The reuse revoked rt2 too: whoever replayed rt1 may hold it.
    expect((await token({ grant_type: 'refresh_token', refresh_token: rt2 })).json.error).toBe('invalid_grant')
    expect((await token({ grant_type: 'refresh_token', refresh_token: 'agnet_rt_made_up' })).json.error).toBe('invalid_grant')
  })

  it('[A29] a tampered issued token (workspace changed, signature kept) is refused', async () => {
    const at = (await token({ grant_type: 'client_credentials' }, { authorization: basic(BOT_ID, BOT_SECRET) })).json.access_token as string
    const [h, p, s] = at.split('.') as [string, string, string]
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    const forged = `${h}.${b64({ ...payload, workspace: 'beta' })}.${s}`
    expect((await send('/beta/models/gpt/__echo/x', bearer(forged))).status).toBe(401)
    // An issued-looking token signed by another key with the same kid.
    const fake = await sign(stranger.privateKey, 'ES256', payload, { kid: decodeProtectedHeader(at).kid })
    expect((await send('/acme/models/gpt/__echo/x', bearer(fake))).status).toBe(401)
  })
})

describe('reloads: revocation and key survival', () => {
  it('[A30] revoking a key and removing a service account take effect on reload; issued tokens of remaining accounts survive it', async () => {
    const basicAuth = `Basic ${Buffer.from(`${BOT_ID}:${BOT_SECRET}`).toString('base64')}`
    const at = ((await (await fetch(`${gw.url}/v0/oauth/token`, { method: 'POST', headers: { authorization: basicAuth, 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' })).json()) as { access_token: string }).access_token
    expect((await send('/acme/models/gpt/__echo/x', bearer(at))).status).toBe(200) // cached now
    expect((await send('/acme/models/gpt/__echo/x', bearer(KEY_LATER))).status).toBe(200)

    expect((await gw.rewrite(configYaml({ revokeLater: true }))).ok).toBe(true)
    expect((await send('/acme/models/gpt/__echo/x', bearer(KEY_LATER))).status).toBe(401)
    expect((await send('/acme/models/gpt/__echo/x', bearer(at))).status).toBe(200) // the signing key survived the reload

    expect((await gw.rewrite(configYaml({ revokeLater: true, dropBot: true }))).ok).toBe(true)
    expect((await send('/acme/models/gpt/__echo/x', bearer(at))).status).toBe(401) // cached, but verified under the old generation
    expect((await send('/acme/models/gpt/__echo/x', bearer(KEY_BOT))).status).toBe(401)

    expect((await gw.rewrite(configYaml())).ok).toBe(true)
  })
})

describe('canary scan: no credential reaches an upstream, a log line or a response', () => {
  it('[A31] canaries sent as every kind of credential show up nowhere', async () => {
    const canaryKey = 'agnet_CANARYKEY_5d41402abc4b2a76b9719d911017c592'
    const canaryHs = await sign(new TextEncoder().encode(HS_SECRET), 'HS256', claims('https://hs.example', { canary: 'CANARYJWT' }))
    const yaml = configYaml().replace('  - name: bob\n', `  - name: canary\n    apiKeys: [{ name: canary-key, value: "${canaryKey}" }]\n  - name: bob\n`).replace('members: [{ user: alice, role: admin }]', 'members: [{ user: alice, role: admin }, { user: canary, role: member }]')
    expect((await gw.rewrite(yaml)).ok).toBe(true)
    const issued = await (await fetch(`${gw.url}/v0/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: BOT_ID, client_secret: BOT_SECRET }) })).json() as { access_token: string; refresh_token: string }
    const canaries = [canaryKey, canaryHs, issued.access_token, issued.refresh_token, BOT_SECRET, 'CANARYBAD_e3b0c44298fc1c149afbf4c8996fb924']
    const seen: string[] = []
    const record = (r: Res): void => { seen.push(JSON.stringify(r.headers), r.body) }
    const requests: Array<[string, Record<string, string>]> = [
      ['/acme/models/gpt/__echo/ok', { ...bearer(canaryKey), authorization: `Bearer ${canaryHs}`, 'x-api-key': canaryKey, 'x-goog-api-key': canaryHs, cookie: `s=${canaryKey}` }],
      ['/acme/models/gpt/__echo/ok', { ...bearer(canaryHs), 'x-blaxel-api-key': canaryKey }],
      ['/acme/models/gpt/__echo/ok', { authorization: `Bearer ${issued.access_token}`, 'x-blaxel-api-key': issued.refresh_token }],
      ['/acme/models/gpt/__echo/ok', bearer('CANARYBAD_e3b0c44298fc1c149afbf4c8996fb924')], // 401
      ['/beta/models/gpt/__echo/ok', bearer(canaryKey)], // 403
      ['/acme/models/missing/__echo/ok', bearer(canaryKey)], // 404
      ['/acme/models/gpt/v1/chat/completions', { ...bearer(canaryKey), 'x-mock-status': '500', 'content-type': 'application/json' }] // upstream error
    ]
    const statuses: number[] = []
    for (const [p, h] of requests) {
      const r = await send(p, h, 'POST', '{"model":"x","messages":[{"role":"user","content":"hi"}]}')
      statuses.push(r.status)
      record(r)
    }
    expect(statuses).toEqual([200, 200, 200, 401, 403, 404, 500])
    // What the upstream received is in the echo bodies (seen); logs are captured by the helper.
    const everything = [...seen, ...gw.logs].join('\n')
    for (const c of canaries) expect(everything.includes(c), c.slice(0, 24)).toBe(false)
    expect(everything).toContain('sk-provider-secret') // the echo did show upstream headers: the scan looked at them
    expect((await gw.rewrite(configYaml())).ok).toBe(true)
  })
})

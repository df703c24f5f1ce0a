// IdentityServices with an injected clock: the cache honours exp, refused tokens are
// remembered briefly, concurrent first checks of one token share one verification.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import { IdentityServices } from '../../../src/auth/authenticate.js'
import { EdgeError } from '../../../src/core/errors.js'
import type { Principal } from '../../../src/core/identity.js'

const SECRET = 'unit-hs-secret-0123456789abcdef-0123456789'
const p = join(mkdtempSync(join(tmpdir(), 'agnet-authn-')), 'c.yaml')
writeFileSync(p, `
users: [{ name: u, apiKeys: [{ name: k, value: agnet_unit_key, expiresAt: "2030-01-01T00:00:00Z" }] }]
auth: { external: [{ name: hs, issuer: "https://hs", audience: agnet, algorithms: [HS256], secret: "${SECRET}", clockTolerance: 0 }] }
workspaces:
  - name: acme
    members: [{ user: u, role: member }]
    serviceAccounts: [{ name: bot, clientId: bot, clientSecret: s3cret-0123456789 }]
`)
const rt = compileRuntime(loadConfig(p, { env: {} }), { dispatchers: new DispatcherRegistry() })

async function hs (iat: number, exp: number): Promise<string> {
  return await new SignJWT({ workspace: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://hs').setAudience('agnet').setSubject('x').setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(SECRET))
}

describe('IdentityServices', () => {
  it('a cached token stops working at its exp, without a reload', async () => {
    const clock = { t: 1_900_000_000_000 }
    const ids = new IdentityServices({ now: () => clock.t })
    const s = clock.t / 1000
    const token = await hs(s, s + 60)
    const first = await ids.authenticateToken(token, rt)
    expect((first as Principal).subject).toBe('x')
    const again = ids.authenticateToken(token, rt)
    expect(again instanceof Promise).toBe(false) // the fast path: cached
    clock.t += 61_000
    const late = await ids.authenticateToken(token, rt)
    expect(late).toBeInstanceOf(EdgeError)
    expect((late as EdgeError).message).toMatch(/expired/)
  })

  it('an API key past its expiresAt is refused by the same clock', () => {
    const ids = new IdentityServices({ now: () => Date.parse('2029-12-31T23:59:59Z') })
    expect((ids.authenticateToken('agnet_unit_key', rt) as Principal).subject).toBe('u')
    const later = new IdentityServices({ now: () => Date.parse('2030-01-01T00:00:00Z') })
    expect((later.authenticateToken('agnet_unit_key', rt) as EdgeError).code).toBe('AUTHENTICATION_FAILED')
  })

  it('a refused token is answered from memory for a short while; concurrent first checks share one promise', async () => {
    const clock = { t: 1_900_000_000_000 }
    const ids = new IdentityServices({ now: () => clock.t })
    const bad = (await hs(clock.t / 1000, clock.t / 1000 + 60)).slice(0, -3) + 'AAA'
    const a = ids.authenticateToken(bad, rt)
    const b = ids.authenticateToken(bad, rt)
    expect(a).toBe(b)
    expect(await a).toBeInstanceOf(EdgeError)
    const replay = ids.authenticateToken(bad, rt)
    expect(replay instanceof Promise).toBe(false)
    expect((replay as EdgeError).code).toBe('AUTHENTICATION_FAILED')
    clock.t += 11_000
    expect(ids.authenticateToken(bad, rt) instanceof Promise).toBe(true) // checked again after the short memory
  })

  it('claims map to the principal: subject, a workspace list, and the role (missing or unknown = member)', async () => {
    const ids = new IdentityServices()
    const key = new TextEncoder().encode(SECRET)
    const mk = async (extra: Record<string, unknown>): Promise<Principal> => (await ids.authenticateToken(await new SignJWT({ workspace: ['acme', 'beta', 7], ...extra }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://hs').setAudience('agnet').setSubject('sam').setIssuedAt().setExpirationTime('1m').sign(key), rt)) as Principal
    const admin = await mk({ role: 'admin' })
    expect(admin).toMatchObject({ kind: 'external', subject: 'sam', credential: 'hs' })
    expect(Object.fromEntries(admin.workspaces ?? [])).toEqual({ acme: 'admin', beta: 'admin' })
    expect(Object.fromEntries((await mk({ role: 'owner' })).workspaces ?? [])).toEqual({ acme: 'member', beta: 'member' })
    expect(Object.fromEntries((await mk({})).workspaces ?? [])).toEqual({ acme: 'member', beta: 'member' })
  })

  it('an issued token is verified against the issuer key of this process only', async () => {
    const ids = new IdentityServices()
    const other = new IdentityServices()
    const client = rt.identity.clients.get('bot')
    if (client === undefined) throw new Error('no client')
    const { token } = await ids.issuer.mint(rt, client)
    expect(((await ids.authenticateToken(token, rt)) as Principal).subject).toBe('bot')
    expect(await other.authenticateToken(token, rt)).toBeInstanceOf(EdgeError)
  })
})

describe('key confusion inside one issuer that allows both HS256 and RS256', () => {
  it('an HS256 token MACed with the issuer\'s RSA public key (PEM or DER) is refused; real tokens of both kinds pass', async () => {
    const { generateKeyPairSync, createHmac } = await import('node:crypto')
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
    const q = join(mkdtempSync(join(tmpdir(), 'agnet-mixed-')), 'c.yaml')
    writeFileSync(q, `
auth:
  external:
    - name: mixed
      issuer: "https://mixed"
      audience: agnet
      algorithms: [HS256, RS256]
      secret: "${SECRET}"
      publicKeyPem: |
${pem.trim().split('\n').map(l => `        ${l}`).join('\n')}
workspaces: [{ name: acme }]
`)
    const mixed = compileRuntime(loadConfig(q, { env: {} }), { dispatchers: new DispatcherRegistry() })
    const ids = new IdentityServices()
    const now = Math.floor(Date.now() / 1000)
    const claims = { iss: 'https://mixed', aud: 'agnet', sub: 'x', workspace: 'acme', iat: now, exp: now + 60 }
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`
    for (const macKey of [pem, rsa.publicKey.export({ type: 'spki', format: 'der' }), pem.trim()]) {
      const forged = `${input}.${createHmac('sha256', macKey).update(input).digest('base64url')}`
      expect(await ids.authenticateToken(forged, mixed)).toBeInstanceOf(EdgeError)
    }
    const hsOk = await new SignJWT({ workspace: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://mixed').setAudience('agnet').setSubject('h').setIssuedAt().setExpirationTime('1m').sign(new TextEncoder().encode(SECRET))
    const rsOk = await new SignJWT({ workspace: 'acme' }).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://mixed').setAudience('agnet').setSubject('r').setIssuedAt().setExpirationTime('1m').sign(rsa.privateKey)
    expect(((await ids.authenticateToken(hsOk, mixed)) as Principal).subject).toBe('h')
    expect(((await ids.authenticateToken(rsOk, mixed)) as Principal).subject).toBe('r')
    // An RS256 header on a token MACed with the secret: the secret never verifies RS256.
    const rsHeader = `${b64({ alg: 'RS256' })}.${b64(claims)}`
    expect(await ids.authenticateToken(`${rsHeader}.${createHmac('sha256', SECRET).update(rsHeader).digest('base64url')}`, mixed)).toBeInstanceOf(EdgeError)
  })
})

// Identity config problems are refused at load with their place and a hint; good configs
// compile into lookup tables.
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, ConfigError, formatProblem } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import { hashLine } from '../../../src/auth/api-keys.js'

const WS = 'workspaces: [{ name: acme, members: [{ user: u, role: member }] }]'

function compile (yaml: string): ReturnType<typeof compileRuntime> {
  const p = join(mkdtempSync(join(tmpdir(), 'agnet-auth-compile-')), 'c.yaml')
  writeFileSync(p, yaml)
  return compileRuntime(loadConfig(p, { env: {} }), { dispatchers: new DispatcherRegistry() })
}

function problems (yaml: string): string[] {
  try {
    compile(yaml)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem)
    throw err
  }
  return []
}

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string
const indent = (s: string): string => s.trim().split('\n').map(l => `        ${l}`).join('\n')

describe('compileIdentity', () => {
  it('no credential anywhere: the run plane stays open', () => {
    expect(compile('workspaces: [{ name: acme }]').identity.required).toBe(false)
  })

  it('keys compile into a table by digest; personal keys carry the user\'s memberships', () => {
    const rt = compile(`users: [{ name: u, apiKeys: [{ name: a, value: "agnet_secret_1" }, { name: b, hash: "${hashLine('agnet_secret_2')}", scopes: [gpt] }] }]\n${WS}`)
    expect(rt.identity.required).toBe(true)
    expect(rt.identity.apiKeys.size).toBe(2)
    const b = [...rt.identity.apiKeys.values()].find(k => k.principal.credential === 'b')
    expect(b?.principal.workspaces?.get('acme')).toBe('member')
    expect([...(b?.principal.scopes ?? [])]).toEqual(['gpt'])
    // The secret is not kept in the compiled identity.
    expect(JSON.stringify([...rt.identity.apiKeys.keys()])).not.toContain('agnet_secret_1')
  })

  it.each([
    ['a key with neither hash nor value', `users: [{ name: u, apiKeys: [{ name: a }] }]\n${WS}`, /exactly one of "hash"/],
    ['a key with both', `users: [{ name: u, apiKeys: [{ name: a, value: x, hash: "${hashLine('x')}" }] }]\n${WS}`, /exactly one of "hash"/],
    ['two keys with one secret', `users: [{ name: u, apiKeys: [{ name: a, value: same }, { name: b, hash: "${hashLine('same')}" }] }]\n${WS}`, /same secret/],
    ['a member that is no user', 'workspaces: [{ name: acme, members: [{ user: ghost, role: admin }] }]', /unknown user "ghost"/],
    ['a client id without a secret', 'workspaces: [{ name: acme, serviceAccounts: [{ name: s, clientId: c }] }]', /clientSecret/],
    ['a client id used twice', 'workspaces: [{ name: a1, serviceAccounts: [{ name: s, clientId: c, clientSecret: x }] }, { name: a2, serviceAccounts: [{ name: s, clientId: c, clientSecret: y }] }]', /used twice/],
    ['an HS issuer with a short secret', `auth: { external: [{ name: e, issuer: i, audience: a, algorithms: [HS256], secret: short }] }\n${WS}`, /at least 32 bytes/],
    ['an HS issuer without secret', `auth: { external: [{ name: e, issuer: i, audience: a, algorithms: [HS256], jwksUrl: "https://x/jwks" }] }\n${WS}`, /need a "secret"/],
    ['an issuer without any key', `auth: { external: [{ name: e, issuer: i, audience: a, algorithms: [RS256] }] }\n${WS}`, /has no key/],
    ['an unreadable PEM', `auth: { external: [{ name: e, issuer: i, audience: a, algorithms: [RS256], publicKeyPem: "nope" }] }\n${WS}`, /not a readable PEM/],
    ['an RSA key pinned to ES256 (no algorithm fits)', `auth:\n  external:\n    - name: e\n      issuer: i\n      audience: a\n      algorithms: [ES256]\n      publicKeyPem: |\n${indent(rsaPem)}\n${WS}`, /cannot verify any of ES256/],
    ['a JWKS URL that is not http(s)', `auth: { external: [{ name: e, issuer: i, audience: a, algorithms: [ES256], jwksUrl: "file:///etc/jwks" }] }\n${WS}`, /http\(s\) URL/],
    ['a missing JWKS file', `auth: { external: [{ name: e, issuer: i, audience: a, algorithms: [ES256], jwksFile: nope.json }] }\n${WS}`, /cannot read the JWKS file/],
    ['two issuers with one iss', `auth: { external: [{ name: e, issuer: i, audience: a, algorithms: [ES256], jwksUrl: "https://x/j" }, { name: f, issuer: i, audience: a, algorithms: [ES256], jwksUrl: "https://x/j" }] }\n${WS}`, /two external issuers/],
    ['a signing key that is not EC P-256', `auth: { issuer: { privateKeyPem: "-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIGb7x0R9vvlP7Y8p1cG4b1bDqKfFy8i+7b0fV1cJ1hK5\\n-----END PRIVATE KEY-----" } }\n${WS}`, /EC P-256/]
  ])('refuses %s', (_name, yaml, re) => {
    const found = problems(yaml.startsWith('users:') ? yaml : `users: [{ name: u }]\n${yaml}`)
    expect(found.join('\n')).toMatch(re)
    expect(found.join('\n')).toMatch(/c\.yaml:\d+/)
  })
})

// Compiles the identity part of the config into lookup tables: API keys by digest, service
// accounts by client id, external issuers by `iss`, keys parsed once. The request path only
// does Map lookups in what this returns.
import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { ApiKeyInput, ConfigInput, ExternalIssuerInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import { DEFAULTS, durationMs, parseDuration } from '../config/default-values.js'
import { sha256, secretStampOf } from './api-keys.js'
import { HS_ALGS, algorithmsForKey, intersect, keyFromJwk, parseSigningKey } from './keys.js'
import { errorCode, isRecord } from '../config/parsed.js'
import type { IdentityRuntime, JwtAlgorithm, Principal, Role, RtApiKey, RtClient, RtExternalIssuer, RtIssuerConfig, RtIssuerKey } from '../core/identity.js'

type Path = Array<string | number>

const HASH_PREFIX = 'sha256:'
const EXTERNAL = DEFAULTS.external
const JWKS_CACHE_TTL_MS = durationMs(EXTERNAL.jwksCacheTtl)
const JWKS_COOLDOWN_MS = durationMs(EXTERNAL.jwksCooldown)
const JWKS_TIMEOUT_MS = durationMs(EXTERNAL.jwksTimeout)
const CLOCK_TOLERANCE_MS = durationMs(EXTERNAL.clockTolerance)
const TOKEN_TTL_MS = durationMs(DEFAULTS.issuer.tokenTtl)
const REFRESH_TOKEN_TTL_MS = durationMs(DEFAULTS.issuer.refreshTokenTtl)

/** The sha256 of a secret given as exactly one of its hash ("sha256:...") or its value; null when both or neither are. */
function digestOf (hash: string | undefined, value: string | undefined): Buffer | null {
  if (hash !== undefined) return value === undefined ? Buffer.from(hash.slice(HASH_PREFIX.length), 'hex') : null
  return value === undefined ? null : sha256(value)
}

function compileKey (k: ApiKeyInput, at: Path, principalBase: Omit<Principal, 'credential' | 'scopes'>, keys: Map<string, RtApiKey>, ctx: CompileContext): void {
  const digest = digestOf(k.hash, k.value)
  if (digest === null) {
    ctx.report(at, `API key "${k.name}" needs exactly one of "hash" (sha256:..., see \`agnet token create-key\`) or "value" (an environment reference)`)
    return
  }
  const hex = digest.toString('hex')
  if (keys.has(hex)) {
    ctx.report(at, `API key "${k.name}" has the same secret as another key; every key needs its own secret`)
    return
  }
  let expiresAt = Infinity
  if (k.expiresAt !== undefined) {
    expiresAt = Date.parse(k.expiresAt)
    if (Number.isNaN(expiresAt)) { ctx.report([...at, 'expiresAt'], 'expected an RFC 3339 date-time'); return }
  }
  keys.set(hex, Object.freeze({
    digest,
    expiresAt,
    revoked: k.revoked ?? DEFAULTS.apiKey.revoked,
    principal: Object.freeze({ ...principalBase, credential: k.name, scopes: k.scopes === undefined ? null : new Set(k.scopes) })
  }))
}

function readText (file: string, ctx: CompileContext, at: Path, what: string): string | null {
  try {
    return readFileSync(resolve(ctx.baseDir, file), 'utf8')
  } catch (err) {
    ctx.report(at, `cannot read the ${what} (${errorCode(err) ?? 'error'})`)
    return null
  }
}

function compileIssuer (ei: ExternalIssuerInput, at: Path, ctx: CompileContext): RtExternalIssuer | null {
  const algorithms: JwtAlgorithm[] = [...new Set(ei.algorithms)]
  const keys: RtIssuerKey[] = []
  const hsAlgs = intersect(HS_ALGS, algorithms)
  if (ei.secret !== undefined) {
    if (hsAlgs.size === 0) ctx.report([...at, 'secret'], 'a shared secret needs an HS256/HS384/HS512 algorithm in "algorithms"')
    else if (Buffer.byteLength(ei.secret) < 32) ctx.report([...at, 'secret'], 'an HS shared secret must be at least 32 bytes long')
    else keys.push(Object.freeze({ kid: null, algorithms: hsAlgs, key: new Uint8Array(Buffer.from(ei.secret, 'utf8')) }))
  } else if (hsAlgs.size > 0 && ei.jwksFile === undefined) {
    ctx.report([...at, 'algorithms'], 'HS algorithms need a "secret" (or oct keys in a jwksFile)')
  }
  const pems: Array<[string, Path]> = []
  if (ei.publicKeyPem !== undefined) pems.push([ei.publicKeyPem, [...at, 'publicKeyPem']])
  if (ei.publicKeyFile !== undefined) {
    const text = readText(ei.publicKeyFile, ctx, [...at, 'publicKeyFile'], 'public key file')
    if (text !== null) pems.push([text, [...at, 'publicKeyFile']])
  }
  for (const [pem, where] of pems) {
    let key: KeyObject
    try {
      key = createPublicKey(pem)
    } catch {
      ctx.report(where, 'not a readable PEM public key (SPKI "-----BEGIN PUBLIC KEY-----")')
      continue
    }
    const algs = intersect(algorithmsForKey(key), algorithms)
    if (algs.size === 0) ctx.report(where, `this ${key.asymmetricKeyType ?? 'unknown'} key cannot verify any of ${algorithms.join(', ')}`)
    else keys.push(Object.freeze({ kid: null, algorithms: algs, key }))
  }
  if (ei.jwksFile !== undefined) {
    const text = readText(ei.jwksFile, ctx, [...at, 'jwksFile'], 'JWKS file')
    if (text !== null) {
      let parsed: unknown
      try { parsed = JSON.parse(text) } catch { parsed = null }
      const list = isRecord(parsed) ? parsed.keys : undefined
      if (!Array.isArray(list)) ctx.report([...at, 'jwksFile'], 'expected a JSON Web Key Set: {"keys": [...]}')
      else {
        list.forEach((jwk: unknown, i) => {
          const k = keyFromJwk(jwk, algorithms, true)
          if (typeof k === 'string') ctx.report([...at, 'jwksFile'], `key ${i}: ${k}`)
          else keys.push(k)
        })
      }
    }
  }
  let jwksUrl: string | null = null
  if (ei.jwksUrl !== undefined) {
    let u: URL | null = null
    try { u = new URL(ei.jwksUrl) } catch { /* reported below */ }
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) ctx.report([...at, 'jwksUrl'], 'expected an http(s) URL')
    else jwksUrl = u.href
  }
  if (keys.length === 0 && jwksUrl === null) {
    ctx.report(at, `issuer "${ei.name}" has no key: give a secret, publicKeyPem, publicKeyFile, jwksFile or jwksUrl`)
    return null
  }
  return Object.freeze({
    name: ei.name,
    issuer: ei.issuer,
    audience: Object.freeze(typeof ei.audience === 'string' ? [ei.audience] : [...ei.audience]),
    algorithms: Object.freeze(algorithms),
    staticKeys: Object.freeze(keys),
    jwksUrl,
    jwksCacheTtlMs: parseDuration(ei.jwksCacheTtl, JWKS_CACHE_TTL_MS),
    jwksCooldownMs: parseDuration(ei.jwksCooldown, JWKS_COOLDOWN_MS),
    jwksTimeoutMs: parseDuration(ei.jwksTimeout, JWKS_TIMEOUT_MS),
    clockToleranceS: Math.floor(parseDuration(ei.clockTolerance, CLOCK_TOLERANCE_MS) / 1000),
    claims: Object.freeze({
      subject: ei.claims?.subject ?? DEFAULTS.claims.subject,
      workspace: ei.claims?.workspace ?? DEFAULTS.claims.workspace,
      role: ei.claims?.role ?? DEFAULTS.claims.role
    })
  })
}

function compileIssuerConfig (input: ConfigInput, ctx: CompileContext): RtIssuerConfig {
  const c = input.auth?.issuer ?? {}
  let privateKey: KeyObject | null = null
  let pem: string | null = c.privateKeyPem ?? null
  if (pem === null && c.privateKeyFile !== undefined) pem = readText(c.privateKeyFile, ctx, ['auth', 'issuer', 'privateKeyFile'], 'signing key file')
  if (pem !== null) {
    const k = parseSigningKey(pem)
    if (typeof k === 'string') ctx.report(['auth', 'issuer', c.privateKeyPem !== undefined ? 'privateKeyPem' : 'privateKeyFile'], `${k}; create one with \`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256\``)
    else privateKey = k
  }
  const ttl = Math.floor(parseDuration(c.tokenTtl, TOKEN_TTL_MS) / 1000)
  if (ttl < 1) ctx.report(['auth', 'issuer', 'tokenTtl'], 'the token lifetime must be at least 1s')
  return Object.freeze({
    issuer: c.issuer ?? null,
    tokenTtlS: ttl,
    refreshTokenTtlS: Math.floor(parseDuration(c.refreshTokenTtl, REFRESH_TOKEN_TTL_MS) / 1000),
    privateKey
  })
}

export function compileIdentity (input: ConfigInput, ctx: CompileContext): IdentityRuntime {
  const apiKeys = new Map<string, RtApiKey>()
  const clients = new Map<string, RtClient>()
  const external = new Map<string, RtExternalIssuer>()

  // Memberships first: a personal key reaches every workspace its user belongs to.
  const users = new Map<string, number>()
  ;(input.users ?? []).forEach((u, ui) => {
    if (users.has(u.name)) ctx.report(['users', ui, 'name'], `user "${u.name}" is defined twice`)
    users.set(u.name, ui)
  })
  const memberships = new Map<string, Map<string, Role>>()
  input.workspaces.forEach((ws, wi) => {
    (ws.members ?? []).forEach((m, mi) => {
      if (!users.has(m.user)) ctx.report(['workspaces', wi, 'members', mi, 'user'], `unknown user "${m.user}"; define it under "users"`)
      let map = memberships.get(m.user)
      if (map === undefined) memberships.set(m.user, map = new Map())
      map.set(ws.name, m.role)
    })
  })

  ;(input.users ?? []).forEach((u, ui) => {
    const workspaces: ReadonlyMap<string, Role> = memberships.get(u.name) ?? new Map()
    const base = { kind: 'user' as const, subject: u.name, workspaces }
    ;(u.apiKeys ?? []).forEach((k, ki) => { compileKey(k, ['users', ui, 'apiKeys', ki], base, apiKeys, ctx) })
  })

  let anyServiceAccount = false
  input.workspaces.forEach((ws, wi) => {
    const names = new Set<string>()
    ;(ws.serviceAccounts ?? []).forEach((sa, si) => {
      anyServiceAccount = true
      const at: Path = ['workspaces', wi, 'serviceAccounts', si]
      if (names.has(sa.name)) ctx.report([...at, 'name'], `service account "${sa.name}" is defined twice in workspace "${ws.name}"`)
      names.add(sa.name)
      const workspaces: ReadonlyMap<string, Role> = new Map([[ws.name, sa.role ?? DEFAULTS.serviceAccount.role]])
      const base = { kind: 'service-account' as const, subject: sa.name, workspaces }
      ;(sa.apiKeys ?? []).forEach((k, ki) => { compileKey(k, [...at, 'apiKeys', ki], base, apiKeys, ctx) })
      if (sa.clientId === undefined) {
        if (sa.clientSecret !== undefined || sa.clientSecretHash !== undefined) ctx.report(at, 'a client secret needs a "clientId"')
        return
      }
      const secretDigest = digestOf(sa.clientSecretHash, sa.clientSecret)
      if (secretDigest === null) {
        ctx.report(at, 'a service account with a clientId needs exactly one of "clientSecret" (an environment reference) or "clientSecretHash"')
        return
      }
      if (clients.has(sa.clientId)) {
        ctx.report([...at, 'clientId'], `client id "${sa.clientId}" is used twice; client ids are unique across workspaces`)
        return
      }
      clients.set(sa.clientId, Object.freeze({
        clientId: sa.clientId,
        workspace: ws.name,
        name: sa.name,
        secretDigest,
        secretStamp: secretStampOf(secretDigest),
        principal: Object.freeze({ ...base, credential: 'issued-jwt', scopes: null })
      }))
    })
  })

  const issuer = compileIssuerConfig(input, ctx)
  ;(input.auth?.external ?? []).forEach((ei, i) => {
    const at: Path = ['auth', 'external', i]
    if (external.has(ei.issuer)) { ctx.report([...at, 'issuer'], `two external issuers have iss "${ei.issuer}"`); return }
    if (issuer.issuer !== null && ei.issuer === issuer.issuer) { ctx.report([...at, 'issuer'], 'this iss is the built-in issuer\'s (auth.issuer.issuer); choose another'); return }
    const compiled = compileIssuer(ei, at, ctx)
    if (compiled !== null) external.set(ei.issuer, compiled)
  })

  const anyCredential = apiKeys.size > 0 || anyServiceAccount || external.size > 0
  const open = input.auth?.open
  if (open === true && anyCredential) ctx.report(['auth', 'open'], 'the run plane is declared open but credentials are configured; remove `auth.open: true` or the credentials')
  return Object.freeze({
    // Open only when said so, or when no credential is configured at all and nothing says
    // otherwise (local experiments, most tests). `open: false` fails closed.
    required: open === undefined ? anyCredential : !open,
    declaredOpen: open === true,
    apiKeys,
    clients,
    external,
    issuer,
    cacheSize: input.auth?.cacheSize ?? DEFAULTS.auth.cacheSize
  })
}

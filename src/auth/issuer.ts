// The built-in token issuer, standing in for Blaxel's: client_credentials and refresh_token grants, ES256
// access tokens, opaque single-use refresh tokens, discovery and JWKS. The signing key lives
// here, in a per-process object, not in the Runtime: a config reload must not invalidate
// every token handed out so far.
import { createPublicKey, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Runtime } from '../core/runtime.js'
import { sha256 } from './api-keys.js'
import { ecThumbprint } from './keys.js'
import type { RtClient } from '../core/identity.js'

export interface OAuthAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers: Readonly<Record<string, string>>
}

interface RefreshEntry { readonly clientId: string; readonly workspace: string; readonly secretStamp: string; readonly expMs: number; readonly family: string }

const NO_STORE = Object.freeze({ 'cache-control': 'no-store', pragma: 'no-cache' })
export const REFRESH_TOKEN_PREFIX = 'agnet_rt_'
const MAX_REFRESH_TOKENS = 100_000
const MAX_FIELD = 4096
const TOKEN_FIELDS = ['grant_type', 'client_id', 'client_secret', 'refresh_token'] as const

function oauthError (status: number, error: string, description: string, extra?: Record<string, string>): OAuthAnswer {
  return { status, body: { error, error_description: description }, headers: { ...NO_STORE, ...extra } }
}

/** A bounded Map that forgets its oldest entries first. */
function boundedSet<K, V> (map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max) {
    const first = map.keys().next()
    if (first.done !== true) map.delete(first.value)
  }
  map.set(key, value)
}

export interface TokenRequest {
  /** The Authorization header of the token request, if any (HTTP Basic client authentication). */
  readonly authorization: string | undefined
  /** The parsed JSON or form body. */
  readonly body: Record<string, unknown>
}

export class TokenIssuer {
  private readonly generated: { privateKey: KeyObject; kid: string }
  /** Verification keys of every signing key used by this process, by kid. */
  readonly verificationKeys = new Map<string, KeyObject>()
  private readonly publicJwks = new Map<string, Record<string, unknown>>()
  private readonly refresh = new Map<string, RefreshEntry>()
  /** Spent refresh tokens → family, to spot reuse and revoke the whole family. */
  private readonly spent = new Map<string, string>()
  private readonly revokedFamilies = new Map<string, true>()
  private readonly now: () => number

  constructor (now: () => number) {
    this.now = now
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    this.generated = { privateKey, kid: this.remember(privateKey) }
  }

  private readonly kids = new WeakMap<KeyObject, string>()

  private remember (privateKey: KeyObject): string {
    const known = this.kids.get(privateKey)
    if (known !== undefined) return known
    const pub = createPublicKey(privateKey)
    const kid = ecThumbprint(pub)
    if (!this.verificationKeys.has(kid)) {
      this.verificationKeys.set(kid, pub)
      this.publicJwks.set(kid, { ...pub.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' })
    }
    this.kids.set(privateKey, kid)
    return kid
  }

  /** The signing key for a runtime: the configured one, else the one generated at start-up. */
  signingKey (rt: Runtime): { privateKey: KeyObject; kid: string } {
    const configured = rt.identity.issuer.privateKey
    if (configured === null) return this.generated
    return { privateKey: configured, kid: this.remember(configured) }
  }

  /** The `iss` of issued tokens. */
  issuerName (rt: Runtime): string {
    return rt.identity.issuer.issuer ?? rt.server.publicUrl ?? `http://localhost:${rt.server.port}`
  }

  jwks (rt: Runtime): { keys: Array<Record<string, unknown>> } {
    // The current signing key first; earlier keys stay published while their tokens may live.
    const current = this.signingKey(rt).kid
    const first = this.publicJwks.get(current)
    const keys = first === undefined ? [] : [first]
    for (const [kid, jwk] of this.publicJwks) if (kid !== current) keys.push(jwk)
    return { keys }
  }

  async mint (rt: Runtime, client: RtClient, ttlS = rt.identity.issuer.tokenTtlS): Promise<{ token: string; iat: number; exp: number }> {
    const { privateKey, kid } = this.signingKey(rt)
    const iat = Math.floor(this.now() / 1000)
    const exp = iat + ttlS
    // `sst`: the client secret the token was issued under; verification refuses it once rotated.
    const token = await new SignJWT({ workspace: client.workspace, client_id: client.clientId, sst: client.secretStamp })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(this.issuerName(rt))
      .setSubject(client.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(privateKey)
    return { token, iat, exp }
  }

  private newRefreshToken (rt: Runtime, client: RtClient, family: string): string {
    const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url')
    const entry: RefreshEntry = { clientId: client.clientId, workspace: client.workspace, secretStamp: client.secretStamp, expMs: this.now() + rt.identity.issuer.refreshTokenTtlS * 1000, family }
    boundedSet(this.refresh, sha256(token).toString('hex'), entry, MAX_REFRESH_TOKENS)
    return token
  }

  private async grant (rt: Runtime, client: RtClient, family: string): Promise<OAuthAnswer> {
    const { token, exp, iat } = await this.mint(rt, client)
    return {
      status: 200,
      headers: NO_STORE,
      body: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: exp - iat,
        refresh_token: this.newRefreshToken(rt, client, family),
        scope: ''
      }
    }
  }

  /** POST /oauth/token. */
  async token (rt: Runtime, req: TokenRequest): Promise<OAuthAnswer> {
    const body = req.body
    const fields: Partial<Record<typeof TOKEN_FIELDS[number], string>> = {}
    for (const k of TOKEN_FIELDS) {
      const v = body[k]
      if (v === undefined) continue
      if (typeof v !== 'string' || v.length > MAX_FIELD) return oauthError(400, 'invalid_request', `"${k}" must be a string.`)
      fields[k] = v
    }
    const grant = fields.grant_type
    if (grant === undefined || grant === '') return oauthError(400, 'invalid_request', 'Missing "grant_type" (client_credentials or refresh_token).')

    // Client authentication: HTTP Basic or body fields, never both (RFC 6749 §2.3.1).
    let basic: { id: string; secret: string } | null = null
    const auth = req.authorization
    if (auth !== undefined && /^basic[ \t]+/i.test(auth)) {
      const decoded = Buffer.from(auth.replace(/^basic[ \t]+/i, '').trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) return oauthError(401, 'invalid_client', 'HTTP Basic credentials must be base64(client_id:client_secret).', { 'www-authenticate': 'Basic realm="agnet"' })
      basic = { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) }
    }
    const bodyId = fields.client_id
    const bodySecret = fields.client_secret
    if (basic !== null && bodySecret !== undefined) return oauthError(400, 'invalid_request', 'Send the client credentials either by HTTP Basic or in the body, not both.')
    const clientId = basic?.id ?? bodyId
    const clientSecret = basic?.secret ?? bodySecret

    if (grant === 'client_credentials') {
      if (clientId === undefined || clientId === '' || clientSecret === undefined) return oauthError(400, 'invalid_request', 'client_credentials needs client_id and client_secret (HTTP Basic or body).')
      let client = authenticateClient(rt, clientId, clientSecret)
      // RFC 6749 §2.3.1 form-encodes id and secret inside Basic; most clients do not. Accept both.
      if (client === null && basic !== null) client = authenticateClient(rt, formDecode(clientId), formDecode(clientSecret))
      // RFC 6749 §5.2: 401 with a challenge when the client used HTTP Basic; with body credentials
      // Blaxel answers 400 (Security/Access-tokens), which the RFC allows too.
      if (client === null) return basic !== null ? oauthError(401, 'invalid_client', 'Unknown client or wrong client secret.', { 'www-authenticate': 'Basic realm="agnet"' }) : oauthError(400, 'invalid_client', 'Unknown client or wrong client secret.')
      return await this.grant(rt, client, randomBytes(12).toString('base64url'))
    }

    if (grant === 'refresh_token') {
      const presented = fields.refresh_token
      if (presented === undefined || presented === '') return oauthError(400, 'invalid_request', 'refresh_token grant needs "refresh_token".')
      const digest = sha256(presented).toString('hex')
      const entry = this.refresh.get(digest)
      if (entry === undefined) {
        // Reuse of a spent token: someone holds a copy. Revoke the whole family (RFC 6819 §5.2.2.3).
        const family = this.spent.get(digest)
        if (family !== undefined) {
          boundedSet(this.revokedFamilies, family, true, MAX_REFRESH_TOKENS)
          for (const [k, e] of this.refresh) if (e.family === family) this.refresh.delete(k)
        }
        return oauthError(400, 'invalid_grant', 'The refresh token is unknown, expired or already used.')
      }
      // Single use: spent from here on, whatever happens next.
      this.refresh.delete(digest)
      boundedSet(this.spent, digest, entry.family, MAX_REFRESH_TOKENS)
      if (this.revokedFamilies.has(entry.family) || this.now() >= entry.expMs) return oauthError(400, 'invalid_grant', 'The refresh token is unknown, expired or already used.')
      const client = rt.identity.clients.get(entry.clientId)
      if (client === undefined || client.workspace !== entry.workspace) return oauthError(400, 'invalid_grant', 'The service account of this refresh token no longer exists.')
      if (client.secretStamp !== entry.secretStamp) return oauthError(400, 'invalid_grant', 'The client secret was rotated since this refresh token was issued; ask for a new token with the new secret.')
      // Client credentials are optional on refresh (SDKs send only the token); if sent they must match.
      if (clientId !== undefined && clientId !== '') {
        if (clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'The refresh token was issued to another client.')
        if (clientSecret !== undefined && authenticateClient(rt, clientId, clientSecret) === null) return oauthError(401, 'invalid_client', 'Unknown client or wrong client secret.')
      }
      return await this.grant(rt, client, entry.family)
    }

    return oauthError(400, 'unsupported_grant_type', `Grant "${grant.slice(0, 64)}" is not supported; use client_credentials or refresh_token.`)
  }

  discovery (rt: Runtime, base: string): Record<string, unknown> {
    return {
      issuer: this.issuerName(rt),
      token_endpoint: `${base}/v0/oauth/token`,
      jwks_uri: `${base}/v0/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256'],
      claims_supported: ['iss', 'sub', 'workspace', 'client_id', 'iat', 'exp', 'jti']
    }
  }
}

function formDecode (s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s
  try { return decodeURIComponent(s.replace(/\+/g, ' ')) } catch { return s }
}

/** Constant-time check of a client secret against its stored digest. */
export function authenticateClient (rt: Runtime, clientId: string, secret: string): RtClient | null {
  const client = rt.identity.clients.get(clientId)
  const digest = sha256(secret)
  // Compare even for an unknown client, so timing does not tell which client ids exist.
  const ok = timingSafeEqual(digest, client?.secretDigest ?? DUMMY)
  return ok && client !== undefined ? client : null
}

const DUMMY = Buffer.alloc(32)

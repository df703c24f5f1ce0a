// Stage: who is calling. Reads the credential carriers and resolves a principal.
// Fast path (sync, no allocation beyond one sha256): an API key found by digest, or a JWT
// already verified (bounded cache keyed by the token and the config generation). Only a
// JWT seen for the first time, or a JWKS fetch, returns a Promise.
import type { Runtime } from '../core/runtime.js'
import type { Principal, RtExternalIssuer } from '../core/identity.js'
import { EdgeError } from '../core/errors.js'
import { CarrierProblem, isB64Token, looksLikeJwt, readCredential } from './carriers.js'
import { checkApiKey } from './api-keys.js'
import { TokenCache } from './token-cache.js'
import { RemoteJwks } from './jwks.js'
import { TokenIssuer } from './issuer.js'
import { verifyJwt, type JwtDeps } from './jwt.js'
import { DEFAULTS } from '../config/default-values.js'

/** The principal of an open run plane (no credential configured at all). */
export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', subject: 'anonymous', credential: 'none', workspaces: null, scopes: null })

// One error object per answer: messages name the problem, never the credential.
const REQUIRED = new EdgeError('AUTHENTICATION_REQUIRED')
const FAILED = new EdgeError('AUTHENTICATION_FAILED')
const EMPTY = new EdgeError('AUTHENTICATION_REQUIRED', 'The Bearer token is empty: the header reads "Bearer" with nothing after it. If the command used a shell variable (such as $AGNET_DEMO_KEY), it is not set in this shell.')
const MALFORMED = new EdgeError('AUTHENTICATION_FAILED', 'The credential header is not "Bearer <token>" (or the token is too long).')
const EXPIRED = new EdgeError('AUTHENTICATION_FAILED', 'The credential has expired. Get a new token or key.')
const REVOKED = new EdgeError('AUTHENTICATION_FAILED', 'The credential has been revoked.')
const REPEATED = new EdgeError('BAD_REQUEST', 'Send exactly one X-Blaxel-Authorization (or Authorization) header; this request repeats it.', {
  headers: { 'www-authenticate': 'Bearer error="invalid_request"' }
})

// Short: a token refused because its JWKS was unreachable must get a second chance soon.
const REFUSED_TTL_MS = 10_000
const REFUSED_CACHE_SIZE = 10_000

export interface IdentityOptions {
  /** The clock (ms since epoch); injectable for tests of expiry. */
  now?: () => number
}

export class IdentityServices {
  readonly now: () => number
  readonly issuer: TokenIssuer
  readonly cache: TokenCache<Principal>
  /** Tokens refused recently: replaying one costs a lookup, not a signature check. */
  readonly refused = new TokenCache<EdgeError>(REFUSED_CACHE_SIZE)
  /** First verifications in flight: concurrent requests with one new token share one check. */
  private readonly inflight = new Map<string, Promise<Principal | EdgeError>>()
  private readonly remotes = new Map<string, RemoteJwks>()
  private readonly jwksForBound: (issuer: RtExternalIssuer, url: string) => RemoteJwks

  constructor (opts: IdentityOptions = {}) {
    this.now = opts.now ?? Date.now
    this.issuer = new TokenIssuer(this.now)
    this.cache = new TokenCache<Principal>(DEFAULTS.auth.cacheSize)
    this.jwksForBound = (issuer, url) => this.jwksFor(issuer, url)
  }

  /** The remote JWKS of an issuer at `url` (its jwksUrl), kept across reloads while its URL and settings stay the same. */
  jwksFor (issuer: RtExternalIssuer, url: string): RemoteJwks {
    const key = `${url}|${issuer.algorithms.join(',')}|${issuer.jwksCacheTtlMs}|${issuer.jwksCooldownMs}|${issuer.jwksTimeoutMs}`
    let remote = this.remotes.get(key)
    if (remote === undefined) {
      if (this.remotes.size >= 256) this.remotes.clear()
      remote = new RemoteJwks({
        url,
        algorithms: issuer.algorithms,
        ttlMs: issuer.jwksCacheTtlMs,
        cooldownMs: issuer.jwksCooldownMs,
        timeoutMs: issuer.jwksTimeoutMs,
        now: this.now
      })
      this.remotes.set(key, remote)
    }
    return remote
  }

  /** Resolves a bearer token against a runtime. */
  authenticateToken (token: string, rt: Runtime): Principal | EdgeError | Promise<Principal | EdgeError> {
    const identity = rt.identity
    const now = this.now()
    if (!looksLikeJwt(token)) {
      const v = checkApiKey(identity.apiKeys, token, now)
      return v === 'unknown' && !isB64Token(token) ? MALFORMED : keyAnswer(v)
    }
    const cached = this.cache.get(token, rt.generation, now)
    if (cached !== null) return cached
    // A configured key may happen to have a JWT's shape; keys are checked before signatures.
    const asKey = checkApiKey(identity.apiKeys, token, now)
    if (asKey !== 'unknown') return keyAnswer(asKey)
    if (!isB64Token(token)) return MALFORMED
    const refused = this.refused.get(token, rt.generation, now)
    if (refused !== null) return refused
    const key = `${rt.generation}:${token}`
    let pending = this.inflight.get(key)
    if (pending === undefined) {
      pending = this.verifyNew(token, rt).finally(() => { this.inflight.delete(key) })
      this.inflight.set(key, pending)
    }
    return pending
  }

  private async verifyNew (token: string, rt: Runtime): Promise<Principal | EdgeError> {
    this.issuer.signingKey(rt) // registers a configured key's kid, so tokens minted elsewhere (agnet token) verify
    const deps: JwtDeps = { issuedIss: this.issuer.issuerName(rt), issuedKeys: this.issuer.verificationKeys, jwksFor: this.jwksForBound, now: this.now }
    const result = await verifyJwt(token, rt.identity, deps)
    if (result === 'expired' || result === 'invalid') {
      const err = result === 'expired' ? EXPIRED : FAILED
      this.refused.set(token, err, this.now() + REFUSED_TTL_MS, rt.generation)
      return err
    }
    if (this.cache.max !== rt.identity.cacheSize) this.cache.resize(rt.identity.cacheSize)
    this.cache.set(token, result.principal, result.expMs, rt.generation)
    return result.principal
  }

  close (): void {
    this.cache.clear()
    this.refused.clear()
  }
}

function keyAnswer (v: ReturnType<typeof checkApiKey>): Principal | EdgeError {
  if (typeof v !== 'string') return v
  if (v === 'expired') return EXPIRED
  if (v === 'revoked') return REVOKED
  return FAILED
}

// Only a workspace name is ever logged from the header: a token pasted there has other characters.
const WORKSPACE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * X-Blaxel-Workspace when it disagrees with the workspace of the path, for the log: the path's
 * workspace is the one that counts. null when they agree or the header is absent; "(invalid)"
 * when the header is no workspace name.
 */
export function claimedWorkspace (header: string | string[] | undefined, pathWorkspace: string): string | null {
  if (header === undefined || header === pathWorkspace) return null
  return typeof header === 'string' && WORKSPACE_NAME.test(header) ? header : '(invalid)'
}

/**
 * Who is calling, from the request's raw headers: the principal, or the error to answer. Both
 * planes call it, so they accept exactly the same credentials. Only a JWT seen for the first
 * time (or a JWKS fetch) returns a Promise.
 */
export function authenticate (rawHeaders: readonly string[], rt: Runtime, services: IdentityServices): Principal | EdgeError | Promise<Principal | EdgeError> {
  if (!rt.identity.required) return ANONYMOUS
  const token = readCredential(rawHeaders)
  if (typeof token !== 'string') {
    if (token === CarrierProblem.None) return REQUIRED
    if (token === CarrierProblem.Repeated) return REPEATED
    if (token === CarrierProblem.Empty) return EMPTY
    return MALFORMED
  }
  return services.authenticateToken(token, rt)
}

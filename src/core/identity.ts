// Identity as the request path sees it: a principal per request, and the compiled tables
// (keys, issuers) it is looked up in. Everything here is built once per config load.
import type { KeyObject } from 'node:crypto'

export type Role = 'admin' | 'member'

export interface Principal {
  readonly kind: 'user' | 'service-account' | 'external' | 'anonymous'
  /** Who: user name, service account name or token subject. Safe to log. */
  readonly subject: string
  /** The credential's name (key name, "issued-jwt", issuer name). Safe to log; never the secret. */
  readonly credential: string
  /** Workspaces reachable and the role in each; null = any (anonymous when auth is off). */
  readonly workspaces: ReadonlyMap<string, Role> | null
  /** Models the credential may call; null = every model it can reach. */
  readonly scopes: ReadonlySet<string> | null
}

/** One configured API key, found by the sha256 of the presented secret. */
export interface RtApiKey {
  /** sha256 of the secret (32 bytes), compared in constant time after the lookup. */
  readonly digest: Buffer
  /** Epoch ms after which the key is refused; Infinity = never. */
  readonly expiresAt: number
  readonly revoked: boolean
  /** The principal, precomputed: a request allocates nothing to authenticate with a key. */
  readonly principal: Principal
}

/** A service account that may use the token issuer (client_credentials). */
export interface RtClient {
  readonly clientId: string
  readonly workspace: string
  readonly name: string
  /** sha256 of the client secret. */
  readonly secretDigest: Buffer
  /**
   * Which secret the client has now (a short hash of secretDigest): carried by the tokens
   * issued to it, so rotating the secret revokes them.
   */
  readonly secretStamp: string
  /** Principal of the access tokens issued to this client. */
  readonly principal: Principal
}

export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA'

/** A key of an external issuer, parsed at load. */
export interface RtIssuerKey {
  readonly kid: string | null
  /** Algorithms this key may verify (a key never serves two families: no HS/RS confusion). */
  readonly algorithms: ReadonlySet<JwtAlgorithm>
  readonly key: KeyObject | Uint8Array
}

export interface RtExternalIssuer {
  readonly name: string
  readonly issuer: string
  readonly audience: readonly string[]
  readonly algorithms: readonly JwtAlgorithm[]
  /** Keys known at load (secret, PEM, JWKS file). */
  readonly staticKeys: readonly RtIssuerKey[]
  /** A remote JWKS, fetched and cached by IdentityServices; null = none. */
  readonly jwksUrl: string | null
  readonly jwksCacheTtlMs: number
  readonly jwksCooldownMs: number
  readonly jwksTimeoutMs: number
  readonly clockToleranceS: number
  readonly claims: { readonly subject: string; readonly workspace: string; readonly role: string }
}

export interface RtIssuerConfig {
  /** The `iss` of issued tokens; null = derived from server.publicUrl or the listening port. */
  readonly issuer: string | null
  readonly tokenTtlS: number
  readonly refreshTokenTtlS: number
  /** A configured signing key (ES256, PKCS#8); null = the key IdentityServices generated at start. */
  readonly privateKey: KeyObject | null
}

export interface IdentityRuntime {
  /** When false the run plane is open: no credential configured at all, or `auth.open: true`. */
  readonly required: boolean
  /** The config says `auth.open: true`: the run plane is open on purpose, not by omission. */
  readonly declaredOpen: boolean
  /** API keys by the hex sha256 of their secret. */
  readonly apiKeys: ReadonlyMap<string, RtApiKey>
  /** Service accounts by OAuth client id. */
  readonly clients: ReadonlyMap<string, RtClient>
  /** External issuers by their `iss`. */
  readonly external: ReadonlyMap<string, RtExternalIssuer>
  readonly issuer: RtIssuerConfig
  /** Bound of the verified-token cache. */
  readonly cacheSize: number
}

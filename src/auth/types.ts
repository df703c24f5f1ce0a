// Identity as the request path sees it: a principal per request, and the compiled tables
// (keys, issuers) it is looked up in.

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

export interface IdentityRuntime {
  /** When false (no key, user, service account or issuer configured) the run plane is open. */
  readonly required: boolean
}

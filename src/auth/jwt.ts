// Verification of JWTs: tokens agnet issued (ES256, its own keys) and tokens of configured
// external issuers (HS/RS/PS/ES/EdDSA, keys pinned per issuer). The unverified header and
// payload are read only to choose the issuer and the key; jose then verifies signature,
// algorithm, iss, aud, exp and nbf. Headers that point at keys elsewhere (jwk, jku, x5u,
// x5c) are refused outright: a token never chooses its own key.
import { jwtVerify, type JWTPayload, type KeyObject } from 'jose'
import type { IdentityRuntime, JwtAlgorithm, Principal, Role, RtExternalIssuer, RtIssuerKey } from '../core/identity.js'
import type { RemoteJwks } from './jwks.js'
import { errorCode, isRecord } from '../config/parsed.js'

export type JwtFailure = 'invalid' | 'expired'
export interface JwtSuccess { readonly principal: Principal; readonly expMs: number }

export interface JwtDeps {
  /** The built-in issuer's `iss`. */
  readonly issuedIss: string
  /** Verification keys of issued tokens by kid. */
  readonly issuedKeys: ReadonlyMap<string, KeyObject>
  /** The remote key set of an issuer that has a jwksUrl (`url`). */
  readonly jwksFor: (issuer: RtExternalIssuer, url: string) => RemoteJwks
  readonly now: () => number
}

const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const
const KID = /^[\x21-\x7e]{1,256}$/
const MAX_CANDIDATES = 4
export const ISSUED_CLOCK_TOLERANCE_S = 30

function decodeJson (segment: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return isRecord(v) ? v : null
  } catch {
    return null
  }
}

function failureOf (err: unknown): JwtFailure {
  return errorCode(err) === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid'
}

function isSignatureFailure (err: unknown): boolean {
  return errorCode(err) === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
}

function principalFromClaims (iss: RtExternalIssuer, payload: JWTPayload): Principal | null {
  const subject = payload[iss.claims.subject]
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) return null
  const ws = payload[iss.claims.workspace]
  const roleClaim = payload[iss.claims.role]
  const role: Role = roleClaim === 'admin' ? 'admin' : 'member'
  const workspaces = new Map<string, Role>()
  if (typeof ws === 'string') workspaces.set(ws, role)
  else if (Array.isArray(ws)) for (const w of ws.slice(0, 256)) if (typeof w === 'string') workspaces.set(w, role)
  return Object.freeze({ kind: 'external', subject, credential: iss.name, workspaces, scopes: null })
}

async function tryKeys (token: string, keys: readonly RtIssuerKey[], alg: JwtAlgorithm, opts: Parameters<typeof jwtVerify>[2]): Promise<JWTPayload | JwtFailure> {
  let tried = 0
  for (const k of keys) {
    if (!k.algorithms.has(alg)) continue
    if (++tried > MAX_CANDIDATES) break
    try {
      return (await jwtVerify(token, k.key, opts)).payload
    } catch (err) {
      if (!isSignatureFailure(err)) return failureOf(err)
    }
  }
  return 'invalid'
}

function iatInFuture (payload: JWTPayload, nowS: number, toleranceS: number): boolean {
  return typeof payload.iat === 'number' && payload.iat > nowS + toleranceS
}

/** Verifies a JWT-shaped token; resolves with the principal and when it stops being valid. */
export async function verifyJwt (token: string, identity: IdentityRuntime, deps: JwtDeps): Promise<JwtSuccess | JwtFailure> {
  const dot = token.indexOf('.')
  const header = decodeJson(token.slice(0, dot))
  const payload = decodeJson(token.slice(dot + 1, token.lastIndexOf('.')))
  if (header === null || payload === null) return 'invalid'
  for (const h of FORBIDDEN_HEADERS) if (h in header) return 'invalid'
  const alg = header.alg
  if (typeof alg !== 'string') return 'invalid'
  const kid = header.kid === undefined ? null : header.kid
  if (kid !== null && (typeof kid !== 'string' || !KID.test(kid))) return 'invalid'
  const iss = payload.iss
  if (typeof iss !== 'string') return 'invalid'
  const now = deps.now()
  const nowS = Math.floor(now / 1000)
  const currentDate = new Date(now)

  if (iss === deps.issuedIss) {
    if (alg !== 'ES256' || kid === null) return 'invalid'
    const key = deps.issuedKeys.get(kid)
    if (key === undefined) return 'invalid'
    let verified: JWTPayload
    try {
      verified = (await jwtVerify(token, key, {
        algorithms: ['ES256'], issuer: iss, requiredClaims: ['exp', 'iat', 'sub'], clockTolerance: ISSUED_CLOCK_TOLERANCE_S, currentDate
      })).payload
    } catch (err) {
      return failureOf(err)
    }
    if (iatInFuture(verified, nowS, ISSUED_CLOCK_TOLERANCE_S)) return 'invalid'
    // The service account must still exist, in the same workspace, with the secret the token
    // was issued under: removing it or rotating its secret revokes its tokens.
    // jose required sub and exp; the checks only tell the compiler.
    const { sub, exp } = verified
    if (sub === undefined || exp === undefined) return 'invalid'
    const client = identity.clients.get(sub)
    if (client === undefined || verified.workspace !== client.workspace || verified.sst !== client.secretStamp) return 'invalid'
    return { principal: client.principal, expMs: exp * 1000 }
  }

  const issuer = identity.external.get(iss)
  if (issuer === undefined) return 'invalid'
  // Pinned per issuer: "none" in any spelling, or an algorithm of another family, never gets a key.
  let pinned: JwtAlgorithm | undefined
  for (const a of issuer.algorithms) if (a === alg) { pinned = a; break }
  if (pinned === undefined) return 'invalid'
  const opts = {
    algorithms: [pinned],
    issuer: issuer.issuer,
    audience: [...issuer.audience],
    requiredClaims: ['exp', 'iss', 'aud'],
    clockTolerance: issuer.clockToleranceS,
    currentDate
  }
  let candidates: RtIssuerKey[] = []
  for (const k of issuer.staticKeys) if (kid === null || k.kid === null || k.kid === kid) candidates.push(k)
  let result: JWTPayload | JwtFailure = 'invalid'
  if (candidates.length > 0) result = await tryKeys(token, candidates, pinned, opts)
  if (result === 'invalid' && issuer.jwksUrl !== null) {
    const remote = deps.jwksFor(issuer, issuer.jwksUrl).keysFor(kid)
    candidates = [...(remote instanceof Promise ? await remote : remote)]
    if (candidates.length > 0) result = await tryKeys(token, candidates, pinned, opts)
  }
  if (typeof result === 'string') return result
  if (iatInFuture(result, nowS, issuer.clockToleranceS)) return 'invalid'
  const principal = principalFromClaims(issuer, result)
  if (principal === null || result.exp === undefined) return 'invalid'
  return { principal, expMs: result.exp * 1000 }
}

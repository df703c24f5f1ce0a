// Parsing of verification and signing keys, once per config load (node:crypto KeyObjects;
// jose turns each into a CryptoKey once and caches it per key object).
import { createPrivateKey, createPublicKey, createHash, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { JwtAlgorithm, RtIssuerKey } from '../core/identity.js'
import { isRecord } from '../config/parsed.js'

const RSA_ALGS: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256']
export const HS_ALGS: readonly JwtAlgorithm[] = ['HS256', 'HS384', 'HS512']

/** Algorithms a public key can verify, by its type: an RSA key never verifies HS* (no key confusion). */
export function algorithmsForKey (key: KeyObject): readonly JwtAlgorithm[] {
  const type = key.asymmetricKeyType
  if (type === 'rsa' || type === 'rsa-pss') return RSA_ALGS
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve === 'prime256v1') return ['ES256']
    if (curve === 'secp384r1') return ['ES384']
    return []
  }
  if (type === 'ed25519') return ['EdDSA']
  return []
}

export function intersect (a: readonly JwtAlgorithm[], allowed: readonly JwtAlgorithm[]): Set<JwtAlgorithm> {
  const out = new Set<JwtAlgorithm>()
  for (const x of a) if (allowed.includes(x)) out.add(x)
  return out
}

/**
 * One JWK of a JWKS (file or URL) → a key pinned to the issuer's algorithms, or a reason it
 * was skipped. Symmetric (`oct`) keys only from a local file, never from the network.
 */
export function keyFromJwk (jwk: unknown, allowed: readonly JwtAlgorithm[], allowSymmetric: boolean): RtIssuerKey | string {
  if (!isRecord(jwk)) return 'not an object'
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'not a signing key'
  const kid = typeof jwk.kid === 'string' && jwk.kid.length <= 256 ? jwk.kid : null
  let key: KeyObject | Uint8Array
  let algs: readonly JwtAlgorithm[]
  if (jwk.kty === 'oct') {
    if (!allowSymmetric) return 'symmetric keys are not accepted from a JWKS URL'
    if (typeof jwk.k !== 'string' || jwk.k.length === 0) return 'oct key without "k"'
    key = new Uint8Array(Buffer.from(jwk.k, 'base64url'))
    algs = HS_ALGS
  } else {
    try {
      // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- a parsed JWK handed to node:crypto, which checks every member and throws on a bad one (caught here)
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    } catch {
      return 'not a valid public JWK'
    }
    if (key.type !== 'public') return 'not a public key'
    algs = algorithmsForKey(key)
  }
  let pinned = intersect(algs, allowed)
  if (typeof jwk.alg === 'string') {
    const alg = [...pinned].find(a => a === jwk.alg)
    pinned = alg === undefined ? new Set() : new Set([alg])
  }
  if (pinned.size === 0) return 'no accepted algorithm fits this key'
  return Object.freeze({ kid, algorithms: pinned, key })
}

/** A PKCS#8 (or SEC1) PEM ES256 private key, or a reason. */
export function parseSigningKey (pem: string): KeyObject | string {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    return 'not a readable PEM private key'
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return 'the signing key must be an EC P-256 key (ES256)'
  return key
}

/** RFC 7638 thumbprint of an EC public key: a stable `kid` that changes with the key. */
export function ecThumbprint (publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' })
  const canonical = `{"crv":"${String(jwk.crv)}","kty":"EC","x":"${String(jwk.x)}","y":"${String(jwk.y)}"}`
  return createHash('sha256').update(canonical).digest('base64url')
}

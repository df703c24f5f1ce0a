// API keys: stored as sha256 only, found by the digest of what the client presents.
// Hashing first means the Map lookup never compares secrets; the final timingSafeEqual is
// the constant-time confirmation the lookup alone would not give.
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Principal, RtApiKey } from '../core/identity.js'

export const API_KEY_PREFIX = 'agnet_'

export function sha256 (secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}

/**
 * A short, one-way stamp of a stored secret digest (16 hex digits of its own sha256): put in
 * issued tokens to tell which secret they were issued under, it reveals nothing usable about
 * the secret, and a rotated secret gives another stamp.
 */
export function secretStampOf (digest: Buffer): string {
  return createHash('sha256').update('agnet-client-secret-stamp:').update(digest).digest('hex').slice(0, 16)
}

/** The `hash:` line of the config for a secret. */
export function hashLine (secret: string): string {
  return `sha256:${sha256(secret).toString('hex')}`
}

/** A new random API key (192 bits, base64url: a valid bearer token). */
export function newApiKey (): string {
  return API_KEY_PREFIX + randomBytes(24).toString('base64url')
}

export type KeyVerdict = Principal | 'unknown' | 'expired' | 'revoked'

/** Looks a presented secret up among the configured keys. */
export function checkApiKey (keys: ReadonlyMap<string, RtApiKey>, secret: string, now: number): KeyVerdict {
  // One-shot crypto.hash to hex is about 4x cheaper than createHash().digest().toString('hex').
  const hex = hash('sha256', secret, 'hex')
  const entry = keys.get(hex)
  if (entry === undefined || !timingSafeEqual(Buffer.from(hex, 'hex'), entry.digest)) return 'unknown'
  if (entry.revoked) return 'revoked'
  if (now >= entry.expiresAt) return 'expired'
  return entry.principal
}

// A remote JWKS: fetched with a timeout, cached for a TTL, refetched on an unknown `kid` at
// most once per cool-down, concurrent misses sharing one fetch. A request never causes a
// fetch of its own: while the endpoint is down or slow, known keys keep working from the
// cache and unknown kids are refused without waiting once the cool-down has started.
import type { JwtAlgorithm, RtIssuerKey } from '../core/identity.js'
import { keyFromJwk } from './keys.js'
import { isRecord } from '../config/parsed.js'

const EMPTY: readonly RtIssuerKey[] = Object.freeze([])
const MAX_JWKS_BYTES = 512 * 1024
const MAX_KEYS = 100

export interface RemoteJwksOptions {
  url: string
  algorithms: readonly JwtAlgorithm[]
  ttlMs: number
  cooldownMs: number
  timeoutMs: number
  now: () => number
}

export class RemoteJwks {
  readonly opts: RemoteJwksOptions
  private byKid = new Map<string, RtIssuerKey[]>()
  private all: readonly RtIssuerKey[] = EMPTY
  private fetchedAt = -Infinity
  private lastAttempt = -Infinity
  private pending: Promise<void> | null = null
  /** Fetches started (tests and metrics). */
  fetches = 0

  constructor (opts: RemoteJwksOptions) {
    this.opts = opts
  }

  /** Keys matching a `kid` (all keys for a token without one): sync from the cache, a Promise only while a fetch is due. */
  keysFor (kid: string | null): readonly RtIssuerKey[] | Promise<readonly RtIssuerKey[]> {
    const now = this.opts.now()
    const found = this.match(kid)
    if (found.length > 0) {
      // Stale keys keep serving while a background refresh runs (if the cool-down allows one).
      if (now - this.fetchedAt >= this.opts.ttlMs) void this.refresh(now)
      return found
    }
    if (this.pending !== null) return this.pending.then(() => this.match(kid))
    if (now - this.lastAttempt < this.opts.cooldownMs) return EMPTY
    return this.refresh(now).then(() => this.match(kid))
  }

  private match (kid: string | null): readonly RtIssuerKey[] {
    if (kid === null) return this.all
    return this.byKid.get(kid) ?? EMPTY
  }

  private async refresh (now: number): Promise<void> {
    if (this.pending !== null) return await this.pending
    if (now - this.lastAttempt < this.opts.cooldownMs) return
    this.lastAttempt = now
    this.fetches++
    this.pending = this.load().finally(() => { this.pending = null })
    await this.pending
  }

  private async load (): Promise<void> {
    try {
      const res = await fetch(this.opts.url, { signal: AbortSignal.timeout(this.opts.timeoutMs), redirect: 'error', headers: { accept: 'application/json' } })
      if (!res.ok) { await res.body?.cancel(); return }
      const declared = Number(res.headers.get('content-length') ?? '0')
      if (declared > MAX_JWKS_BYTES) { await res.body?.cancel(); return }
      const text = await res.text()
      if (text.length > MAX_JWKS_BYTES) return
      const parsed: unknown = JSON.parse(text)
      const keys: unknown = isRecord(parsed) ? parsed.keys : undefined
      if (!Array.isArray(keys)) return
      const byKid = new Map<string, RtIssuerKey[]>()
      const all: RtIssuerKey[] = []
      for (const jwk of keys.slice(0, MAX_KEYS)) {
        const k = keyFromJwk(jwk, this.opts.algorithms, false)
        if (typeof k === 'string') continue
        all.push(k)
        if (k.kid !== null) {
          const list = byKid.get(k.kid)
          if (list === undefined) byKid.set(k.kid, [k])
          else list.push(k)
        }
      }
      this.byKid = byKid
      this.all = Object.freeze(all)
      this.fetchedAt = this.opts.now()
    } catch {
      // Down, slow (timeout) or garbage: the last good keys stay; the cool-down spaces retries.
    }
  }
}

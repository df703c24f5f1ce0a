// Verified JWTs, so a signature is checked once per token, not once per request. Bounded
// LRU (a Map in recency order). An entry is bound to the config generation it was verified
// under: a reload (revoked key, removed service account, changed issuer) re-verifies.
import type { Principal } from './types.js'

interface Entry { readonly principal: Principal; readonly expMs: number; readonly generation: number }

export class TokenCache {
  private readonly map = new Map<string, Entry>()
  max: number

  constructor (max: number) {
    this.max = max
  }

  get size (): number { return this.map.size }

  resize (max: number): void {
    this.max = max
    while (this.map.size > max) this.evictOldest()
  }

  get (token: string, generation: number, nowMs: number): Principal | null {
    const e = this.map.get(token)
    if (e === undefined) return null
    if (e.generation !== generation || nowMs >= e.expMs) {
      this.map.delete(token)
      return null
    }
    // Move to the young end: delete + set keeps the Map in recency order.
    this.map.delete(token)
    this.map.set(token, e)
    return e.principal
  }

  set (token: string, principal: Principal, expMs: number, generation: number): void {
    if (this.max <= 0) return
    if (this.map.has(token)) this.map.delete(token)
    else if (this.map.size >= this.max) this.evictOldest()
    this.map.set(token, { principal, expMs, generation })
  }

  clear (): void { this.map.clear() }

  private evictOldest (): void {
    const first = this.map.keys().next()
    if (first.done !== true) this.map.delete(first.value)
  }
}

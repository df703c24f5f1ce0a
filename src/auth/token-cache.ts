// Verified JWTs (and, in a second instance, recently refused ones), so a signature is checked
// once per token, not once per request. Bounded
// LRU (a Map in recency order). An entry is bound to the config generation it was verified
// under: a reload (revoked key, removed service account, changed issuer) re-verifies.
interface Entry<T> { readonly token: string; readonly value: T; readonly expMs: number; readonly generation: number }

// Keyed by the token's last characters (inside the signature) and confirmed by comparing the
// whole token: hashing a fresh 600-character string on every lookup costs more than the rest
// of authentication. A tail collision is a miss, never a wrong principal.
const TAIL = 32
function tailOf (token: string): string { return token.length <= TAIL ? token : token.slice(-TAIL) }

export class TokenCache<T> {
  private readonly map = new Map<string, Entry<T>>()
  max: number

  constructor (max: number) {
    this.max = max
  }

  get size (): number { return this.map.size }

  resize (max: number): void {
    this.max = max
    while (this.map.size > max) this.evictOldest()
  }

  get (token: string, generation: number, nowMs: number): T | null {
    const key = tailOf(token)
    const e = this.map.get(key)
    if (e === undefined || e.token !== token) return null
    if (e.generation !== generation || nowMs >= e.expMs) {
      this.map.delete(key)
      return null
    }
    // Move to the young end: delete + set keeps the Map in recency order.
    this.map.delete(key)
    this.map.set(key, e)
    return e.value
  }

  set (token: string, value: T, expMs: number, generation: number): void {
    if (this.max <= 0) return
    const key = tailOf(token)
    if (this.map.has(key)) this.map.delete(key)
    else if (this.map.size >= this.max) this.evictOldest()
    this.map.set(key, { token, value, expMs, generation })
  }

  clear (): void { this.map.clear() }

  private evictOldest (): void {
    const first = this.map.keys().next()
    if (first.done !== true) this.map.delete(first.value)
  }
}

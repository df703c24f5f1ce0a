import { describe, expect, it } from 'vitest'
import { TokenCache } from '../../../src/auth/token-cache.js'
import type { Principal } from '../../../src/core/identity.js'

const p = (s: string): Principal => ({ kind: 'external', subject: s, credential: 'x', workspaces: new Map(), scopes: null })

describe('TokenCache', () => {
  it('returns a verified principal until exp', () => {
    const c = new TokenCache<Principal>(10)
    const a = p('a')
    c.set('t', a, 2000, 1)
    expect(c.get('t', 1, 1999)).toBe(a)
    expect(c.get('t', 1, 2000)).toBeNull()
    expect(c.size).toBe(0)
  })

  it('forgets entries of another config generation (reload = re-verify)', () => {
    const c = new TokenCache<Principal>(10)
    c.set('t', p('a'), 10_000, 1)
    expect(c.get('t', 2, 0)).toBeNull()
  })

  it('is bounded and evicts the least recently used', () => {
    const c = new TokenCache<Principal>(2)
    c.set('a', p('a'), 1e12, 1)
    c.set('b', p('b'), 1e12, 1)
    expect(c.get('a', 1, 0)).not.toBeNull() // a is now the most recent
    c.set('c', p('c'), 1e12, 1)
    expect(c.size).toBe(2)
    expect(c.get('b', 1, 0)).toBeNull()
    expect(c.get('a', 1, 0)).not.toBeNull()
    expect(c.get('c', 1, 0)).not.toBeNull()
  })

  it('size 0 caches nothing; resize shrinks', () => {
    const c = new TokenCache<Principal>(0)
    c.set('a', p('a'), 1e12, 1)
    expect(c.size).toBe(0)
    const d = new TokenCache<Principal>(5)
    for (const k of ['a', 'b', 'c', 'd']) d.set(k, p(k), 1e12, 1)
    d.resize(1)
    expect(d.size).toBe(1)
    expect(d.get('d', 1, 0)).not.toBeNull()
  })
})

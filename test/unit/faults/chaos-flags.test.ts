// `agnet chaos add` flags → a fault body: numbers parsed, the body checked by the same reader
// as the HTTP API, and a problem reported under the flag's own spelling.
import { describe, expect, it } from 'vitest'
import { faultFromFlags } from '../../../src/cli/chaos.js'

describe('faultFromFlags', () => {
  it('turns the flags into a typed fault body', () => {
    expect(faultFromFlags({ effect: 'ratelimit', region: 'eu-fra-1', retryAfter: '5', rate: '0.5', seed: '7', ttl: '60' }))
      .toEqual({ effect: 'ratelimit', region: 'eu-fra-1', retryAfter: 5, rate: 0.5, seed: 7, ttl: 60 })
  })

  it.each([
    [{ effect: 'errors', workspace: 'acme', rate: 'lots' }, /^--rate must be a number \(got "lots"\)$/],
    [{ effect: 'errors', workspace: 'acme', rate: '2' }, /^--rate: must be <= 1/],
    [{ effect: 'ratelimit', workspace: 'acme', retryAfter: '-1' }, /^--retry-after: must be >= 0/],
    [{ effect: 'melt', workspace: 'acme' }, /^--effect: unknown effect "melt"; valid effects: down, reset/],
    [{ effect: 'down', region: 'EU FRA' }, /^--region: .*\(lower-case letters, digits, hyphens\)$/]
  ])('refuses %o naming the flag', (flags, message) => {
    expect(() => faultFromFlags(flags)).toThrow(message)
  })
})

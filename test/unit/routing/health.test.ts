// Passive ejection with growing back-off, half-open retries, Retry-After and probe verdicts.
import { describe, expect, it } from 'vitest'
import { DeploymentHealth, MAX_EJECT_MS, TTFB_WINDOW, isHealthy, parseRetryAfter, recordFailure, recordProbe, recordSuccess } from '../../../src/routing/health.js'

describe('passive ejection', () => {
  it('ejects after ejectAfter consecutive failures, doubling on each repeat, reset by a success', () => {
    const h = new DeploymentHealth('d')
    let now = 0
    recordFailure(h, now, 3, 1000, 0, 'ECONNREFUSED')
    recordFailure(h, now, 3, 1000, 0, 'ECONNREFUSED')
    expect(isHealthy(h, now)).toBe(true)
    recordFailure(h, now, 3, 1000, 0, 'ECONNREFUSED')
    expect(isHealthy(h, now)).toBe(false)
    expect(h.ejectedUntil).toBe(1000)
    // Back after 1 s, the first answer decides: a failure re-ejects at once, for twice as long.
    now = 1000
    expect(isHealthy(h, now)).toBe(true)
    recordFailure(h, now, 3, 1000, 0, 'ECONNREFUSED')
    expect(h.ejectedUntil).toBe(3000)
    now = 3000
    recordFailure(h, now, 3, 1000, 0, 'ECONNREFUSED')
    expect(h.ejectedUntil).toBe(7000)
    // A success clears the streak and the back-off.
    now = 7000
    recordSuccess(h, 12, 1)
    expect(h.ejections).toBe(0)
    recordFailure(h, now, 3, 1000, 0, 'x')
    expect(isHealthy(h, now)).toBe(true)
  })

  it('caps the back-off', () => {
    const h = new DeploymentHealth('d')
    for (let i = 0; i < 40; i++) recordFailure(h, h.ejectedUntil, 1, 1000, 0, 'x')
    expect(h.ejectedUntil - (h.ejectedUntil - MAX_EJECT_MS)).toBe(MAX_EJECT_MS)
  })

  it('a Retry-After keeps the deployment out at least that long, even before ejectAfter', () => {
    const h = new DeploymentHealth('d')
    recordFailure(h, 100, 3, 1000, 2000, 'HTTP 429')
    expect(isHealthy(h, 2099)).toBe(false)
    expect(isHealthy(h, 2100)).toBe(true)
  })

  it('forgets the latency measured before an ejection (it is explored afresh)', () => {
    const h = new DeploymentHealth('d')
    recordSuccess(h, 80, 1)
    recordFailure(h, 0, 1, 1000, 0, 'x')
    expect(h.samples).toBe(0)
    expect(Number.isNaN(h.ttfbMs)).toBe(true)
  })
})

describe('time to first byte: the median of the last answers', () => {
  const cases: Array<[string, number[], number]> = [
    ['one sample is the measure', [7], 7],
    ['two samples: their mean', [4, 8], 6],
    ['one slow answer among nearby ones moves nothing', [5, 6, 5, 400, 6, 5, 6], 6],
    ['a few pauses (under half the window) move nothing', [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 300, 300, 300, 300, 300, 300], 5],
    ['a deployment that really slowed down is followed within half the window', [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 90, 90, 90, 90, 90, 90, 90, 90, 90], 90],
    ['only the last TTFB_WINDOW answers count (the ring wraps)', [...Array<number>(40).fill(200), ...Array<number>(16).fill(3)], 3]
  ]
  it.each(cases)('%s', (_what, samples, expected) => {
    const h = new DeploymentHealth('d')
    samples.forEach((ms, i) => recordSuccess(h, ms, i + 1))
    expect(h.ttfbMs).toBe(expected)
    expect(h.samples).toBe(samples.length)
    expect(TTFB_WINDOW).toBe(16)
  })

  it('starts afresh when the deployment had not answered for staleAfter selections (explored again)', () => {
    const h = new DeploymentHealth('d')
    for (let seq = 1; seq <= 16; seq++) recordSuccess(h, 600, seq, 16)
    expect(h.ttfbMs).toBe(600)
    recordSuccess(h, 4, 31, 16) // 15 selections later: still the same window
    expect(h.ttfbMs).toBe(600)
    recordSuccess(h, 3, 47, 16) // 16 later: the old answers describe another time
    expect(h.ttfbMs).toBe(3)
    expect(h.samples).toBe(1)
    recordSuccess(h, 5, 48, 16)
    expect(h.ttfbMs).toBe(4)
  })

  it('is unaffected by another deployment measured in between (no shared state leaks)', () => {
    const a = new DeploymentHealth('a')
    const b = new DeploymentHealth('b')
    for (let i = 0; i < 5; i++) {
      recordSuccess(a, 10 + i, i)
      recordSuccess(b, 500 + i, i)
    }
    expect(a.ttfbMs).toBe(12)
    expect(b.ttfbMs).toBe(502)
  })
})

describe('probes', () => {
  it('a failing probe takes the deployment out; a passing one ends any ejection', () => {
    const h = new DeploymentHealth('d')
    recordProbe(h, false, 'health probe answered 503')
    expect(isHealthy(h, 0)).toBe(false)
    recordFailure(h, 0, 1, 60_000, 0, 'x')
    recordProbe(h, true, null)
    expect(isHealthy(h, 1)).toBe(true)
  })
})

describe('Retry-After', () => {
  it.each([
    ['3', 3000],
    [' 10 ', 10_000],
    ['Thu, 26 Nov 2026 00:00:05 GMT', 5000],
    ['Thu, 26 Nov 2026 00:00:00 GMT', 0],
    ['soon', 0],
    [undefined, 0]
  ])('%s → %i ms', (v, ms) => {
    expect(parseRetryAfter(v, Date.parse('2026-11-26T00:00:00Z'))).toBe(ms)
  })
})

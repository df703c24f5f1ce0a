// Timelines from synthetic samples: shares, error and 429 rates, and the time to shift and
// to recover around a fault.
import { describe, expect, it } from 'vitest'
import type { Sample } from '../../../src/loadtest/generator.js'
import { percentile, shiftOf, summarise } from '../../../src/loadtest/timeline.js'

function s (t: number, region: string | null, status = 200, extra: Partial<Sample> = {}): Sample {
  return { origin: 0, t, ms: 10, status, broken: false, region, deployment: region, attempts: 1, fault: null, ...extra }
}

/** 20 requests a second: fra until 5 s, then fra fails over to lon for 1 s... */
function run (): Sample[] {
  const out: Sample[] = []
  for (let t = 0; t < 20_000; t += 50) {
    let region = 'eu-fra-1'
    if (t >= 5000 && t < 5400) region = t % 100 === 0 ? 'eu-fra-1' : 'eu-lon-1' // shifting
    else if (t >= 5400 && t < 13_000) region = 'eu-lon-1' // shifted
    else if (t >= 10_000 && t < 15_000) region = 'eu-lon-1' // still ejected after the end
    out.push(s(t, region, region === 'eu-fra-1' && t >= 5000 && t < 5400 ? 502 : 200))
  }
  return out
}

describe('shiftOf', () => {
  it('measures the time to shift and to recover', () => {
    const r = shiftOf(run(), { name: 'f', effect: 'down', startMs: 5000, endMs: 10_000, regions: ['eu-fra-1'] }, 20_000)
    expect(r.affected).toBe(true)
    expect(r.baseline).toBe(1)
    // The window from 5.3 s holds one failed request in twenty: 95% served elsewhere.
    expect(r.timeToShiftMs).toBe(300)
    // Frankfurt serves again from 15 s; the window from 14.9 s already has 90% of its share.
    expect(r.timeToRecoverMs).toBe(4900)
  })

  it('counts the traffic back the first time its share returns, even if routing moves it again later', () => {
    const samples = run().map(x => x.t >= 17_000 && x.t < 18_000 ? { ...x, region: 'eu-lon-1' } : x)
    const r = shiftOf(samples, { name: 'f', effect: 'down', startMs: 5000, endMs: 10_000, regions: ['eu-fra-1'] }, 20_000)
    expect(r.timeToRecoverMs).toBe(4900)
  })

  it('says an origin not served by the fault\'s regions is not affected', () => {
    const r = shiftOf(run(), { name: 'f', effect: 'down', startMs: 5000, endMs: 10_000, regions: ['us-pdx-1'] }, 20_000)
    expect(r).toMatchObject({ affected: false, timeToShiftMs: null })
  })

  it('never shifted is null', () => {
    const flat = Array.from({ length: 200 }, (_x, i) => s(i * 100, 'eu-fra-1'))
    expect(shiftOf(flat, { name: 'f', effect: 'down', startMs: 5000, endMs: 15_000, regions: ['eu-fra-1'] }, 20_000).timeToShiftMs).toBeNull()
  })
})

describe('summarise', () => {
  it('shares count successes; errors and 429s count every request', () => {
    const samples = [s(0, 'a'), s(100, 'a'), s(200, 'b'), s(300, 'b', 429), s(400, 'a', 503), s(500, null, 0, { ms: -1 }), s(600, 'a', 200, { broken: true }), s(1200, 'b', 200, { attempts: 2 })]
    const sum = summarise(samples, 0, 2000, sec => sec)
    expect(sum.requests).toBe(8)
    expect(sum.regions).toEqual({ a: 0.5, b: 0.5 })
    expect(sum.rateLimited).toBe(1 / 8)
    expect(sum.errors).toBe(3 / 8)
    expect(sum.noAnswer).toBe(1)
    expect(sum.failovers).toBe(1)
    expect(sum.series.map(p => [p.t, p.offered, p.ejected])).toEqual([[0, 7, 0], [1, 1, 1]])
  })

  it.each([[[1, 2, 3, 4], 0.5, 2], [[1, 2, 3, 4], 0.99, 4], [[], 0.5, null], [[7], 0.01, 7]])('percentile(%j, %j) = %j', (xs, p, want) => {
    expect(percentile(xs, p)).toBe(want)
  })
})

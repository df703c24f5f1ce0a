// Expectation checks of `agnet loadtest --expect` as a table: mixed region shares, tolerance,
// bounds, wildcard origins, error and 429 rates.
import { describe, expect, it } from 'vitest'
import { checkExpectations, type ExpectationsInput } from '../../../src/loadtest/expect.js'
import type { OriginResult } from '../../../src/loadtest/run.js'

function result (origin: string, regions: Record<string, number>, extra: Partial<OriginResult> = {}): OriginResult {
  const completed = Object.values(regions).reduce((a, b) => a + b, 0)
  return {
    origin, completed, transportErrors: 0, timeouts: 0, status2xx: completed, status429: 0, status4xx: 0, status5xx: 0,
    statuses: { 200: completed }, regions, latencyMs: { p50: 1, p90: 1, p99: 1, max: 1, mean: 1 }, requestsPerSecond: 1, durationS: 1,
    ...extra
  }
}

const cases: Array<{ name: string; exp: ExpectationsInput; results: OriginResult[]; misses: string[] }> = [
  {
    name: 'exact share within the default tolerance',
    exp: { origins: { DE: { regions: { 'eu-fra-1': 0.8, 'eu-lon-1': 0.2 } } } },
    results: [result('DE', { 'eu-fra-1': 78, 'eu-lon-1': 22 })],
    misses: []
  },
  {
    name: 'exact share outside the tolerance',
    exp: { origins: { DE: { regions: { 'eu-fra-1': 0.8 }, tolerance: 0.01 } } },
    results: [result('DE', { 'eu-fra-1': 70, 'eu-lon-1': 30 })],
    misses: ['origin DE: eu-fra-1 served 70.0% of the traffic, expected 80.0% ± 1.0%']
  },
  {
    name: 'bounds, and a region that never served counts as 0%',
    exp: { origins: { US: { regions: { 'us-pdx-1': { min: 0.5, max: 0.9 }, 'us-was-1': { min: 0.1 } } } } },
    results: [result('US', { 'us-pdx-1': 100 })],
    misses: [
      'origin US: us-pdx-1 served 100.0% of the traffic, expected ≥ 50.0% and ≤ 90.0%',
      'origin US: us-was-1 served 0.0% of the traffic, expected ≥ 10.0%'
    ]
  },
  {
    name: 'wildcard applies to origins not listed; listed origins use their own',
    exp: { origins: { '*': { maxErrorRate: 0 }, DE: { maxErrorRate: 0.5 } } },
    results: [result('DE', { 'eu-fra-1': 10 }, { status5xx: 4 }), result('GB', { 'eu-lon-1': 10 }, { transportErrors: 2 })],
    misses: ['origin GB: error rate 16.7% (0 5xx, 0 4xx, 2 without an answer), expected ≤ 0.0%']
  },
  {
    name: 'a 4xx other than 429 is an error, a 429 is not',
    exp: { origins: { A: { maxErrorRate: 0.2 } } },
    results: [result('A', { r: 10 }, { status4xx: 3, status429: 5 })],
    misses: ['origin A: error rate 30.0% (0 5xx, 3 4xx, 0 without an answer), expected ≤ 20.0%']
  },
  {
    name: '429 rate checked only when asked',
    exp: { origins: { A: { max429Rate: 0.1 }, B: {} } },
    results: [result('A', { r: 10 }, { status429: 5 }), result('B', { r: 10 }, { status429: 10 })],
    misses: ['origin A: 50.0% of answers were 429, expected ≤ 10.0%']
  },
  {
    name: 'an expected origin that was not load-tested, and an empty run',
    exp: { origins: { DE: {}, GB: {} } },
    results: [result('DE', {})],
    misses: ['origin GB: expected in the run but not load-tested (add --origin GB)', 'origin DE: 0 requests completed, expected at least 1']
  }
]

describe('checkExpectations', () => {
  for (const c of cases) {
    it(c.name, () => { expect(checkExpectations(c.exp, c.results)).toEqual(c.misses) })
  }
})

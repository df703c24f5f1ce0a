// Expectations for `agnet loadtest --expect file.yaml`: what share of each origin's traffic
// each region must serve and how many errors and 429s are tolerable. Checked after the run by
// a pure function, so a routing policy can be tested in CI before it ships.
import { readFileSync } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { parse as parseYaml } from 'yaml'
import type { OriginResult } from './run.js'

const Share = Type.Union([
  Type.Number({ minimum: 0, maximum: 1, description: 'Expected share (0..1), give or take `tolerance`.' }),
  Type.Object({
    min: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Least share (0..1).' })),
    max: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Largest share (0..1).' }))
  }, { additionalProperties: false })
])

const OriginExpectation = Type.Object({
  regions: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Share, { description: 'Share of the traffic each region serves; a region not listed may serve any share.' })),
  tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Allowed distance from an exact share (default 0.05).' })),
  maxErrorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Largest share of failed requests: no answer, 5xx, or 4xx other than 429 (default 0).' })),
  max429Rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Largest share of 429 answers (default: not checked).' })),
  minRequests: Type.Optional(Type.Integer({ minimum: 0, description: 'Fewest completed requests for the run to count (default 1).' }))
}, { additionalProperties: false })

export const Expectations = Type.Object({
  origins: Type.Record(Type.String({ minLength: 1 }), OriginExpectation, { description: 'Per origin (as passed to --origin); "*" applies to every origin not listed.' })
}, { additionalProperties: false })

export type ExpectationsInput = Static<typeof Expectations>
type OriginInput = Static<typeof OriginExpectation>

const validate = new Ajv2019({ allErrors: true, strict: false, allowUnionTypes: true }).compile<ExpectationsInput>(Expectations)

/** Reads and validates an expectations file; the error names the file and the field. */
export function loadExpectations (file: string): ExpectationsInput {
  let doc: unknown
  try {
    doc = parseYaml(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!validate(doc)) {
    const problems = (validate.errors ?? []).map(e => `${e.instancePath === '' ? '(top)' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new Error(`${file}: ${problems.join('; ')}`)
  }
  return doc
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

/** Every way the results miss the expectations, as sentences; empty = all met. */
export function checkExpectations (expectations: ExpectationsInput, results: readonly OriginResult[]): string[] {
  const misses: string[] = []
  for (const name of Object.keys(expectations.origins)) {
    if (name !== '*' && !results.some(r => r.origin === name)) misses.push(`origin ${name}: expected in the run but not load-tested (add --origin ${name})`)
  }
  for (const r of results) {
    const e: OriginInput | undefined = expectations.origins[r.origin] ?? expectations.origins['*']
    if (e === undefined) continue
    const label = `origin ${r.origin}`
    const minRequests = e.minRequests ?? 1
    if (r.completed < minRequests) misses.push(`${label}: ${r.completed} requests completed, expected at least ${minRequests}`)
    const tolerance = e.tolerance ?? 0.05
    for (const [region, want] of Object.entries(e.regions ?? {})) {
      const got = r.completed === 0 ? 0 : (r.regions[region] ?? 0) / r.completed
      const min = typeof want === 'number' ? want - tolerance : (want.min ?? 0)
      const max = typeof want === 'number' ? want + tolerance : (want.max ?? 1)
      if (got < min - 1e-9 || got > max + 1e-9) {
        const range = typeof want === 'number' ? `${pct(want)} ± ${pct(tolerance)}` : `${want.min !== undefined ? `≥ ${pct(want.min)}` : ''}${want.min !== undefined && want.max !== undefined ? ' and ' : ''}${want.max !== undefined ? `≤ ${pct(want.max)}` : ''}`
        misses.push(`${label}: ${region} served ${pct(got)} of the traffic, expected ${range}`)
      }
    }
    const failed = r.transportErrors + r.status4xx + r.status5xx
    const errorRate = r.completed + r.transportErrors === 0 ? 0 : failed / (r.completed + r.transportErrors)
    const maxErrorRate = e.maxErrorRate ?? 0
    if (errorRate > maxErrorRate + 1e-9) misses.push(`${label}: error rate ${pct(errorRate)} (${r.status5xx} 5xx, ${r.status4xx} 4xx, ${r.transportErrors} without an answer), expected ≤ ${pct(maxErrorRate)}`)
    if (e.max429Rate !== undefined) {
      const rate = r.completed === 0 ? 0 : r.status429 / r.completed
      if (rate > e.max429Rate + 1e-9) misses.push(`${label}: ${pct(rate)} of answers were 429, expected ≤ ${pct(e.max429Rate)}`)
    }
  }
  return misses
}

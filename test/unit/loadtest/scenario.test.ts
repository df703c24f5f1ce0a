// Scenario files: every mistake is refused with file:line:column, the field and the values
// that would be accepted; bounds and durations read as written.
import { describe, expect, it } from 'vitest'
import { checkAgainstGateway, loadScenario, ScenarioError } from '../../../src/loadtest/scenario.js'
import { meets, parseBound, parseSeconds } from '../../../src/loadtest/bounds.js'

const GOOD = `workspace: demo
model: gpt-4o-mini-eu
origins: [DE, US]
rate: 40
seed: 7
phases:
  - name: steady
    duration: 5s
  - name: frankfurt-down
    duration: 8s
    faults:
      - { name: fra-down, region: eu-fra-1, effect: down }
  - name: recovered
    duration: 8s
expect:
  steady:         { DE: { regions: { eu-fra-1: ">=0.9" } } }
  frankfurt-down: { DE: { regions: { eu-lon-1: ">=0.95" }, errors: "<=0.01" } }
`

describe('loadScenario', () => {
  it('reads the documented example', () => {
    const s = loadScenario('s.yaml', GOOD)
    expect(s.phases.map(p => [p.name, p.durationMs])).toEqual([['steady', 5000], ['frankfurt-down', 8000], ['recovered', 8000]])
    expect(s.phases[1]?.faults).toEqual([{ name: 'fra-down', body: { region: 'eu-fra-1', effect: 'down', seed: 7 }, line: 12 }])
    expect(s.expect.get('frankfurt-down')?.get('DE')?.errors).toEqual({ op: '<=', value: 0.01, text: '<=0.01' })
    expect(s.path).toBe('/v1/chat/completions')
  })

  it.each([
    ['an unknown effect', GOOD.replace('effect: down', 'effect: explode'), /^s\.yaml:12:\d+: phases\[1\]\.faults\[0\]\.effect: unknown effect "explode"; valid effects: down, reset, status, latency, stall, cut, ratelimit, errors$/],
    ['an unknown phase in expect', GOOD.replace('  steady:         {', '  stedy:          {'), /^s\.yaml:16:3: expect\.stedy: unknown phase "stedy"; valid phases: steady, frankfurt-down, recovered$/],
    ['an unknown origin in expect', GOOD.replace('steady:         { DE', 'steady:         { FR'), /^s\.yaml:16:\d+: expect\.steady\.FR: unknown origin "FR"; valid origins: DE, US, or \* for all$/],
    ['a bad duration', GOOD.replace('duration: 5s', 'duration: soon'), /^s\.yaml:8:15: phases\[0\]\.duration: expected a duration/],
    ['an unknown field', GOOD.replace('seed: 7', 'sede: 7'), /^s\.yaml:5:1: sede: unknown field; valid fields: workspace, model, path/],
    ['an unknown field in a phase', GOOD.replace('duration: 8s\n    faults', 'duration: 8s\n    fault'), /^s\.yaml:11:5: phases\[1\]\.fault: unknown field; valid fields: name, duration, rate, connections, faults$/],
    ['a fault field out of range', GOOD.replace('effect: down }', 'effect: errors, rate: 3 }'), /^s\.yaml:12:\d+: phases\[1\]\.faults\[0\]\.rate: must be <= 1$/],
    ['no load', GOOD.replace('rate: 40\n', ''), /^s\.yaml:6:\d+: phases\[0\]: no load: set rate/],
    ['a bad share', GOOD.replace('">=0.9"', '">=1.5"'), /^s\.yaml:16:\d+: expect\.steady\.DE\.regions\.eu-fra-1: expected a share between 0 and 1/],
    ['a phase named twice', GOOD.replace('name: recovered', 'name: steady'), /^s\.yaml:13:\d+: phases\[2\]\.name: phase "steady" is defined twice$/],
    ['not YAML', 'phases: [', /^s\.yaml:1:\d+: not valid YAML/]
  ])('refuses %s naming file, line, field and valid values', (_what, text, message) => {
    expect(() => loadScenario('s.yaml', text)).toThrow(ScenarioError)
    expect(() => loadScenario('s.yaml', text)).toThrow(message)
  })

  it('refuses names the gateway does not know, at the line they are written', () => {
    const s = loadScenario('s.yaml', GOOD.replace('region: eu-fra-1', 'region: eu-par-1'))
    expect(() => { checkAgainstGateway(s, { regions: ['eu-lon-1', 'eu-fra-1'], deployments: ['eu-lon-1', 'eu-fra-1'], badOrigins: [] }) })
      .toThrow('s.yaml:12: phases.frankfurt-down.faults.fra-down.region: unknown region "eu-par-1"; valid regions of demo/gpt-4o-mini-eu: eu-lon-1, eu-fra-1')
    const e = loadScenario('s.yaml', GOOD.replace('eu-lon-1: ">=0.95"', 'us-pdx-1: ">=0.95"'))
    expect(() => { checkAgainstGateway(e, { regions: ['eu-lon-1', 'eu-fra-1'], deployments: [], badOrigins: [] }) })
      .toThrow(/^s\.yaml:17: expect\.frankfurt-down\.DE\.regions\.us-pdx-1: unknown region "us-pdx-1"/)
    expect(() => { checkAgainstGateway(loadScenario('s.yaml', GOOD), { regions: ['eu-lon-1'], deployments: [], badOrigins: ['US'] }) })
      .toThrow(/^s\.yaml:3: origins: unknown origin "US"/)
  })
})

describe('bounds and durations', () => {
  it.each([
    ['5s', 5000], ['500ms', 500], ['2m', 120000], [3, 3000], ['1.5s', 1500], ['soon', null], [0, null], ['-1s', null]
  ])('parseSeconds(%j) = %j', (v, ms) => { expect(parseSeconds(v)).toBe(ms) })

  it.each([
    ['>=0.9', 0.95, true], ['>=0.9', 0.85, false], ['<=0.01', 0.01, true], ['<0.01', 0.01, false], ['>0.5', 0.6, true],
    [0.5, 0.53, true], [0.5, 0.6, false], ['<=5%', 0.04, true]
  ])('%j meets %j: %j', (text, x, ok) => {
    const b = parseBound(text, 'fraction')
    expect(b).not.toBeNull()
    expect(meets(b as NonNullable<typeof b>, x)).toBe(ok)
  })

  it.each([['<=500ms', 500], ['<=3s', 3000], ['<= 250', 250], ['<=soon', null]])('duration bound %j', (text, value) => {
    expect(parseBound(text, 'ms')?.value ?? null).toBe(value)
  })
})

// What an injected fault does to one attempt, for each effect, with the fields its body leaves
// out taken from FAULT_DEFAULTS, the same values the schema's descriptions state.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FAULT_DEFAULTS, FaultBody, type FaultInput } from '../../../src/core/faults.js'
import type { RtDeployment } from '../../../src/core/runtime.js'
import { FaultEntry, InjectCounter } from '../../../src/faults/registry.js'
import { planFault } from '../../../src/faults/inject.js'
import { loadConfig } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'

const registry = new DispatcherRegistry()
afterAll(async () => { await registry.destroyAll() })

/** A real compiled deployment for the counters to name. */
function deployment (): RtDeployment {
  const file = join(mkdtempSync(join(tmpdir(), 'agnet-inject-')), 'agnet.yaml')
  writeFileSync(file, 'workspaces:\n  - name: w\n    models:\n      - name: m\n        runtime: { type: openai }\n        deployments: [{ region: us-pdx-1, url: "http://127.0.0.1:9" }]\n')
  const dep = compileRuntime(loadConfig(file, { env: {} }), { dispatchers: registry, generation: 1 }).deployments[0]
  if (dep === undefined) throw new Error('no deployment compiled')
  return dep
}
const DEP = deployment()

function plan (spec: FaultInput): ReturnType<typeof planFault> {
  return planFault([{ entry: new FaultEntry(spec, 'api', 0), counter: new InjectCounter(spec.name, spec.effect, DEP) }])
}

describe('planFault', () => {
  const cases: Array<[string, FaultInput, unknown]> = [
    ['down refuses', { name: 'f', region: 'r', effect: 'down' }, { kind: 'down' }],
    ['reset resets', { name: 'f', region: 'r', effect: 'reset' }, { kind: 'reset' }],
    ['stall never answers', { name: 'f', region: 'r', effect: 'stall' }, { kind: 'stall' }],
    ['status without a status answers the default one, no Retry-After', { name: 'f', region: 'r', effect: 'status' }, { kind: 'status', status: FAULT_DEFAULTS.status, retryAfter: null, fault: 'f' }],
    ['status as asked', { name: 'f', region: 'r', effect: 'status', status: 502, retryAfter: 7 }, { kind: 'status', status: 502, retryAfter: 7, fault: 'f' }],
    ['ratelimit without retryAfter sends the default one', { name: 'f', region: 'r', effect: 'ratelimit' }, { kind: 'status', status: 429, retryAfter: FAULT_DEFAULTS.ratelimitRetryAfter, fault: 'f' }],
    ['errors answers 500', { name: 'f', region: 'r', effect: 'errors' }, { kind: 'status', status: 500, retryAfter: null, fault: 'f' }],
    ['cut without afterBytes breaks at the default', { name: 'f', region: 'r', effect: 'cut' }, { kind: 'cut', afterBytes: FAULT_DEFAULTS.afterBytes }]
  ]
  it.each(cases)('%s', (_what, spec, action) => {
    const p = plan(spec)
    expect(p?.action).toEqual(action)
    expect(p?.names).toEqual(['f'])
    expect(p?.delayMs).toBe(0)
  })

  it('a fault without a rate applies to every attempt (the default rate)', () => {
    expect(FAULT_DEFAULTS.rate).toBe(1)
    const entry = new FaultEntry({ name: 'f', region: 'r', effect: 'down' }, 'api', 0)
    const counter = new InjectCounter('f', 'down', DEP)
    for (let i = 0; i < 50; i++) expect(planFault([{ entry, counter }])?.action).toEqual({ kind: 'down' })
    expect(counter.count).toBe(50)
  })

  it('latency adds ms and leaves the attempt to go on', () => {
    const p = plan({ name: 'f', region: 'r', effect: 'latency', ms: 40 })
    expect(p?.delayMs).toBe(40)
    expect(p?.action).toBeNull()
  })

  it('the schema states the defaults the injection applies', () => {
    const props = FaultBody.properties
    expect(props.status.description).toContain(`default ${FAULT_DEFAULTS.status}`)
    expect(props.retryAfter.description).toContain(`${FAULT_DEFAULTS.ratelimitRetryAfter} for ratelimit`)
    expect(props.afterBytes.description).toContain(`default ${FAULT_DEFAULTS.afterBytes}`)
    expect(props.rate.description).toContain(`default ${FAULT_DEFAULTS.rate}`)
  })
})

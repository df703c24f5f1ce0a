// RoutingServices: selection commits its state, learning survives reloads.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import type { Runtime } from '../../../src/core/runtime.js'
import { RoutingServices, EXPLORE_EVERY } from '../../../src/routing/plan.js'
import type { ModelRoute } from '../../../src/core/runtime.js'
import { mulberry32 } from '../../../src/mock/text.js'
import { explainRoute } from '../../../src/routing/explain.js'

const registry = new DispatcherRegistry()
afterAll(async () => { await registry.destroyAll() })

const YAML = `
workspaces:
  - name: acme
    models:
      - name: m
        runtime: { type: openai }
        deployments:
          - { name: a, region: us-pdx-1, url: "http://127.0.0.1:9/a" }
          - { name: b, region: us-pdx-1, url: "http://127.0.0.1:9/b" }
`

function compile (generation: number): Runtime {
  const d = mkdtempSync(join(tmpdir(), 'agnet-svc-'))
  const p = join(d, 'agnet.yaml')
  writeFileSync(p, YAML)
  return compileRuntime(loadConfig(p, { env: {} }), { dispatchers: registry, generation })
}

function drive (services: RoutingServices, rt: Runtime, n: number, ttfb: Record<string, number>): string[] {
  const route = rt.network.models.get('acme/m') as ModelRoute
  const picks: string[] = []
  for (let i = 0; i < n; i++) {
    const first = services.select(route, rt.network.defaultOriginInfo)[0]
    if (first === undefined) throw new Error('nothing selected')
    picks.push(first.name)
    services.record(route, first, true, ttfb[first.name] as number, 0, '', 3, 5000)
  }
  return picks
}

describe('RoutingServices', () => {
  it('explain names the deployment the next request explores, and otherwise shows the lowest expected latency first', () => {
    const services = new RoutingServices({ now: () => 0, rng: mulberry32(3) })
    const rt = compile(1)
    services.sync(rt)
    const model = rt.workspaces.get('acme')?.models.get('m')
    if (model === undefined) throw new Error('no model')
    const origin = rt.network.defaultOriginInfo
    // b is fast, a slow: after the first tries of each, a is only explored.
    const picks = drive(services, rt, 3 * EXPLORE_EVERY, { a: 100, b: 5 })
    let sawExplore = false
    let sawPlain = false
    for (let i = 0; i < 2 * EXPLORE_EVERY; i++) {
      const e = explainRoute(rt, services, model, origin)
      const next = drive(services, rt, 1, { a: 100, b: 5 })[0]
      // explain answers what the next request does.
      expect(e.chosen).toBe(next)
      if (e.explored === null) {
        sawPlain = true
        expect(e.chosen).toBe('b')
      } else {
        sawExplore = true
        expect(e.explored).toBe('a')
        expect(e.order).toEqual(['a', 'b'])
        expect(e.deployments.find(d => d.name === 'a')?.reason).toContain('tried next to measure it again')
      }
    }
    expect(picks.filter(p => p === 'a').length).toBeGreaterThan(0)
    expect(sawExplore).toBe(true)
    expect(sawPlain).toBe(true)
    services.close()
  })

  it('keeps exploring a slow deployment after a reload (counters survive with the stats)', () => {
    const services = new RoutingServices({ now: () => 0, rng: mulberry32(1) })
    const rt1 = compile(1)
    services.sync(rt1)
    drive(services, rt1, 200, { a: 100, b: 5 })
    const rt2 = compile(2)
    services.sync(rt2)
    expect(rt2.network.models.get('acme/m')).not.toBe(rt1.network.models.get('acme/m'))
    const after = drive(services, rt2, 2 * EXPLORE_EVERY, { a: 100, b: 5 })
    expect(after.filter(p => p === 'a').length).toBeGreaterThanOrEqual(1)
    expect(after.filter(p => p === 'b').length).toBeGreaterThan(after.length - 4)
    services.close()
  })

  it('forgets deployments that left the config', () => {
    const services = new RoutingServices({ now: () => 0 })
    const rt = compile(1)
    services.sync(rt)
    const a = rt.workspaces.get('acme')?.models.get('m')?.deployments[0]
    if (a === undefined) throw new Error('no deployment')
    services.healthOf(a).failures = 2
    services.sync({ ...rt, deployments: [] } as unknown as Runtime)
    expect(services.healthOf(a).failures).toBe(0)
    services.close()
  })

  it('starts afresh when a deployment keeps its name but points at another upstream', () => {
    const services = new RoutingServices({ now: () => 0 })
    const rt = compile(1)
    services.sync(rt)
    const a = rt.workspaces.get('acme')?.models.get('m')?.deployments[0]
    if (a === undefined) throw new Error('no deployment')
    services.healthOf(a).failures = 2
    services.sync(rt)
    expect(services.healthOf(a).failures).toBe(2)
    services.sync({ ...rt, deployments: [{ ...a, url: 'http://127.0.0.1:9/elsewhere' }] } as unknown as Runtime)
    expect(services.healthOf(a).failures).toBe(0)
    services.close()
  })
})

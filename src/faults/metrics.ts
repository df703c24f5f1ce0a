// Injected faults on /metrics: how many are active, and every injected outcome by fault,
// effect and target, so a dashboard never mistakes an injected failure for a real one.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { FaultServices } from './registry.js'

export function registerFaultMetrics (registry: Registry, faults: FaultServices): void {
  registry.registerMetric(new Gauge({
    name: 'agnet_faults_active',
    help: 'Network faults in force (config and run-time), by where they come from.',
    labelNames: ['source'],
    registers: [],
    collect () {
      this.reset()
      const list = faults.list()
      this.set({ source: 'config' }, list.filter(f => f.source === 'config').length)
      this.set({ source: 'api' }, list.filter(f => f.source === 'api').length)
    }
  }))
  registry.registerMetric(new Counter({
    name: 'agnet_fault_injections_total',
    help: 'Upstream attempts a network fault was injected into, by fault, effect and target deployment.',
    labelNames: ['fault', 'effect', 'workspace', 'model', 'region', 'deployment'],
    registers: [],
    collect () {
      this.reset()
      for (const c of faults.counts()) {
        if (c.count === 0) continue
        const [workspace = '', model = ''] = c.dep.id.split('/')
        this.inc({ fault: c.fault, effect: c.effect, workspace, model, region: c.dep.region.name, deployment: c.dep.name }, c.count)
      }
    }
  }))
}

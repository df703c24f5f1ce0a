// The usage stage's own counters on /metrics, read from UsageStats at scrape time (the
// request path only bumps plain numbers). Tokens, estimated usage and 429s per model are
// counted with the other request metrics (observability/metrics.ts).
import { Counter, Gauge, type Registry } from 'prom-client'
import type { UsageServices } from './services.js'

function byPolicy (counter: Counter<'workspace' | 'model' | 'policy'>, m: ReadonlyMap<string, number>): void {
  counter.reset()
  for (const [key, n] of m) {
    const [workspace = '', model = '', policy = ''] = key.split('/')
    counter.inc({ workspace, model, policy }, n)
  }
}

export function registerUsageMetrics (registry: Registry, usage: UsageServices): void {
  const stats = usage.stats
  registry.registerMetric(new Counter({
    name: 'agnet_usage_refusals_total',
    help: 'Requests refused with 429 by a maxToken policy, by the policy that was exhausted.',
    labelNames: ['workspace', 'model', 'policy'],
    registers: [],
    collect () { byPolicy(this, stats.refusedByPolicy) }
  }))
  registry.registerMetric(new Counter({
    name: 'agnet_usage_dry_run_violations_total',
    help: 'Requests a dry-run maxToken policy would have refused (they were admitted).',
    labelNames: ['workspace', 'model', 'policy'],
    registers: [],
    collect () { byPolicy(this, stats.dryRunByPolicy) }
  }))
  registry.registerMetric(new Counter({
    name: 'agnet_usage_store_errors_total',
    help: 'Usage-store calls (check or add) that failed or timed out.',
    registers: [],
    collect () { this.reset(); this.inc(stats.storeErrors) }
  }))
  registry.registerMetric(new Counter({
    name: 'agnet_usage_store_unavailable_total',
    help: 'Limited requests decided without the usage store, by usage.failMode (open: admitted unchecked; closed: refused with 503).',
    labelNames: ['mode'],
    registers: [],
    collect () {
      this.reset()
      this.inc({ mode: 'open' }, stats.failedOpen)
      this.inc({ mode: 'closed' }, stats.failedClosed)
    }
  }))
  registry.registerMetric(new Counter({
    name: 'agnet_usage_cold_waits_total',
    help: 'Requests that waited for a settlement of their model instead of a 429, because requests admitted before anything was learned of the model held upper bounds in the window.',
    registers: [],
    collect () { this.reset(); this.inc(stats.coldWaits) }
  }))
  registry.registerMetric(new Gauge({
    name: 'agnet_usage_store_up',
    help: '1 when the usage store is reachable (always 1 for the in-memory store).',
    registers: [],
    collect () { this.set(usage.storeConnected ? 1 : 0) }
  }))
}

// Optional active health probes: a GET of `healthCheck.path` on each deployment that has one,
// every `interval`. Timers are unref'd (a probe never keeps the process alive), restarted
// when the config changes and stopped on close. A probe sends the deployment's own provider
// headers (the credential goes where the requests go anyway) and never a client's.
import type { Logger } from 'pino'
import type { RtDeployment } from '../core/runtime.js'
import { upstreamPath } from '../core/upstream-path.js'

/** Longest wait for a probe answer, whatever the interval. */
export const PROBE_TIMEOUT_MS = 5_000

type ProbeResult = (dep: RtDeployment, up: boolean, reason: string | null) => void

class Probe {
  readonly key: string
  private dep: RtDeployment
  private timer: NodeJS.Timeout | null = null
  private running = false
  private stopped = false
  private readonly onResult: ProbeResult

  constructor (key: string, dep: RtDeployment, onResult: ProbeResult) {
    this.key = key
    this.dep = dep
    this.onResult = onResult
  }

  start (): void {
    const hc = this.dep.healthCheck
    if (hc === null) return
    this.timer = setInterval(() => { void this.run() }, Math.max(hc.intervalMs, 50))
    this.timer.unref()
    // A first verdict now rather than one interval later.
    setImmediate(() => { void this.run() }).unref()
  }

  /** Same target, new config snapshot: keep the timer, use the new dispatcher. */
  update (dep: RtDeployment): void { this.dep = dep }

  async run (): Promise<void> {
    const hc = this.dep.healthCheck
    if (this.running || this.stopped || hc === null) return
    this.running = true
    const dep = this.dep
    const headers: string[] = []
    for (let i = 0; i + 1 < dep.setHeaders.length; i += 2) {
      const name = dep.setHeaders[i]
      const value = dep.setHeaders[i + 1]
      if (name !== undefined && value !== undefined) headers.push(name, value)
    }
    const timeout = Math.min(hc.intervalMs, PROBE_TIMEOUT_MS)
    let up = false
    let reason: string | null = null
    try {
      const res = await dep.dispatcher.request({ method: 'GET', path: upstreamPath(dep.basePath, hc.path), headers, headersTimeout: timeout, bodyTimeout: timeout })
      await res.body.dump()
      up = res.statusCode >= 200 && res.statusCode < 400
      if (!up) reason = `health probe answered ${res.statusCode}`
    } catch (err) {
      reason = `health probe failed: ${failureOf(err)}`
    }
    this.running = false
    if (!this.stopped) this.onResult(dep, up, reason)
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}

export class HealthProbes {
  private readonly probes = new Map<string, Probe>()
  private readonly onResult: ProbeResult
  private readonly logger: Logger | null

  constructor (onResult: ProbeResult, logger: Logger | null) {
    this.onResult = (dep, up, reason) => {
      if (!up) this.logger?.warn({ deployment: dep.id, reason }, 'deployment failed its health probe')
      onResult(dep, up, reason)
    }
    this.logger = logger
  }

  /** Starts probes for new deployments, stops those whose deployment or probe changed or went away. */
  sync (deployments: readonly RtDeployment[]): void {
    const wanted = new Map<string, RtDeployment>()
    for (const d of deployments) {
      if (d.healthCheck === null) continue
      wanted.set(`${d.id}|${d.url}|${d.healthCheck.path}|${d.healthCheck.intervalMs}`, d)
    }
    for (const [key, p] of this.probes) {
      const d = wanted.get(key)
      if (d === undefined) { p.stop(); this.probes.delete(key) } else p.update(d)
    }
    for (const [key, d] of wanted) {
      if (this.probes.has(key)) continue
      const p = new Probe(key, d, this.onResult)
      this.probes.set(key, p)
      p.start()
    }
  }

  get size (): number { return this.probes.size }

  stop (): void {
    for (const p of this.probes.values()) p.stop()
    this.probes.clear()
  }
}

/** A failed probe in a word: the error's code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT) or its message. */
function failureOf (err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err)
  if ('code' in err && typeof err.code === 'string') return err.code
  return err instanceof Error ? err.message : String(err)
}

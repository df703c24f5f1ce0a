// The load generator of scenarios: open loop at a rate per origin (a request is started on
// schedule whether or not earlier ones came back, as real callers do), or closed loop with N
// connections per origin. Every request is recorded (send time, latency, status, serving
// region and deployment, attempts), so timelines and shift times are computed afterwards from
// the raw samples. When it cannot keep up (too many requests in flight) it says so: sends that
// were due but skipped are counted, and "offered vs achieved" is reported.
import { Pool } from 'undici'

export interface Sample {
  /** Origin index. */
  readonly origin: number
  /** Send time, ms since the run started. */
  readonly t: number
  /** Time to the end of the answer, ms; -1 when there was none. */
  readonly ms: number
  /** HTTP status; 0 = no answer (refused, reset, timeout). */
  readonly status: number
  /** The answer started but its body broke (a cut stream). */
  readonly broken: boolean
  readonly region: string | null
  readonly deployment: string | null
  readonly attempts: number
  readonly fault: string | null
}

export interface Load { rate: number | null; connections: number | null }

export interface GeneratorOptions {
  baseUrl: string
  path: string
  method: string
  headers: Record<string, string>
  body: string | null
  origins: readonly string[]
  timeoutMs: number
  /** Largest request rate or connection count of any phase, to size the pools. */
  maxRate: number
  maxConnections: number
}

function header (h: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = h[name]
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null
}

export class Generator {
  readonly samples: Sample[] = []
  /** Per origin: sends that were due but skipped because too many were in flight. */
  readonly skipped: number[]
  /** Per origin: requests started. */
  readonly sent: number[]
  private readonly pools: Pool[]
  private readonly inFlight: number[]
  private readonly cap: number
  private readonly headers: Array<Record<string, string>>
  private load: Load = { rate: null, connections: null }
  private phaseStart = 0
  private phaseSent: number[]
  private timer: NodeJS.Timeout | null = null
  private running = false
  private readonly t0 = performance.now()
  private idle: Array<() => void> = []

  constructor (private readonly opts: GeneratorOptions) {
    const n = opts.origins.length
    // Enough sockets for two seconds of the fastest phase's requests to be in flight at once;
    // beyond that the generator counts the sends it could not make.
    this.cap = Math.max(64, Math.ceil(opts.maxRate * 2), opts.maxConnections)
    this.pools = opts.origins.map(() => new Pool(opts.baseUrl, { connections: this.cap, pipelining: 1, keepAliveTimeout: 30_000 }))
    this.skipped = new Array<number>(n).fill(0)
    this.sent = new Array<number>(n).fill(0)
    this.inFlight = new Array<number>(n).fill(0)
    this.phaseSent = new Array<number>(n).fill(0)
    this.headers = opts.origins.map(o => ({ ...opts.headers, 'x-agnet-origin': o }))
  }

  now (): number { return performance.now() - this.t0 }

  /** Switches to a phase's load from now on. */
  setLoad (load: Load): void {
    this.load = load
    this.phaseStart = this.now()
    this.phaseSent.fill(0)
    this.running = true
    if (load.rate !== null) {
      this.timer ??= setInterval(() => { this.tick() }, 5)
    } else if (this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
    if (load.connections !== null) {
      for (let o = 0; o < this.pools.length; o++) while ((this.inFlight[o] ?? 0) < load.connections) this.send(o)
    }
  }

  private tick (): void {
    const rate = this.load.rate
    if (!this.running || rate === null) return
    const due = Math.floor(rate * (this.now() - this.phaseStart) / 1000)
    for (let o = 0; o < this.pools.length; o++) {
      let n = due - (this.phaseSent[o] ?? 0)
      while (n-- > 0) {
        this.phaseSent[o] = (this.phaseSent[o] ?? 0) + 1
        if ((this.inFlight[o] ?? 0) >= this.cap) this.skipped[o] = (this.skipped[o] ?? 0) + 1
        else this.send(o)
      }
    }
  }

  private send (o: number): void {
    const pool = this.pools[o]
    if (pool === undefined) return
    this.inFlight[o] = (this.inFlight[o] ?? 0) + 1
    this.sent[o] = (this.sent[o] ?? 0) + 1
    const t = this.now()
    pool.request({
      path: this.opts.path,
      method: this.opts.method,
      headers: this.headers[o],
      body: this.opts.body ?? undefined,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs
    }).then(async res => {
      const h = res.headers
      let broken = false
      try { await res.body.dump({ limit: Number.MAX_SAFE_INTEGER }) } catch { broken = true }
      const attempts = Number(header(h, 'x-agnet-attempts') ?? '1')
      this.record({ origin: o, t, ms: this.now() - t, status: res.statusCode, broken, region: header(h, 'x-agnet-region'), deployment: header(h, 'x-agnet-deployment'), attempts: Number.isFinite(attempts) ? attempts : 1, fault: header(h, 'x-agnet-fault') })
    }, () => {
      this.record({ origin: o, t, ms: -1, status: 0, broken: false, region: null, deployment: null, attempts: 0, fault: null })
    })
  }

  private record (s: Sample): void {
    this.samples.push(s)
    const o = s.origin
    const inFlight = (this.inFlight[o] ?? 0) - 1
    this.inFlight[o] = inFlight
    if (this.running && this.load.connections !== null && inFlight < this.load.connections) this.send(o)
    if (this.inFlight.every(n => n === 0)) { const w = this.idle; this.idle = []; for (const f of w) f() }
  }

  /** Stops sending; resolves when every request in flight has ended (or after `graceMs`). */
  async stop (graceMs: number): Promise<void> {
    this.running = false
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    if (!this.inFlight.every(n => n === 0)) {
      let timer: NodeJS.Timeout | null = null
      await Promise.race([
        new Promise<void>(resolve => { this.idle.push(resolve) }),
        new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs) })
      ])
      if (timer !== null) clearTimeout(timer)
    }
    await Promise.all(this.pools.map(async p => { await p.destroy() }))
  }
}

// The load generator behind `agnet loadtest`: one autocannon instance per simulated origin
// (X-Agnet-Origin), all running at once, so a routing policy sees the mixed traffic it will
// see in production. Each response's X-Agnet-Region is read from the parser's header event
// (autocannon's setupClient), which costs nothing extra per request.
import autocannon, { type Client, type Instance, type Result } from 'autocannon'

/** The origin label of a run without X-Agnet-Origin (the gateway's own region decides). */
export const NO_ORIGIN = 'default'
/** Region label of answers without X-Agnet-Region (refused before a deployment was chosen). */
export const NO_REGION = '(none)'

export interface LoadtestOptions {
  /** Full URL of the model endpoint, sub-path included. */
  url: string
  method: string
  headers: Record<string, string>
  body: string | undefined
  /** Simulated origins (region names or country codes); empty = one run without the header. */
  origins: readonly string[]
  /** Connections per origin. */
  connections: number
  /** Seconds per run (ignored when `amount` is set). */
  durationS: number
  /** Requests per origin, instead of a duration (reproducible runs, tests). */
  amount?: number
  /** Requests per second per origin (all its connections together). */
  rate?: number
  /** Seconds before a request counts as timed out. */
  timeoutS: number
}

export interface Progress {
  readonly elapsedS: number
  readonly requests: number
  readonly byOrigin: ReadonlyMap<string, number>
}

export interface OriginResult {
  origin: string
  /** Responses received (any status). */
  completed: number
  /** Connection errors and timeouts: no response at all. */
  transportErrors: number
  timeouts: number
  status2xx: number
  status429: number
  /** 4xx other than 429 (refused: credentials, policies, no deployment available). */
  status4xx: number
  status5xx: number
  statuses: Record<string, number>
  /** Responses per serving region (X-Agnet-Region). */
  regions: Record<string, number>
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  requestsPerSecond: number
  durationS: number
}

class RegionCounter {
  readonly regions = new Map<string, number>()
  readonly setupClient = (client: Client): void => {
    client.on('headers', info => {
      const h = info.headers
      let region = NO_REGION
      // The parser hands headers as a flat [name, value, ...] list with the server's casing.
      for (let i = 0; i < h.length; i += 2) {
        const name = h[i]
        const value = h[i + 1]
        if (name === undefined || value === undefined) break
        if (name.length === 14 && name.toLowerCase() === 'x-agnet-region') { region = value; break }
      }
      this.regions.set(region, (this.regions.get(region) ?? 0) + 1)
    })
  }
}

function summarise (origin: string, result: Result, counter: RegionCounter): OriginResult {
  const statuses: Record<string, number> = {}
  let completed = 0
  let s2 = 0
  let s4 = 0
  let s5 = 0
  let s429 = 0
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[code] = count
    completed += count
    const n = Number(code)
    if (n >= 200 && n < 300) s2 += count
    else if (n === 429) s429 += count
    else if (n >= 400 && n < 500) s4 += count
    else if (n >= 500) s5 += count
  }
  // autocannon counts a timeout both as a timeout and as an error.
  const transportErrors = result.errors
  return {
    origin,
    completed,
    transportErrors,
    timeouts: result.timeouts,
    status2xx: s2,
    status429: s429,
    status4xx: s4,
    status5xx: s5,
    statuses,
    regions: Object.fromEntries([...counter.regions].sort((a, b) => b[1] - a[1])),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    requestsPerSecond: result.requests.mean,
    durationS: result.duration
  }
}

export interface RunningLoadtest {
  /** Resolves with one result per origin, in the order given. */
  readonly done: Promise<OriginResult[]>
  /** Responses so far, per origin (for a progress line). */
  progress (): Progress
  /** Ends every run now (Ctrl-C); the results so far are still reported. */
  stop (): void
}

export function runLoadtest (opts: LoadtestOptions): RunningLoadtest {
  const origins = opts.origins.length === 0 ? [NO_ORIGIN] : [...opts.origins]
  const started = performance.now()
  const totals = new Map<string, number>(origins.map(o => [o, 0]))
  const instances: Instance[] = []
  const runs = origins.map(async origin => {
    const counter = new RegionCounter()
    const headers = { ...opts.headers }
    if (origin !== NO_ORIGIN) headers['x-agnet-origin'] = origin
    return await new Promise<OriginResult>((resolve, reject) => {
      const instance = autocannon({
        url: opts.url,
        method: opts.method,
        headers,
        body: opts.body,
        connections: opts.connections,
        ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS }),
        ...(opts.rate !== undefined ? { overallRate: opts.rate } : {}),
        timeout: opts.timeoutS,
        setupClient: counter.setupClient
      }, (err, result) => {
        if (err !== null) { reject(err); return }
        resolve(summarise(origin, result, counter))
      })
      instance.on('response', () => { totals.set(origin, (totals.get(origin) ?? 0) + 1) })
      instances.push(instance)
    })
  })
  return {
    done: Promise.all(runs),
    progress: () => ({ elapsedS: (performance.now() - started) / 1000, requests: [...totals.values()].reduce((a, b) => a + b, 0), byOrigin: totals }),
    stop: () => { for (const i of instances) i.stop() }
  }
}

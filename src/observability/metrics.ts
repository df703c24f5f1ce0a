// Prometheus metrics (GET /metrics). The run plane only bumps plain numbers in a per-series
// object found by identity (WeakMap keyed by the compiled deployment, model or workspace), so
// a request costs a map lookup and a few additions: prom-client's own inc()/observe() hash
// their label objects on every call, which is fine at scrape time and too much per request.
// At scrape time the series are rendered through prom-client metric classes whose get() is
// overridden, so the registry's formatting, escaping and content type stay prom-client's.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricValue } from 'prom-client'
import type { ConfigStore } from '../config/store.js'
import type { RtDeployment, RtModel, RtWorkspace } from '../core/runtime.js'
import type { FastifyInstance } from 'fastify'
import type { RequestObserver, RequestRecord } from '../core/request-record.js'
import { ReloadRefusedError } from '../config/reload-guard.js'

/** Seconds; LLM answers range from milliseconds (cached, mock) to minutes (reasoning, long streams). */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])

/** nginx's code for "the client closed the connection before an answer was sent". */
const CLIENT_CLOSED = 499
/** Failures that are the client's or agnet's doing, not the upstream's. */
const NOT_UPSTREAM = new Set(['AGNET_CLIENT_ABORT', 'AGNET_BODY_TOO_LARGE'])

type SeriesLabels = Record<'workspace' | 'model' | 'region', string>

class Buckets {
  /** Non-cumulative counts per bucket; the last slot is +Inf. Made cumulative at scrape time. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor (private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (v: number): void {
    const b = this.bounds
    let i = 0
    while (i < b.length && v > (b[i] ?? Number.POSITIVE_INFINITY)) i++
    this.counts[i] = (this.counts[i] ?? 0) + 1
    this.sum += v
    this.count++
  }
}

/** Everything counted for one (workspace, model, region). */
class Series {
  readonly byStatus = new Map<number, number>()
  readonly upstreamErrors = new Map<string, number>()
  readonly duration = new Buckets(LATENCY_BUCKETS)
  readonly firstByte = new Buckets(LATENCY_BUCKETS)
  failovers = 0
  inputTokens = 0
  outputTokens = 0
  estimatedUsage = 0
  limitRejections = 0
  constructor (readonly labels: SeriesLabels) {}
}

type SeriesValues = (s: Series) => Iterable<[Record<string, string>, number]>

/** A counter whose values come from the series at scrape time. */
class SeriesCounter extends Counter {
  constructor (name: string, help: string, labelNames: string[], private readonly source: () => Iterable<Series>, private readonly pick: SeriesValues) {
    super({ name, help, labelNames, registers: [] })
  }

  override async get (): Promise<Awaited<ReturnType<Counter['get']>>> {
    const values: Array<MetricValue<string>> = []
    for (const s of this.source()) for (const [labels, value] of this.pick(s)) values.push({ labels, value })
    const base = await super.get()
    return { ...base, values }
  }
}

/** A histogram whose buckets come from the series at scrape time. */
class SeriesHistogram extends Histogram {
  constructor (private readonly metricName: string, private readonly helpText: string, private readonly source: () => Iterable<Series>, private readonly pick: (s: Series) => Buckets) {
    super({ name: metricName, help: helpText, labelNames: ['workspace', 'model', 'region'], buckets: [...LATENCY_BUCKETS], registers: [] })
  }

  // The registry renders histograms through getForPromString (not in prom-client's typings;
  // Histogram.get() reshapes its result for JSON), so that is the method replaced here.
  async getForPromString (): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Array<MetricValue<string> & { metricName: string }> }> {
    const values: Array<MetricValue<string> & { metricName: string }> = []
    for (const s of this.source()) {
      const h = this.pick(s)
      if (h.count === 0) continue
      let cumulative = 0
      for (let i = 0; i < h.counts.length; i++) {
        cumulative += h.counts[i] ?? 0
        const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf'
        values.push({ metricName: `${this.metricName}_bucket`, labels: { ...s.labels, le }, value: cumulative })
      }
      values.push({ metricName: `${this.metricName}_sum`, labels: s.labels, value: h.sum })
      values.push({ metricName: `${this.metricName}_count`, labels: s.labels, value: h.count })
    }
    return { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values }
  }
}

export interface MetricsOptions {
  /** Requests in flight on the run plane, read at scrape time. */
  inFlight?: () => number
  /** Node process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean
}

export class GatewayMetrics {
  readonly registry = new Registry()
  private readonly series = new Map<string, Series>()
  private readonly byDeployment = new WeakMap<RtDeployment, Series>()
  private readonly byModel = new WeakMap<RtModel, Series>()
  private readonly byWorkspace = new WeakMap<RtWorkspace, Series>()
  private readonly unrouted: Series
  private readonly reloads: Counter<'result'>
  private readonly store: ConfigStore
  private openStreams = 0
  private readonly onReloaded: () => void
  private readonly onReloadFailed: (err: unknown) => void
  /** Bound once: the run plane calls it when an event-stream response starts. */
  readonly streamOpened: (record: RequestRecord) => void
  /** Bound once: the run plane calls it when a request finishes. */
  readonly observe: RequestObserver

  constructor (store: ConfigStore, opts: MetricsOptions = {}) {
    this.store = store
    this.unrouted = this.seriesOf('', '', '')
    this.streamOpened = () => { this.openStreams++ }
    this.observe = (ctx) => { this.record(ctx) }
    const all = (): Iterable<Series> => this.series.values()
    const r = this.registry
    const withStatus: SeriesValues = function * (s) { for (const [status, n] of s.byStatus) yield [{ ...s.labels, status: String(status) }, n] }
    r.registerMetric(new SeriesCounter('agnet_requests_total', 'Run-plane requests by workspace, model, serving region and status (499: the client left before an answer).', ['workspace', 'model', 'region', 'status'], all, withStatus))
    r.registerMetric(new SeriesHistogram('agnet_request_duration_seconds', 'Run-plane request duration, from the first byte received to the last byte sent (streams included).', all, s => s.duration))
    r.registerMetric(new SeriesHistogram('agnet_upstream_first_byte_seconds', 'Time from sending a request upstream to its response headers (last attempt).', all, s => s.firstByte))
    const errors: SeriesValues = function * (s) { for (const [code, n] of s.upstreamErrors) yield [{ ...s.labels, code }, n] }
    r.registerMetric(new SeriesCounter('agnet_upstream_errors_total', 'Requests that met an upstream transport failure (connect, reset, timeout, protocol), by the code of the last one; region is where the request ended.', ['workspace', 'model', 'region', 'code'], all, errors))
    r.registerMetric(new SeriesCounter('agnet_failovers_total', 'Extra attempts made on another deployment after a failure; region is the one that finally served.', ['workspace', 'model', 'region'], all, function * (s) { if (s.failovers > 0) yield [s.labels, s.failovers] }))
    r.registerMetric(new SeriesCounter('agnet_tokens_total', 'Tokens used, by kind (input, output), as reported by the provider or estimated.', ['workspace', 'model', 'region', 'kind'], all, function * (s) {
      if (s.inputTokens > 0) yield [{ ...s.labels, kind: 'input' }, s.inputTokens]
      if (s.outputTokens > 0) yield [{ ...s.labels, kind: 'output' }, s.outputTokens]
    }))
    r.registerMetric(new SeriesCounter('agnet_usage_estimated_total', 'Requests whose token usage was estimated because the provider reported none.', ['workspace', 'model', 'region'], all, function * (s) { if (s.estimatedUsage > 0) yield [s.labels, s.estimatedUsage] }))
    r.registerMetric(new SeriesCounter('agnet_limit_rejections_total', 'Requests refused with 429 POLICY_VIOLATION because a token-usage policy is exhausted.', ['workspace', 'model', 'region'], all, function * (s) { if (s.limitRejections > 0) yield [s.labels, s.limitRejections] }))

    this.reloads = new Counter({ name: 'agnet_config_reloads_total', help: 'Config reloads by result: ok (swapped in) or failed (refused; the last good config keeps serving).', labelNames: ['result'], registers: [r] })
    this.reloads.inc({ result: 'ok' }, 0)
    this.reloads.inc({ result: 'failed' }, 0)
    const guarded = new Counter({ name: 'agnet_config_reloads_guarded_total', help: 'Valid configs a reload refused because they would open the run plane (opens-run-plane) or drop every workspace or model; each is also counted as a failed reload.', labelNames: ['reason'], registers: [r] })
    for (const reason of ['opens-run-plane', 'removes-every-workspace', 'removes-every-model']) guarded.inc({ reason }, 0)
    this.onReloaded = () => { this.reloads.inc({ result: 'ok' }) }
    this.onReloadFailed = (err: unknown) => {
      this.reloads.inc({ result: 'failed' })
      if (err instanceof ReloadRefusedError) guarded.inc({ reason: err.reason })
    }
    store.on('reloaded', this.onReloaded)
    store.on('reload-failed', this.onReloadFailed)

    // Gauges read their value when scraped (collect runs with the gauge as `this`).
    const openStreams = (): number => this.openStreams
    new Gauge({ name: 'agnet_config_generation', help: 'Generation of the config serving now (1 at start, +1 per successful reload).', registers: [r], collect () { this.set(store.loaded ? store.current.generation : 0) } })
    new Gauge({ name: 'agnet_open_streams', help: 'Event-stream (SSE) responses being relayed right now.', registers: [r], collect () { this.set(openStreams()) } })
    const inFlight = opts.inFlight
    if (inFlight !== undefined) new Gauge({ name: 'agnet_in_flight_requests', help: 'Run-plane requests being handled right now.', registers: [r], collect () { this.set(inFlight()) } })
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: r })
  }

  private seriesOf (workspace: string, model: string, region: string): Series {
    const key = `${workspace}\0${model}\0${region}`
    let s = this.series.get(key)
    if (s === undefined) {
      s = new Series({ workspace, model, region })
      this.series.set(key, s)
    }
    return s
  }

  /**
   * The series of a request. Labels come from compiled objects only, never from the raw path,
   * so an unknown workspace or model cannot grow the number of series.
   */
  private seriesFor (ctx: RequestRecord): Series {
    const dep = ctx.deployment
    const model = ctx.model
    if (dep !== null && model !== null) {
      let s = this.byDeployment.get(dep)
      if (s === undefined) {
        s = this.seriesOf(model.workspace, model.name, dep.region.name)
        this.byDeployment.set(dep, s)
      }
      return s
    }
    if (model !== null) {
      let s = this.byModel.get(model)
      if (s === undefined) {
        s = this.seriesOf(model.workspace, model.name, '')
        this.byModel.set(model, s)
      }
      return s
    }
    const ws = ctx.workspace
    if (ws !== null) {
      let s = this.byWorkspace.get(ws)
      if (s === undefined) {
        s = this.seriesOf(ws.name, '', '')
        this.byWorkspace.set(ws, s)
      }
      return s
    }
    return this.unrouted
  }

  private record (ctx: RequestRecord): void {
    const s = this.seriesFor(ctx)
    const status = ctx.status === 0 ? CLIENT_CLOSED : ctx.status
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1)
    s.duration.observe((performance.now() - ctx.start) / 1000)
    if (ctx.firstByteMs >= 0) s.firstByte.observe(ctx.firstByteMs / 1000)
    if (ctx.attempts > 1) s.failovers += ctx.attempts - 1
    const failure = ctx.failure
    if (failure !== null && !NOT_UPSTREAM.has(failure)) s.upstreamErrors.set(failure, (s.upstreamErrors.get(failure) ?? 0) + 1)
    const usage = ctx.usage
    if (usage !== null) {
      s.inputTokens += usage.input
      s.outputTokens += usage.output
      if (usage.estimated) s.estimatedUsage++
    }
    if (status === 429 && ctx.errorCode === 'POLICY_VIOLATION') s.limitRejections++
    if (ctx.sse) this.openStreams--
  }

  /** The Prometheus text exposition. */
  async render (): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }

  close (): void {
    this.store.off('reloaded', this.onReloaded)
    this.store.off('reload-failed', this.onReloadFailed)
  }
}

/** The observer the run plane calls: metrics and/or a caller's hook, composed once. */
export function composeObservers (
  metrics: GatewayMetrics | null,
  other: RequestObserver | null
): RequestObserver | null {
  if (metrics === null) return other
  if (other === null) return metrics.observe
  const first = metrics.observe
  return (ctx, outcome) => { first(ctx, outcome); other(ctx, outcome) }
}

/** GET /metrics on the Fastify side (scrapes are not the hot path). */
export function registerMetricsRoute (fastify: FastifyInstance, metrics: GatewayMetrics | null): void {
  if (metrics === null) return
  fastify.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await metrics.render()
    return await reply.header('content-type', contentType).header('cache-control', 'no-store').send(body)
  })
}

// buildApp: the gateway as an object (an http.Server with the run plane in front of Fastify),
// separate from the process. The CLI owns listen, signals and reload; tests and benchmarks use
// this same factory.
import http from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { RunPlane, type RunPlaneServices } from './run-plane/handler.js'
import { isRunPlanePath } from './run-plane/target.js'
import type { ConfigStore } from './config/store.js'
import { IdentityServices } from './auth/authenticate.js'
import { registerIdentityRoutes } from './control-plane/oauth.js'
import { RoutingServices } from './routing/plan.js'
import { UsageServices } from './usage/services.js'
import { registerUsageMetrics } from './usage/metrics.js'
import { EdgeError, errorIdForStatus } from './core/errors.js'
import { controlPlaneErrorBody, controlPlaneErrorHeaders, edgeErrorBody, edgeErrorHeaders } from './core/render-error.js'
import { requestIdFor } from './core/request-id.js'
import type { RequestObserver } from './core/request-record.js'
import { EDGE_SERVER_OPTIONS, guardRequests, limitHeaderCount } from './edge/admission.js'
import { createClientErrorHandler, installEdgeAnswers } from './edge/client-errors.js'
import { createLogger } from './observability/logger.js'
import { isControlPlanePath, registerControlPlane } from './control-plane/plugin.js'
import { GatewayMetrics, composeObservers, registerMetricsRoute } from './observability/metrics.js'
import { registerPlayground } from './playground/routes.js'
import { registerControlAccessLog } from './observability/control-access-log.js'
import { FaultServices } from './faults/registry.js'
import { registerFaultMetrics } from './faults/metrics.js'

export interface AppOptions {
  logger?: Logger
  /** Sees every finished run-plane request (metrics, tests). */
  observe?: RequestObserver
  /** Serve /metrics and count every request (default true; off only to measure its cost). */
  metrics?: boolean
  /** Clock of the token-usage windows (ms since epoch); tests inject one. */
  usageClock?: () => number
}

export interface App {
  readonly server: http.Server
  readonly fastify: FastifyInstance
  readonly runPlane: RunPlane
  readonly store: ConfigStore
  readonly logger: Logger
  readonly services: RunPlaneServices
  readonly metrics: GatewayMetrics | null
  /** Listens (port 0 = any) and resolves with the bound port. */
  listen (port?: number, host?: string): Promise<number>
  /** Stops accepting, lets in-flight requests finish within `graceMs`, then closes everything. */
  close (graceMs?: number): Promise<void>
}

const RUN_ALIAS = '/run/'
const ROUTE_NOT_FOUND = new EdgeError('ROUTE_NOT_FOUND')

export async function buildApp (store: ConfigStore, opts: AppOptions = {}): Promise<App> {
  const runtime = store.current
  const logger = opts.logger ?? createLogger({ level: runtime.server.logLevel })
  const metrics = opts.metrics === false ? null : new GatewayMetrics(store, { inFlight: () => runPlane.inFlight })
  const services: RunPlaneServices = {
    logger,
    identity: new IdentityServices(),
    routing: new RoutingServices({ logger }),
    usage: new UsageServices({ logger, now: opts.usageClock }),
    faults: new FaultServices(logger),
    observe: composeObservers(metrics, opts.observe ?? null),
    observeStream: metrics === null ? null : metrics.streamOpened
  }
  const runPlane = new RunPlane(() => store.current, services)
  // Health probes and per-deployment stats follow the config across reloads.
  services.routing.attach(store)
  services.faults.attach(store)
  // Connect the usage store now (bounded wait) so the first requests find Redis ready; a
  // reload that changes usage.redis switches stores on the next limited request.
  await services.usage.start(runtime.usage.store)

  let server: http.Server | null = null
  const fastify = Fastify({
    logger: false,
    // Parser errors answer in the edge shape (and never twice), not in Fastify's.
    clientErrorHandler: createClientErrorHandler(logger),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    serverFactory: (fastifyHandler) => {
      server = http.createServer({
        ...EDGE_SERVER_OPTIONS,
        noDelay: true,
        maxHeaderSize: runtime.server.maxHeaderBytes,
        // Explicit bounds on the client side too: slow headers and never-ending uploads end.
        headersTimeout: 30_000,
        requestTimeout: 900_000,
        keepAliveTimeout: 65_000
      }, guardRequests((req, res) => {
        const url = req.url ?? ''
        // The run plane is served before Fastify: it is the hot path and streams raw bodies.
        // /v0/models/... and /api/models/... look like /{ws}/models/... but are the control plane
        // (v0 and api are reserved workspace names).
        if (isRunPlanePath(url, 0) && !isControlPlanePath(url)) return runPlane.handle(req, res, 0)
        if (url.startsWith(RUN_ALIAS) && isRunPlanePath(url, 4)) return runPlane.handle(req, res, 4)
        fastifyHandler(req, res)
      }, logger))
      limitHeaderCount(server)
      installEdgeAnswers(server, logger)
      return server
    }
  })

  fastify.get('/healthz', async () => ({ status: 'ok' }))
  fastify.get('/readyz', async (_req, reply) => {
    if (!store.loaded || server === null || !server.listening) return await reply.code(503).send({ status: 'not ready' })
    return { status: 'ready', generation: store.current.generation }
  })

  // Before the routes: hooks on the root reach every route and plugin registered after them.
  // The control plane's state decorates requests in its own plugin: elsewhere it is undefined.
  registerControlAccessLog(fastify, logger, () => store.current.server.accessLog, req => req.cp ?? null)
  registerMetricsRoute(fastify, metrics)
  if (metrics !== null) registerUsageMetrics(metrics.registry, services.usage)
  if (metrics !== null) registerFaultMetrics(metrics.registry, services.faults)
  registerPlayground(fastify)
  registerControlPlane(fastify, store, { logger, identity: services.identity, routing: services.routing, faults: services.faults })
  registerIdentityRoutes(fastify, store, services.identity)

  fastify.setNotFoundHandler((req, reply) => {
    const id = requestIdFor(req.headers['x-request-id'])
    if (req.url.startsWith('/v0/') || req.url === '/v0' || req.url.startsWith('/api/')) {
      const err = new EdgeError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0] ?? ''}.`)
      void reply.code(err.status).headers(controlPlaneErrorHeaders(err, id)).send(controlPlaneErrorBody(err))
      return
    }
    void reply.code(ROUTE_NOT_FOUND.status).headers(edgeErrorHeaders(ROUTE_NOT_FOUND, id)).send(edgeErrorBody(ROUTE_NOT_FOUND, id))
  })
  fastify.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) logger.error({ err, url: req.url.split('?')[0] }, 'control-plane error')
    const entry = errorIdForStatus(status)
    const answer = err instanceof EdgeError ? err : new EdgeError(entry, entry === 'INTERNAL_ERROR' ? undefined : err.message)
    const id = requestIdFor(req.headers['x-request-id'])
    void reply.code(answer.status).headers(controlPlaneErrorHeaders(answer, id)).send(controlPlaneErrorBody(answer))
  })

  await fastify.ready()
  // The server serverFactory built: Fastify keeps it as its own.
  const srv = fastify.server

  const app: App = {
    server: srv,
    fastify,
    runPlane,
    store,
    logger,
    services,
    metrics,
    async listen (port = runtime.server.port, host = runtime.server.host): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(port, host, () => { srv.off('error', reject); resolve() })
      })
      const addr = srv.address()
      return typeof addr === 'object' && addr !== null ? addr.port : port
    },
    async close (graceMs = store.current.server.shutdownGraceMs): Promise<void> {
      const closed = new Promise<void>(resolve => { if (srv.listening) srv.close(() => { resolve() }); else resolve() })
      srv.closeIdleConnections()
      let timer: NodeJS.Timeout | null = null
      await Promise.race([
        runPlane.drained(),
        new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs); timer.unref() })
      ])
      if (timer !== null) clearTimeout(timer)
      srv.closeAllConnections()
      await closed
      await fastify.close()
      services.identity.close()
      services.routing.close()
      services.faults.close()
      await services.usage.close()
      metrics?.close()
      await store.close()
      logger.flush()
    }
  }
  return app
}

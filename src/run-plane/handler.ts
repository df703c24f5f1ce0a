// The run plane: ANY /{workspace}/models/{model}[/sub-path][?query]. A pipeline of small
// stages, each in its own module, with data flowing one way through the RequestContext:
// target → authenticate → access → lookup → route → usage → forward → settle → log.
// It runs on the raw node:http request, before Fastify, because this is the hot path.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { EdgeError, sendEdgeError } from '../errors.js'
import { RequestContext, requestIdFor } from './context.js'
import { parseRunTarget, type TargetProblem } from './target.js'
import type { RtDeployment, Runtime } from '../config/runtime.js'
import type { Principal } from '../auth/types.js'
import { authenticate, type IdentityServices } from '../auth/authenticate.js'
import { decideModelAccess, decideWorkspaceAccess } from '../access/decide.js'
import { planRoute, recordAttempt, rttTo, type RoutingServices } from '../routing/plan.js'
import { parseRetryAfter } from '../routing/health.js'
import { isRefusal, mayFailOver, prepareBody } from '../proxy/failover.js'
import { admitUsage, beginUsage, observeChunk, settleUsage, type UsageServices } from '../usage/gate.js'
import { ClientAbortError, TotalTimeoutError, decisionHeaders, dispatchAttempt, type Exchange, type ExchangeOwner } from '../proxy/forward.js'
import type { UpstreamFailure } from '../proxy/upstream-errors.js'
import { writeAccessLog } from '../observability/access-log.js'

export interface RunPlaneServices {
  readonly logger: Logger
  readonly identity: IdentityServices
  readonly routing: RoutingServices
  readonly usage: UsageServices
  /** Observes every finished request (metrics). */
  readonly observe: ((ctx: RequestContext, outcome: string) => void) | null
  /** Sees every event-stream response start; `observe` sees it end (ctx.sse). */
  readonly observeStream: ((ctx: RequestContext) => void) | null
}

const TARGET_MESSAGES: Record<TargetProblem, string> = {
  'absolute-form': 'Absolute-form request targets are not accepted; send the path only.',
  'bad-character': 'The path contains a control character or a backslash.',
  'encoded-separator': 'The path contains an encoded dot, slash, backslash or NUL (%2e, %2f, %5c, %00).',
  'dot-segment': 'The path contains a "." or ".." segment.',
  'bad-name': 'Workspace and model names are lower-case letters, digits and hyphens (models: at most 49 characters).',
  'not-a-model-route': 'Use /{workspace}/models/{model}[/sub-path].'
}
const TARGET_ERRORS = Object.fromEntries(Object.entries(TARGET_MESSAGES).map(([k, m]) => [k, new EdgeError(k === 'not-a-model-route' ? 'ROUTE_NOT_FOUND' : 'BAD_REQUEST', m)])) as Record<TargetProblem, EdgeError>
const WORKSPACE_NOT_FOUND = new EdgeError('WORKSPACE_NOT_FOUND')
const WORKLOAD_NOT_FOUND = new EdgeError('WORKLOAD_NOT_FOUND')
const DISABLED = new EdgeError('WORKLOAD_UNAVAILABLE', 'The model is disabled.', { retryable: false })
const METHOD_NOT_ALLOWED = new EdgeError('METHOD_NOT_ALLOWED', 'TRACE and CONNECT are not forwarded.')
const TOTAL_TIMEOUT = new EdgeError('UPSTREAM_TIMEOUT', 'The request did not complete within the total timeout.')
const BAD_LENGTH = new EdgeError('BAD_REQUEST', 'Content-Length is not a valid number.')

export class RunPlane implements ExchangeOwner {
  private readonly services: RunPlaneServices
  private readonly getRuntime: () => Runtime
  /** Requests in flight, for graceful shutdown. */
  inFlight = 0
  private drainWaiters: Array<() => void> = []

  constructor (getRuntime: () => Runtime, services: RunPlaneServices) {
    this.getRuntime = getRuntime
    this.services = services
  }

  /** Entry point; `offset` skips a `/run` alias prefix. */
  handle (req: IncomingMessage, res: ServerResponse, offset: number): void {
    const start = performance.now()
    // The runtime is read once: the request finishes on the snapshot it started with.
    const runtime = this.getRuntime()
    const ctx = new RequestContext(req, res, runtime, requestIdFor(req.headers['x-request-id']), start)
    this.inFlight++
    res.once('close', () => { this.onClose(ctx) })
    req.on('error', noop)

    const method = req.method
    if (method === 'TRACE' || method === 'CONNECT') return this.fail(ctx, METHOD_NOT_ALLOWED)
    const target = parseRunTarget(req.url ?? '', offset)
    if (typeof target === 'string') return this.fail(ctx, TARGET_ERRORS[target])
    ctx.workspaceName = target.workspace
    ctx.modelName = target.model
    ctx.rest = target.rest

    const principal = authenticate(ctx, this.services.identity)
    if (principal instanceof Promise) {
      principal.then(p => { this.afterAuth(ctx, p) }, err => { this.fail(ctx, new EdgeError('INTERNAL_ERROR', undefined, { cause: err })) })
      return
    }
    this.afterAuth(ctx, principal)
  }

  private afterAuth (ctx: RequestContext, principal: Principal | EdgeError): void {
    if (ctx.done) return
    ctx.authMs = performance.now() - ctx.start
    if (principal instanceof EdgeError) return this.fail(ctx, principal)
    ctx.principal = principal
    // 403s before 404s: both decisions read only the principal and the path, so a credential
    // learns nothing about workspaces or models it may not reach (SPEC §3, issue #3 point 5).
    const denied = decideWorkspaceAccess(principal, ctx.workspaceName as string) ?? decideModelAccess(principal, ctx.modelName as string)
    if (denied !== null) return this.fail(ctx, denied)
    const ws = ctx.runtime.workspaces.get(ctx.workspaceName as string)
    if (ws === undefined) return this.fail(ctx, WORKSPACE_NOT_FOUND)
    ctx.workspace = ws
    const model = ws.models.get(ctx.modelName as string)
    if (model === undefined) return this.fail(ctx, WORKLOAD_NOT_FOUND)
    ctx.model = model
    if (!model.enabled) return this.fail(ctx, DISABLED)

    const cl = ctx.req.headers['content-length']
    if (cl !== undefined) {
      const n = Number(cl)
      if (!Number.isSafeInteger(n) || n < 0) return this.fail(ctx, BAD_LENGTH)
      if (n > model.bodyLimit) return this.fail(ctx, new EdgeError('REQUEST_ENTITY_TOO_LARGE', `The request body is ${n} bytes; this model accepts at most ${model.bodyLimit}.`))
      ctx.bytesIn = n
    }

    const routeStart = performance.now()
    const routeError = planRoute(ctx, this.services.routing)
    ctx.routeMs = performance.now() - routeStart
    if (routeError !== null) return this.fail(ctx, routeError)

    const admitted = admitUsage(ctx, this.services.usage)
    if (admitted instanceof Promise) {
      admitted.then(e => { this.afterUsage(ctx, e) }, err => { this.fail(ctx, new EdgeError('INTERNAL_ERROR', undefined, { cause: err })) })
      return
    }
    this.afterUsage(ctx, admitted)
  }

  private afterUsage (ctx: RequestContext, refused: EdgeError | null): void {
    if (ctx.done) return
    if (refused !== null) return this.fail(ctx, refused)
    const model = ctx.model
    if (model === null || ctx.candidates === null) return
    ctx.totalTimer = setTimeout(onTotalTimeout, model.timeouts.totalMs, ctx, this)
    // With more than one candidate the body is kept (up to routing.replayBodyLimit) so a
    // failover can send it again; otherwise it is streamed unless it came whole (failover.ts).
    prepareBody(ctx, this.bodyReady)
  }

  private readonly bodyReady = (ctx: RequestContext): void => { this.attempt(ctx) }

  /** The total timeout ran out while no attempt was in flight. */
  timedOutBetweenAttempts (ctx: RequestContext): void {
    this.fail(ctx, TOTAL_TIMEOUT)
  }

  /** Starts the attempt on the next candidate, after the simulated RTT when the network applies it. */
  attempt (ctx: RequestContext): void {
    if (ctx.done) return
    const dep = (ctx.candidates as NonNullable<typeof ctx.candidates>)[ctx.attempts]
    if (dep === undefined) return this.fail(ctx, new EdgeError('WORKLOAD_UNAVAILABLE'))
    if (ctx.runtime.network.applyDelay) {
      const rtt = rttTo(ctx, dep)
      if (rtt > 0) {
        setTimeout(dispatchAfterDelay, rtt, this, ctx, dep)
        return
      }
    }
    ctx.exchange = dispatchAttempt(ctx, dep, this, ctx.body)
  }

  // ExchangeOwner ---------------------------------------------------------------------------

  onUpstreamHeaders (ctx: RequestContext, statusCode: number, headers: Record<string, string | string[] | undefined>): boolean {
    if (isRefusal(statusCode)) {
      // 5xx/429 before any byte reached the client: charge the deployment (keeping it out for
      // its Retry-After), then try the next candidate, or relay this answer when none is left.
      recordAttempt(this.services.routing, ctx, false, parseRetryAfter(headers['retry-after'], Date.now()), `HTTP ${statusCode}`)
      if (mayFailOver(ctx, 'refused')) {
        ctx.failure = `HTTP_${statusCode}`
        ctx.exchange = null
        setImmediate(resumeAttempt, this, ctx)
        return false
      }
    }
    if (ctx.usageTap) beginUsage(ctx, statusCode, headers)
    return true
  }

  onStreamStart (ctx: RequestContext): void {
    this.services.observeStream?.(ctx)
  }

  onUpstreamData (ctx: RequestContext, chunk: Buffer): void {
    if (ctx.usageTap) observeChunk(ctx, this.services.usage, chunk)
  }

  onExchangeEnd (ctx: RequestContext, outcome: 'complete' | 'failed-before-headers' | 'failed-mid-body', failure: UpstreamFailure | null): void {
    ctx.exchange = null
    if (outcome === 'complete') {
      // A relayed refusal was charged when its headers came.
      if (!isRefusal(ctx.status)) recordAttempt(this.services.routing, ctx, true)
      return this.finish(ctx, 'ok')
    }
    const f = failure as UpstreamFailure
    ctx.failure = f.code
    if (f.kind === 'client-abort') return this.finish(ctx, 'client-abort')
    if (f.kind !== 'body-too-large') recordAttempt(this.services.routing, ctx, false)
    if (outcome === 'failed-mid-body') {
      // Headers already went out: the client must see a broken stream, never a clean end.
      ctx.res.destroy(new Error(f.message))
      return this.finish(ctx, 'upstream-error-mid-body')
    }
    if ((f.kind === 'connect' || f.kind === 'reset') && f.retryable && mayFailOver(ctx, f.kind)) {
      setImmediate(resumeAttempt, this, ctx)
      return
    }
    this.fail(ctx, new EdgeError(f.edge, f.message))
  }

  // Endings -----------------------------------------------------------------------------------

  private fail (ctx: RequestContext, err: EdgeError): void {
    if (ctx.done) return
    ctx.status = err.status
    ctx.errorCode = err.code
    const extra: string[] = []
    decisionHeaders(ctx, extra)
    sendEdgeError(ctx.res, err, ctx.id, extra)
    if (err.cause !== undefined) this.services.logger.error({ reqId: ctx.id, err: err.cause }, 'internal error on the run plane')
    this.finish(ctx, 'edge-error')
  }

  private finish (ctx: RequestContext, outcome: string): void {
    if (ctx.done) return
    ctx.done = true
    if (ctx.totalTimer !== null) clearTimeout(ctx.totalTimer)
    if (ctx.usageTap || ctx.usage !== null) settleUsage(ctx, this.services.usage)
    if (ctx.runtime.server.accessLog) writeAccessLog(this.services.logger, ctx, outcome)
    this.services.observe?.(ctx, outcome)
  }

  private onClose (ctx: RequestContext): void {
    if (!ctx.done) {
      // The client went away before the answer ended: cancel the upstream, free its slot.
      if (ctx.exchange !== null) ctx.exchange.cancel(new ClientAbortError())
      else this.finish(ctx, 'client-abort')
    }
    this.inFlight--
    if (this.inFlight === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters
      this.drainWaiters = []
      for (const w of waiters) w()
    }
  }

  /** Resolves when no run-plane request is in flight. */
  async drained (): Promise<void> {
    if (this.inFlight === 0) return
    await new Promise<void>(resolve => { this.drainWaiters.push(resolve) })
  }
}

function noop (): void {}

function resumeAttempt (plane: RunPlane, ctx: RequestContext): void {
  plane.attempt(ctx)
}

function dispatchAfterDelay (plane: RunPlane, ctx: RequestContext, dep: RtDeployment): void {
  if (ctx.done) return
  ctx.exchange = dispatchAttempt(ctx, dep, plane, ctx.body)
}

function onTotalTimeout (ctx: RequestContext, plane: RunPlane): void {
  ctx.totalTimer = null
  if (ctx.exchange !== null) ctx.exchange.cancel(new TotalTimeoutError())
  // No exchange: still reading the body to keep for failover, or between two attempts.
  else plane.timedOutBetweenAttempts(ctx)
}

export type { Exchange }

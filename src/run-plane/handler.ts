// The run plane: ANY /{workspace}/models/{model}[/sub-path][?query], read top to bottom:
//
//   target → principal → access → model → plan → body → admission → exchange(s) → settlement → log
//
// Each stage is a function of its own folder with explicit inputs and a result; this file
// keeps the per-request state (state.ts) and is the only writer of it. It runs on the raw
// node:http request, before Fastify, because this is the hot path: stages answer synchronously
// when they can and the pipeline continues in the same turn, awaiting only a first JWT check,
// a body to read, or a shared usage store.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RtDeployment, Runtime } from '../core/runtime.js'
import type { Principal } from '../core/identity.js'
import type { UpstreamFailure } from '../core/upstream.js'
import { EdgeError } from '../core/errors.js'
import { sendEdgeError } from '../core/render-error.js'
import { requestIdFor } from '../core/request-id.js'
import { parseRunTarget, targetError } from './target.js'
import { RequestState } from './state.js'
import { decisionHeaders } from './decision-headers.js'
import { authenticate, claimedWorkspace } from '../auth/authenticate.js'
import { decideModelAccess, decideWorkspaceAccess } from '../access/decide.js'
import { planRoute, recordAttempt, rttTo } from '../routing/plan.js'
import { parseRetryAfter } from '../routing/health.js'
import { admitUsage, beginUsage, observeChunk, settleUsage, type Admission } from '../usage/gate.js'
import { contentLength, isRefusal, mayFailOver, mayHaveRun, prepareBody, type BodyPlan, type FailureKind } from '../proxy/failover.js'
import { dispatchAttempt, type Exchange, type ExchangeOwner } from '../proxy/forward.js'
import { CLIENT_ABORT, TOTAL_TIMEOUT } from '../proxy/upstream-errors.js'
import { FaultDispatcher, planFault, type FaultAction } from '../faults/inject.js'
import { writeAccessLog } from '../observability/access-log.js'
import type { RunPlaneServices } from './services.js'
import { closesConnection, markClosing, mayAwaitBody } from '../edge/closing.js'
import { InFlight } from './in-flight.js'
import { isChatCompletions, readChatRequest, refusalBody } from '../translate/plane.js'
import { TranslationRefusal } from '../translate/common.js'
import type { TranslatedAnswer } from '../translate/answer.js'

export type { RunPlaneServices }

const WORKSPACE_NOT_FOUND = new EdgeError('WORKSPACE_NOT_FOUND')
const WORKLOAD_NOT_FOUND = new EdgeError('WORKLOAD_NOT_FOUND')
const DISABLED = new EdgeError('MODEL_DISABLED')
const NO_CANDIDATE = new EdgeError('WORKLOAD_UNAVAILABLE')
const METHOD_NOT_ALLOWED = new EdgeError('METHOD_NOT_ALLOWED', 'TRACE and CONNECT are not forwarded.')
const TOTAL_TIMEOUT_ERROR = new EdgeError('UPSTREAM_TIMEOUT', 'The request did not complete within the total timeout.')
const MAY_HAVE_RUN = new EdgeError('UPSTREAM_MAY_HAVE_RUN')

export class RunPlane implements ExchangeOwner<RequestState> {
  private readonly services: RunPlaneServices
  private readonly getRuntime: () => Runtime
  private readonly flight = new InFlight()

  constructor (getRuntime: () => Runtime, services: RunPlaneServices) {
    this.getRuntime = getRuntime
    this.services = services
  }

  /** Entry point; `offset` skips a `/run` alias prefix. */
  handle (req: IncomingMessage, res: ServerResponse, offset: number): void {
    const start = performance.now()
    // The runtime is read once: the request finishes on the snapshot it started with.
    const runtime = this.getRuntime()
    const s = new RequestState(req, res, runtime, requestIdFor(req.headers['x-request-id']), start)
    this.flight.enter()
    res.once('close', () => { this.onClose(s) })
    req.on('error', noop)

    // Target.
    const method = req.method
    if (method === 'TRACE' || method === 'CONNECT') return this.fail(s, METHOD_NOT_ALLOWED)
    const target = parseRunTarget(req.url ?? '', offset)
    if (typeof target === 'string') return this.fail(s, targetError(target))
    s.workspaceName = target.workspace
    s.modelName = target.model
    s.rest = target.rest
    s.claimedWorkspace = claimedWorkspace(req.headers['x-blaxel-workspace'], target.workspace)

    // Principal.
    const principal = authenticate(req.rawHeaders, runtime, this.services.identity)
    if (principal instanceof Promise) {
      principal.then(p => { this.afterAuth(s, p) }, err => { this.fail(s, new EdgeError('INTERNAL_ERROR', undefined, { cause: err })) })
      return
    }
    this.afterAuth(s, principal)
  }

  private afterAuth (s: RequestState, principal: Principal | EdgeError): void {
    if (s.done) return
    s.authMs = performance.now() - s.start
    if (principal instanceof EdgeError) return this.fail(s, principal)
    s.principal = principal

    // Access: 403s before 404s. Both decisions read only the principal and the path, so a
    // credential learns nothing about workspaces or models it may not reach.
    const wsName = s.workspaceName ?? ''
    const modelName = s.modelName ?? ''
    const denied = decideWorkspaceAccess(principal, wsName) ?? decideModelAccess(principal, modelName)
    if (denied !== null) return this.fail(s, denied)

    // Model.
    const ws = s.runtime.workspaces.get(wsName)
    if (ws === undefined) return this.fail(s, WORKSPACE_NOT_FOUND)
    s.workspace = ws
    const model = ws.models.get(modelName)
    if (model === undefined) return this.fail(s, WORKLOAD_NOT_FOUND)
    s.model = model
    if (!model.enabled) return this.fail(s, DISABLED)
    const length = contentLength(s.req.headers['content-length'], model.bodyLimit)
    if (length instanceof EdgeError) return this.fail(s, length)
    if (length > 0) s.bytesIn = length

    // Plan.
    const routeStart = performance.now()
    const plan = planRoute(s.runtime, model, s.req.headers['x-agnet-origin'], this.services.routing)
    s.routeMs = performance.now() - routeStart
    if (plan instanceof EdgeError) return this.fail(s, plan)
    s.origin = plan.origin.name
    s.originInfo = plan.origin
    s.route = plan.route
    if (plan.refusal !== null) return this.fail(s, plan.refusal)
    const candidates = plan.candidates
    s.candidates = candidates
    s.totalTimer = setTimeout(onTotalTimeout, model.timeouts.totalMs, s, this)

    // mk3 chat completions are read whole and translated for the provider (src/translate).
    if (model.mk3 !== null && isChatCompletions(s.req.method, s.rest)) {
      return readChatRequest(s.req, s.req.headers['content-length'] === undefined ? -1 : s.bytesIn, model.mk3, s.rest, model.bodyLimit, (result, bytes) => { this.translated(s, result, bytes) })
    }
    // Body: with another deployment to fail over to, it is kept (up to routing.replayBodyLimit)
    // so it can be sent again; otherwise it is streamed unless it came whole. It is settled
    // before admission so the usage stage can read from a body that came whole how long an
    // answer it asks for.
    prepareBody({
      req: s.req,
      length: s.req.headers['content-length'] === undefined ? -1 : s.bytesIn,
      bodyLimit: model.bodyLimit,
      replayBodyLimit: model.routing.replayBodyLimit,
      replayable: candidates.length > 1 && model.routing.maxAttempts > 1
    }, s, this.bodyReady)
  }

  private translated (s: RequestState, result: TranslatedAnswer | TranslationRefusal | EdgeError, bytes: number): void {
    s.bytesIn = bytes
    if (s.done) return
    if (result instanceof EdgeError) return this.fail(s, result)
    if (result instanceof TranslationRefusal) {
      // OpenAI's 400 naming the parameter, not the edge shape: the client speaks OpenAI here.
      const payload = refusalBody(result)
      const out: string[] = ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(payload))]
      decisionHeaders(s, out)
      s.status = 400
      s.bytesOut += Buffer.byteLength(payload)
      s.res.writeHead(400, out)
      s.res.end(payload)
      return this.finish(s, 'refused')
    }
    s.translation = result
    s.body = result.request.body
    this.admit(s)
  }

  private readonly bodyReady = (s: RequestState, body: BodyPlan, bytes: number): void => {
    s.body = body
    if (bytes >= 0) s.bytesIn = bytes
    if (s.done) return
    this.admit(s)
  }

  // Admission: after the body, translated or not, so the usage stage can read the answer
  // length it asks for.
  private admit (s: RequestState): void {
    const model = s.model
    if (model === null) return
    const admission = admitUsage(s.runtime.usage, model, s, this.services.usage)
    if (admission instanceof Promise) {
      admission.then(a => { this.afterAdmission(s, a) }, err => { this.fail(s, new EdgeError('INTERNAL_ERROR', undefined, { cause: err })) })
      return
    }
    this.afterAdmission(s, admission)
  }

  private afterAdmission (s: RequestState, admission: Admission | null): void {
    if (admission instanceof EdgeError) return this.fail(s, admission)
    s.ticket = admission
    // The store answered after a wait and the client left meanwhile: free the reservation now.
    if (s.done) return this.settle(s)
    this.attempt(s)
  }

  // Exchange ----------------------------------------------------------------------------------

  /**
   * Starts the attempt on the next candidate, after the simulated RTT when the network applies
   * it. An injected fault on the deployment decides here, once per attempt, whether the attempt
   * is delayed, refused, reset, stalled or cut; with no fault active this is one null check.
   */
  attempt (s: RequestState): void {
    if (s.done) return
    const dep = s.candidates?.[s.attempts]
    if (dep === undefined) return this.fail(s, NO_CANDIDATE)
    const faults = this.services.faults.table
    if (faults !== null) {
      const list = faults.get(dep.id)
      const plan = list === undefined ? null : planFault(list)
      if (plan !== null) {
        markFaults(s, plan.names)
        const delay = plan.delayMs + (s.runtime.network.applyDelay ? rttTo(s.runtime, s.originInfo, dep) : 0)
        if (delay > 0) setTimeout(dispatchAfterDelay, delay, this, s, dep, plan.action)
        else this.dispatch(s, dep, plan.action)
        return
      }
    }
    if (s.runtime.network.applyDelay) {
      const rtt = rttTo(s.runtime, s.originInfo, dep)
      if (rtt > 0) {
        setTimeout(dispatchAfterDelay, rtt, this, s, dep)
        return
      }
    }
    this.dispatch(s, dep)
  }

  /** The one place an attempt starts; `fault` is what an injected fault makes of it. */
  dispatch (s: RequestState, dep: RtDeployment, fault: FaultAction | null = null): void {
    const model = s.model
    if (s.done || model === null) return
    s.deployment = dep
    s.attempts++
    s.upstreamStart = performance.now()
    s.firstByteMs = -1
    s.exchange = fault === null
      ? dispatchAttempt(s, model, dep, this)
      : dispatchAttempt(s, model, dep, this, new FaultDispatcher(dep.dispatcher, fault, model.timeouts.firstByteMs))
  }

  onUpstreamHeaders (s: RequestState, statusCode: number, headers: Record<string, string | string[] | undefined>): boolean {
    s.firstByteMs = performance.now() - s.upstreamStart
    if (isRefusal(statusCode)) {
      // 5xx/429 before any byte reached the client: charge the deployment (keeping it out for
      // its Retry-After), then try the next candidate, or relay this answer when none is left.
      recordAttempt(this.services.routing, s, false, parseRetryAfter(headers['retry-after'], Date.now()), `HTTP ${statusCode}`)
      if (this.mayFailOver(s, 'refused', false)) {
        s.failure = `HTTP_${statusCode}`
        s.exchange = null
        setImmediate(resumeAttempt, this, s)
        return false
      }
    }
    s.status = statusCode
    if (s.ticket !== null) beginUsage(s.ticket, statusCode, headers)
    return true
  }

  onResponseHead (s: RequestState, out: string[], sse: boolean): void {
    decisionHeaders(s, out)
    if (sse) {
      s.sse = true
      this.services.observeStream?.(s)
    }
  }

  onUpstreamData (s: RequestState, chunk: Buffer): void {
    if (s.ticket !== null) observeChunk(s.ticket, chunk)
  }

  onExchangeEnd (s: RequestState, ex: Exchange<RequestState>, failure: UpstreamFailure | null, midBody: boolean): void {
    s.exchange = null
    s.bytesOut += ex.bytesOut
    s.bytesIn += ex.bodyBytes
    if (failure === null) {
      // A relayed refusal was charged when its headers came.
      if (!isRefusal(s.status)) recordAttempt(this.services.routing, s, true)
      return this.finish(s, 'ok')
    }
    s.failure = failure.code
    if (failure.kind === 'client-abort') return this.finish(s, 'client-abort')
    if (failure.kind !== 'body-too-large') recordAttempt(this.services.routing, s, false)
    if (midBody) {
      // Headers already went out: the client must see a broken stream, never a clean end.
      s.res.destroy(new Error(failure.message))
      return this.finish(s, 'upstream-error-mid-body')
    }
    if ((failure.kind === 'connect' || failure.kind === 'reset') && failure.failover && this.mayFailOver(s, failure.kind, ex.requestSent)) {
      setImmediate(resumeAttempt, this, s)
      return
    }
    const model = s.model
    if (failure.kind === 'reset' && model !== null && mayHaveRun({ method: s.req.method ?? '', requestSent: ex.requestSent, routing: model.routing }, 'reset')) return this.fail(s, MAY_HAVE_RUN)
    this.fail(s, new EdgeError(failure.error ?? 'INTERNAL_ERROR', failure.message))
  }

  private mayFailOver (s: RequestState, kind: FailureKind, requestSent: boolean): boolean {
    const model = s.model
    if (s.done || model === null || s.candidates === null) return false
    return mayFailOver({
      attempts: s.attempts,
      candidates: s.candidates.length,
      routing: model.routing,
      elapsedMs: performance.now() - s.start,
      streamed: s.body === 'stream',
      bodyRead: s.req.readableDidRead,
      method: s.req.method ?? '',
      requestSent
    }, kind)
  }

  // Settlement and endings ---------------------------------------------------------------------

  /** The total timeout ran out while no attempt was in flight. */
  timedOutBetweenAttempts (s: RequestState): void {
    this.fail(s, TOTAL_TIMEOUT_ERROR)
  }

  private fail (s: RequestState, err: EdgeError): void {
    if (s.done) return
    // A body still unread may only be the rest of the packet that brought the head: one turn
    // lets the parser take it, so such a request keeps its connection (closesConnection).
    if (mayAwaitBody(s.req, err.status)) {
      setImmediate(failAfterBody, this, s, err)
      return
    }
    this.answerError(s, err)
  }

  /** Writes the edge error now; the connection ends when the answer says so. */
  answerError (s: RequestState, err: EdgeError): void {
    if (s.done) return
    s.status = err.status
    s.errorCode = err.code
    const extra: string[] = []
    decisionHeaders(s, extra)
    if (closesConnection(s.req, err.status)) {
      extra.push('connection', 'close')
      markClosing(s.req.socket)
    }
    s.bytesOut += sendEdgeError(s.res, err, s.id, extra)
    if (err.cause !== undefined) this.services.logger.error({ reqId: s.id, err: err.cause }, 'internal error on the run plane')
    this.finish(s, 'edge-error')
  }

  private finish (s: RequestState, outcome: string): void {
    if (s.done) return
    s.done = true
    if (s.totalTimer !== null) clearTimeout(s.totalTimer)
    this.settle(s)
    if (s.runtime.server.accessLog) writeAccessLog(this.services.logger, s, outcome)
    this.services.observe?.(s, outcome)
  }

  /** Counts what the request used, once. */
  private settle (s: RequestState): void {
    const ticket = s.ticket
    if (ticket === null) return
    s.ticket = null
    const usage = settleUsage(ticket, s.bytesIn, s.runtime.usage.store.failMode, this.services.usage)
    if (usage !== null) s.usage = usage
  }

  private onClose (s: RequestState): void {
    if (!s.done) {
      // The client went away before the answer ended: cancel the upstream, free its slot.
      if (s.exchange !== null) s.exchange.cancel(CLIENT_ABORT)
      else this.finish(s, 'client-abort')
    }
    this.flight.leave()
  }

  /** Requests in flight now. */
  get inFlight (): number { return this.flight.count }

  /** Resolves when no run-plane request is in flight. */
  async drained (): Promise<void> { await this.flight.drained() }
}

function noop (): void {}

function failAfterBody (plane: RunPlane, s: RequestState, err: EdgeError): void {
  plane.answerError(s, err)
}

function resumeAttempt (plane: RunPlane, s: RequestState): void {
  plane.attempt(s)
}

function dispatchAfterDelay (plane: RunPlane, s: RequestState, dep: RtDeployment, fault: FaultAction | null = null): void {
  plane.dispatch(s, dep, fault)
}

/** Adds the faults that fired on an attempt to the request's list (header, access line). */
function markFaults (s: RequestState, names: readonly string[]): void {
  for (const name of names) {
    if (s.fault === null) s.fault = name
    else if (!s.fault.split(',').includes(name)) s.fault += `,${name}`
  }
}

function onTotalTimeout (s: RequestState, plane: RunPlane): void {
  s.totalTimer = null
  if (s.exchange !== null) s.exchange.cancel(TOTAL_TIMEOUT)
  // No exchange: still reading the body to keep for failover, or between two attempts.
  else plane.timedOutBetweenAttempts(s)
}

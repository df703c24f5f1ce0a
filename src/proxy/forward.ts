// Forwarding one request to one deployment over undici's pool, with a dispatch handler
// written against undici's core handler interface: no Readable per response, no
// stream.pipeline, no per-request closures on the hot path (gateway-lessons §5,
// performance-anchors). Each chunk is written to the client as it arrives, with
// backpressure both ways.
import type { IncomingMessage } from 'node:http'
import type { Dispatcher } from 'undici'
import { EdgeError } from '../errors.js'
import type { RequestContext } from '../run-plane/context.js'
import type { RtDeployment } from '../config/runtime.js'
import { buildResponseHeaders, buildUpstreamHeaders } from './headers.js'
import { upstreamPath } from '../run-plane/target.js'
import { formatMs } from '../observability/format.js'
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.js'

/** Raised when the client goes away: the upstream is cancelled and nothing is answered. */
export class ClientAbortError extends Error {
  readonly code = 'AGNET_CLIENT_ABORT'
  constructor () { super('client closed the connection') }
}

export class TotalTimeoutError extends Error {
  readonly code = 'AGNET_TOTAL_TIMEOUT'
  constructor () { super('total timeout reached') }
}

export class BodyTooLargeError extends Error {
  readonly code = 'AGNET_BODY_TOO_LARGE'
  constructor () { super('request body over the limit') }
}

/** What the run plane does around an exchange; implemented by the handler. */
export interface ExchangeOwner {
  /** Response headers from the upstream (status ≥ 200). Return false to drop this response and fail over instead. */
  onUpstreamHeaders (ctx: RequestContext, statusCode: number, headers: Record<string, string | string[] | undefined>): boolean
  /** An event-stream response is about to start (ctx.sse is set): open-stream gauges. */
  onStreamStart (ctx: RequestContext): void
  /** Every body chunk, before it is written to the client (usage taps). */
  onUpstreamData (ctx: RequestContext, chunk: Buffer): void
  /** The exchange ended: complete, failed before headers (failure set), or failed mid-body. */
  onExchangeEnd (ctx: RequestContext, outcome: 'complete' | 'failed-before-headers' | 'failed-mid-body', failure: UpstreamFailure | null): void
}

/** Counts the bytes of a body sent without Content-Length and stops it at the limit. */
async function * limitedBody (req: IncomingMessage, limit: number, ctx: RequestContext): AsyncGenerator<Buffer> {
  for await (const chunk of req) {
    ctx.bytesIn += (chunk as Buffer).length
    if (ctx.bytesIn > limit) throw new BodyTooLargeError()
    yield chunk as Buffer
  }
}

const EMPTY: Record<string, string | string[] | undefined> = {}

function parseRawHeaders (raw: Buffer[]): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1').toLowerCase()
    const value = (raw[i + 1] as Buffer).toString('latin1')
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (typeof prev === 'string') out[name] = [prev, value]
    else prev.push(value)
  }
  return out
}

/**
 * One attempt against one deployment. Implements undici's core dispatch handler; an
 * instance is created per attempt so its fields keep one shape.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private readonly ctx: RequestContext
  private readonly owner: ExchangeOwner
  private abortFn: ((err?: Error) => void) | null = null
  private resumeFn: (() => void) | null = null
  private started = false
  private ended = false
  private pendingAbort: Error | null = null
  private drainBound: (() => void) | null = null
  private bodyWritten = false

  constructor (ctx: RequestContext, owner: ExchangeOwner) {
    this.ctx = ctx
    this.owner = owner
  }

  /** Cancels the upstream request (client abort, total timeout). */
  cancel (reason: Error): void {
    if (this.ended) return
    if (this.abortFn !== null) this.abortFn(reason)
    else this.pendingAbort = reason
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abortFn = abort
    if (this.pendingAbort !== null) abort(this.pendingAbort)
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true // 1xx informational answers are not relayed
    const ctx = this.ctx
    ctx.firstByteMs = performance.now() - ctx.upstreamStart
    this.resumeFn = resume
    const headers = rawHeaders.length === 0 ? EMPTY : parseRawHeaders(rawHeaders)
    if (!this.owner.onUpstreamHeaders(ctx, statusCode, headers)) {
      // The owner chose to fail over: stop reading this response.
      this.ended = true
      this.abortFn?.(new Error('replaced by failover'))
      return false
    }
    this.started = true
    const res = ctx.res
    const out: string[] = []
    const sse = buildResponseHeaders(headers, out)
    decisionHeaders(ctx, out)
    if (sse) {
      out.push('x-accel-buffering', 'no')
      ctx.sse = true
      this.owner.onStreamStart(ctx)
    }
    try {
      res.writeHead(statusCode, out)
    } catch {
      // An upstream status Node refuses to relay (e.g. 888) is a bad gateway, not a crash.
      this.started = false
      this.ended = true
      this.abortFn?.(new Error('invalid upstream status'))
      this.owner.onExchangeEnd(ctx, 'failed-before-headers', { kind: 'protocol', code: 'INVALID_STATUS', retryable: false, edge: 'UPSTREAM_UNREACHABLE', message: 'the deployment answered an invalid status' })
      return false
    }
    ctx.status = statusCode
    // Event streams must reach the client before their first event, which may be seconds away
    // (long TTFT). When the first event came in the same read as the headers, it is written in
    // this same turn and carries the headers in one packet; otherwise the headers go on their
    // own right after this turn.
    if (sse || headers['content-length'] === undefined) setImmediate(flushHeadersIfIdle, this)
    return true
  }

  /** Sends the response headers if no body byte has carried them yet. */
  flushIfIdle (): void {
    if (!this.bodyWritten && !this.ended && !this.ctx.res.destroyed) this.ctx.res.flushHeaders()
  }

  onData (chunk: Buffer): boolean {
    const ctx = this.ctx
    this.bodyWritten = true
    ctx.bytesOut += chunk.length
    this.owner.onUpstreamData(ctx, chunk)
    if (ctx.res.write(chunk)) return true
    this.drainBound ??= this.onDrain.bind(this)
    ctx.res.once('drain', this.drainBound)
    return false
  }

  private onDrain (): void {
    this.resumeFn?.()
  }

  onComplete (): void {
    if (this.ended) return
    this.ended = true
    this.ctx.res.end()
    this.owner.onExchangeEnd(this.ctx, 'complete', null)
  }

  onError (err: Error): void {
    if (this.ended) return
    this.ended = true
    const failure = classifyUpstreamError(err)
    this.owner.onExchangeEnd(this.ctx, this.started ? 'failed-mid-body' : 'failed-before-headers', failure)
  }
}

function flushHeadersIfIdle (ex: Exchange): void { ex.flushIfIdle() }

const ATTEMPTS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']

/** Decision headers on every run-plane response (SPEC §2.5). */
export function decisionHeaders (ctx: RequestContext, out: string[]): void {
  out.push('x-request-id', ctx.id)
  const dep = ctx.deployment
  if (dep !== null) out.push('x-agnet-region', dep.region.name, 'x-agnet-deployment', dep.name)
  if (ctx.origin !== null) out.push('x-agnet-origin', ctx.origin)
  if (ctx.attempts > 0) out.push('x-agnet-attempts', ATTEMPTS[ctx.attempts] ?? String(ctx.attempts))
  const upstream = ctx.firstByteMs >= 0 ? ctx.firstByteMs : (ctx.upstreamStart > 0 ? performance.now() - ctx.upstreamStart : 0)
  out.push('server-timing', `auth;dur=${formatMs(ctx.authMs)}, route;dur=${formatMs(ctx.routeMs)}, upstream;dur=${formatMs(upstream)}`)
  const extra = ctx.extraHeaders
  if (extra !== null) for (let i = 0; i < extra.length; i++) out.push(extra[i] as string)
}

/** Starts one attempt. The body is the client's stream, or a replay buffer on failover. */
export function dispatchAttempt (ctx: RequestContext, dep: RtDeployment, owner: ExchangeOwner, body: Buffer | 'stream' | null): Exchange {
  const req = ctx.req
  const model = ctx.model
  if (model === null) throw new EdgeError('INTERNAL_ERROR')
  const headers = buildUpstreamHeaders(
    req.rawHeaders, req.headers.connection, dep.setHeaders, dep.defaultHeaders,
    req.socket.remoteAddress ?? '', req.headers.host, ctx.id
  )
  let dispatchBody: Buffer | IncomingMessage | AsyncGenerator<Buffer> | null = null
  if (body === 'stream') {
    if (req.headers['content-length'] !== undefined) dispatchBody = req
    else dispatchBody = limitedBody(req, model.bodyLimit, ctx)
  } else if (body !== null) {
    dispatchBody = body
    // A replayed body was de-chunked when buffered: tell the upstream its length.
    if (req.headers['content-length'] === undefined) headers.push('content-length', String(body.length))
  }
  const exchange = new Exchange(ctx, owner)
  ctx.deployment = dep
  ctx.attempts++
  ctx.upstreamStart = performance.now()
  ctx.firstByteMs = -1
  dep.dispatcher.dispatch({
    method: req.method as Dispatcher.HttpMethod,
    path: upstreamPath(dep.basePath, ctx.rest),
    headers,
    body: dispatchBody as Dispatcher.DispatchOptions['body'],
    headersTimeout: model.timeouts.firstByteMs,
    bodyTimeout: model.timeouts.idleMs,
    // Never let undici replay a request on its own: failover decides (no duplicated work).
    idempotent: false,
    blocking: true
  }, exchange)
  return exchange
}

// Forwarding one request to one deployment over undici's pool, with a dispatch handler
// written against undici's core handler interface: no Readable per response, no
// stream.pipeline, no per-request closures on the hot path. Each chunk is written to the
// client as it arrives, with backpressure both ways.
//
// The forwarder reads what it needs from an AttemptInput and reports to an ExchangeOwner; it
// keeps its own measurements (bytes, whether the answer started) and writes nothing into the
// caller's state. A fault injected per attempt, or a provider translation, wraps this exchange:
// the owner's callbacks are where the answer's head and chunks pass.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import type { RtDeployment, RtModel } from '../core/runtime.js'
import type { AnswerRewriter, UpstreamFailure } from '../core/upstream.js'
import { upstreamPath } from '../core/upstream-path.js'
import { buildResponseHeaders, buildUpstreamHeaders } from './headers.js'
import { AttemptStopped, BODY_TOO_LARGE, INVALID_STATUS, classifyUpstreamError } from './upstream-errors.js'

/** What one attempt sends: the client's request as the run plane parsed it. */
export interface AttemptInput {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The request id, sent upstream as x-request-id. */
  readonly id: string
  /** Sub-path and query after /{ws}/models/{model}. */
  readonly rest: string
  /** A Buffer kept for replay, 'stream' to stream the client's body, null when there is none. */
  readonly body: Buffer | 'stream' | null
  /** An mk3 chat request translated for the provider: what to send instead, and how to read the answer. */
  readonly translation: AnswerRewriter | null
}

/** What the caller does around an exchange; `input` is the AttemptInput the attempt was started with. */
export interface ExchangeOwner<T extends AttemptInput> {
  /** Response headers from the upstream (status ≥ 200). Return false to drop this response and fail over instead. */
  onUpstreamHeaders (input: T, statusCode: number, headers: Record<string, string | string[] | undefined>): boolean
  /** Adds the caller's headers to the response head (flat list); `sse` when an event stream starts. */
  onResponseHead (input: T, out: string[], sse: boolean): void
  /** Every body chunk, before it is written to the client (usage taps). */
  onUpstreamData (input: T, chunk: Buffer): void
  /** The exchange ended: complete (failure null), or failed before the answer started or in its middle (midBody). */
  onExchangeEnd (input: T, exchange: Exchange<T>, failure: UpstreamFailure | null, midBody: boolean): void
}

const EMPTY: Record<string, string | string[] | undefined> = {}

function parseRawHeaders (raw: Buffer[]): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]
    const v = raw[i + 1]
    if (n === undefined || v === undefined) break
    const name = n.toString('latin1').toLowerCase()
    const value = v.toString('latin1')
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
export class Exchange<T extends AttemptInput> implements Dispatcher.DispatchHandler {
  private readonly input: T
  private readonly owner: ExchangeOwner<T>
  private abortFn: ((err?: Error) => void) | null = null
  private resumeFn: (() => void) | null = null
  private started = false
  private ended = false
  private pendingAbort: Error | null = null
  private drainBound: (() => void) | null = null
  private bodyWritten = false
  /** A translated answer read whole: its head, kept until the body is known so it carries its length. */
  private heldHead: string[] | null = null
  private heldStatus = 0
  /** Response body bytes relayed to the client. */
  bytesOut = 0
  /** Request body bytes streamed without a Content-Length (counted against the limit). */
  bodyBytes = 0
  /** The request head and body are all written: from here a replay may duplicate work. */
  requestSent = false

  constructor (input: T, owner: ExchangeOwner<T>) {
    this.input = input
    this.owner = owner
  }

  /** Stops the upstream request for one of agnet's own reasons (client abort, total timeout). */
  cancel (reason: UpstreamFailure): void {
    if (this.ended) return
    const err = new AttemptStopped(reason)
    if (this.abortFn !== null) this.abortFn(err)
    else this.pendingAbort = err
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abortFn = abort
    if (this.pendingAbort !== null) abort(this.pendingAbort)
  }

  onRequestSent (): void {
    this.requestSent = true
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true // 1xx informational answers are not relayed
    const input = this.input
    this.resumeFn = resume
    const headers = rawHeaders.length === 0 ? EMPTY : parseRawHeaders(rawHeaders)
    if (!this.owner.onUpstreamHeaders(input, statusCode, headers)) {
      // The owner chose to fail over: stop reading this response.
      this.ended = true
      this.abortFn?.(new Error('replaced by failover'))
      return false
    }
    const out: string[] = []
    const tx = input.translation
    let sse: boolean
    if (tx === null) sse = buildResponseHeaders(headers, out)
    else {
      const upstream: string[] = []
      sse = tx.begin(statusCode, upstream, buildResponseHeaders(headers, upstream), out)
    }
    this.owner.onResponseHead(input, out, sse)
    if (sse) out.push('x-accel-buffering', 'no')
    else if (tx !== null && tx.whole()) {
      // A translated JSON answer is sent whole once the provider's has ended: its head waits
      // for it, so it goes out with a Content-Length in one write, and an answer that breaks
      // or cannot be translated before then is still a clean error for the client.
      this.heldHead = out
      this.heldStatus = statusCode
      return true
    }
    this.started = true
    if (!this.writeHead(statusCode, out)) return false
    // Event streams must reach the client before their first event, which may be seconds away
    // (long TTFT). When the first event came in the same read as the headers, it is written in
    // this same turn and carries the headers in one packet; otherwise the headers go on their
    // own right after this turn.
    if (sse || (tx === null && headers['content-length'] === undefined)) setImmediate(flushHeadersIfIdle, this)
    return true
  }

  /** Writes the client's head; false (the exchange ended) when Node refuses the status. */
  private writeHead (statusCode: number, out: string[]): boolean {
    try {
      this.input.res.writeHead(statusCode, out)
      return true
    } catch {
      // An upstream status Node refuses to relay (e.g. 888) is a bad gateway, not a crash.
      this.started = false
      this.ended = true
      this.abortFn?.(new Error('invalid upstream status'))
      this.owner.onExchangeEnd(this.input, this, INVALID_STATUS, false)
      return false
    }
  }

  /** Sends the response headers if no body byte has carried them yet. */
  flushIfIdle (): void {
    if (!this.bodyWritten && !this.ended && !this.input.res.destroyed) this.input.res.flushHeaders()
  }

  onData (chunk: Buffer): boolean {
    const input = this.input
    // Usage is metered on the provider's native answer, before any translation.
    this.owner.onUpstreamData(input, chunk)
    let out: Buffer | string = chunk
    if (input.translation !== null) {
      try {
        out = input.translation.data(chunk)
      } catch (err) {
        this.abortFn?.(err instanceof Error ? err : new Error(String(err)))
        return false
      }
      if (out.length === 0) return true
    }
    this.bodyWritten = true
    this.bytesOut += typeof out === 'string' ? Buffer.byteLength(out) : out.length
    let flowing = input.res.write(out)
    if (input.translation !== null && input.translation.holding()) {
      // The stream's first chunk was translated ahead of the rest of the provider's chunk: it
      // goes on the wire now. (Node holds a chunked response's writes until the end of the
      // turn, which would make the first byte wait for the whole chunk's translation.)
      if (input.res.writableCorked > 0) input.res.uncork()
      let rest: string
      try {
        rest = input.translation.rest()
      } catch (err) {
        this.abortFn?.(err instanceof Error ? err : new Error(String(err)))
        return false
      }
      if (rest.length > 0) {
        this.bytesOut += Buffer.byteLength(rest)
        flowing = input.res.write(rest) && flowing
      }
    }
    if (flowing) return true
    this.drainBound ??= this.onDrain.bind(this)
    input.res.once('drain', this.drainBound)
    return false
  }

  private onDrain (): void {
    this.resumeFn?.()
  }

  onComplete (): void {
    if (this.ended) return
    const tx = this.input.translation
    if (tx !== null) {
      let tail: string
      try {
        tail = tx.end()
      } catch (err) {
        return this.onError(err instanceof Error ? err : new Error(String(err)))
      }
      const head = this.heldHead
      if (head !== null) {
        const length = Buffer.byteLength(tail)
        head.push('content-length', String(length))
        this.heldHead = null
        this.started = true
        if (!this.writeHead(this.heldStatus, head)) return
        this.bytesOut += length
        this.ended = true
        // Node writes the head and a string body in one write, encoding it on the way.
        this.input.res.end(tail)
      } else {
        this.bytesOut += Buffer.byteLength(tail)
        this.ended = true
        this.input.res.end(tail)
      }
      this.owner.onExchangeEnd(this.input, this, null, false)
      return
    }
    this.ended = true
    this.input.res.end()
    this.owner.onExchangeEnd(this.input, this, null, false)
  }

  onError (err: Error): void {
    if (this.ended) return
    this.ended = true
    this.owner.onExchangeEnd(this.input, this, classifyUpstreamError(err), this.started)
  }

  /** Counts the bytes of a body sent without Content-Length and stops it at the limit. */
  async * limitedBody (limit: number): AsyncGenerator<Buffer> {
    for await (const chunk of this.input.req) {
      if (!Buffer.isBuffer(chunk)) continue
      this.bodyBytes += chunk.length
      if (this.bodyBytes > limit) throw new AttemptStopped(BODY_TOO_LARGE)
      yield chunk
    }
  }
}

function flushHeadersIfIdle<T extends AttemptInput> (ex: Exchange<T>): void { ex.flushIfIdle() }

/** Where an attempt is dispatched: the deployment's pool, or a wrapper around it (an injected fault). */
export type AttemptDispatcher = Pick<Dispatcher, 'dispatch'>

/**
 * Starts one attempt of `input` on `dep`. The body is the client's stream, or a replay buffer
 * on failover; `via` replaces the deployment's pool when the attempt goes through a fault.
 */
export function dispatchAttempt<T extends AttemptInput> (input: T, model: RtModel, dep: RtDeployment, owner: ExchangeOwner<T>, via: AttemptDispatcher = dep.dispatcher): Exchange<T> {
  const req = input.req
  const body = input.body
  const headers = buildUpstreamHeaders(
    req.rawHeaders, req.headers.connection, dep.setHeaders, dep.defaultHeaders,
    req.socket.remoteAddress ?? '', req.headers.host, input.id, input.translation !== null
  )
  const exchange = new Exchange(input, owner)
  let dispatchBody: Buffer | IncomingMessage | null = null
  let rest = input.rest
  const tx = input.translation
  if (tx !== null) {
    // The translated body replaces the client's: its length, its path, and an answer agnet can read.
    rest = tx.request.rest
    headers.push('content-type', 'application/json', 'content-length', String(tx.request.body.length), 'accept-encoding', 'identity')
    dispatchBody = tx.request.body
  } else if (body === 'stream') {
    if (req.headers['content-length'] !== undefined) dispatchBody = req
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- undici takes any async iterable as a body (it iterates it); its type names only Readable, and wrapping the generator in one would cost a stream per request
    else dispatchBody = exchange.limitedBody(model.bodyLimit) as unknown as IncomingMessage
  } else if (body !== null) {
    dispatchBody = body
    // A replayed body was de-chunked when buffered: tell the upstream its length.
    if (req.headers['content-length'] === undefined) headers.push('content-length', String(body.length))
  }
  via.dispatch({
    // The run plane refused TRACE and CONNECT; every other method token goes through as sent.
    method: req.method ?? 'GET',
    path: upstreamPath(dep.basePath, rest),
    headers,
    body: dispatchBody,
    headersTimeout: model.timeouts.firstByteMs,
    bodyTimeout: model.timeouts.idleMs,
    // Never let undici replay a request on its own: failover decides (no duplicated work).
    idempotent: false,
    blocking: true
  }, exchange)
  return exchange
}

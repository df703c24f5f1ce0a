// Failover: when a request may move to the next allowed deployment, and the request body
// kept so that it can.
//
// The rules:
// - A connect error means nothing reached the upstream: fail over.
// - A 5xx or 429 answered before any byte went to the client is an explicit refusal: fail
//   over (the answer is dropped, the deployment charged a failure, its Retry-After honoured
//   by keeping it out of rotation that long). The last candidate's refusal is relayed as is.
// - A connection reset before the response started moves the request only when it cannot
//   have run: its body was not all sent yet, or its method is idempotent (GET, PUT, DELETE...).
//   A POST or PATCH sent in full may be executing upstream (for an LLM call: paid for, tools
//   called), so, as nginx does by default, it is not sent elsewhere unless the model opts in
//   with routing.retryNonIdempotent; the client gets a 502 with retryable: true and decides.
//   A first-byte or idle timeout is never retried (the upstream may still be working), nor is
//   anything after the response started.
// - All of this needs the body again. Bodies up to routing.replayBodyLimit are read into a
//   Buffer before the first attempt and replayed; a larger body is streamed and only a
//   connect error (the body was never read) may move it.
// - Within routing.maxAttempts attempts and routing.budget since the request arrived, and
//   only among the candidates: the policy-allowed deployments, so never into a forbidden region.
import type { IncomingMessage } from 'node:http'
import type { RtRouting } from '../core/runtime.js'
import { EdgeError } from '../core/errors.js'

export type FailureKind = 'refused' | 'connect' | 'reset'

/** Statuses that mean "this deployment did not do the work, try another". */
export function isRefusal (status: number): boolean {
  return status >= 500 || status === 429
}

/** Where a request stands when an attempt failed. */
export interface FailoverState {
  /** Attempts made so far. */
  readonly attempts: number
  readonly candidates: number
  readonly routing: RtRouting
  /** Milliseconds since the request arrived. */
  readonly elapsedMs: number
  /** The body is streamed (not kept for replay)... */
  readonly streamed: boolean
  /** ...and the upstream already read some of it. */
  readonly bodyRead: boolean
  /** The request method as the client sent it. */
  readonly method: string
  /** The failed attempt's request went out in full (head and body). */
  readonly requestSent: boolean
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])

/** A reset after the request went out in full, on a request that may then have run: not replayed. */
export function mayHaveRun (s: Pick<FailoverState, 'method' | 'requestSent' | 'routing'>, kind: FailureKind): boolean {
  return kind === 'reset' && s.requestSent && !IDEMPOTENT.has(s.method) && !s.routing.retryNonIdempotent
}

/** May the request move to its next candidate after a failure of this kind? */
export function mayFailOver (s: FailoverState, kind: FailureKind): boolean {
  if (s.attempts >= s.routing.maxAttempts || s.attempts >= s.candidates) return false
  if (s.elapsedMs >= s.routing.budgetMs) return false
  if (mayHaveRun(s, kind)) return false
  if (s.streamed) return kind === 'connect' && !s.bodyRead
  return true
}

const BAD_LENGTH = new EdgeError('BAD_REQUEST', 'Content-Length is not a valid number.')

/** The Content-Length of a request (-1 when absent), or the answer when it is no number or over `limit`. */
export function contentLength (header: string | undefined, limit: number): number | EdgeError {
  if (header === undefined) return -1
  const n = Number(header)
  if (!Number.isSafeInteger(n) || n < 0) return BAD_LENGTH
  if (n > limit) return new EdgeError('REQUEST_ENTITY_TOO_LARGE', `The request body is ${n} bytes; this model accepts at most ${limit}.`)
  return n
}

/** How the body travels: a Buffer kept for replay, 'stream', or null when there is none. */
export type BodyPlan = Buffer | 'stream' | null

/** Called once the body plan is settled; `bytes` is the size of a body read whole, else -1. */
export type BodyReady<T> = (token: T, body: BodyPlan, bytes: number) => void

/** What prepareBody needs to know about the request. */
export interface BodyInput {
  readonly req: IncomingMessage
  /** Content-Length when sent, else -1. */
  readonly length: number
  readonly bodyLimit: number
  readonly replayBodyLimit: number
  /** False when there is no other deployment to replay the body to. */
  readonly replayable: boolean
}

const EMPTY = Buffer.alloc(0)

/**
 * Reads a request body of up to `limit` bytes so it can be replayed. A chunked body that turns
 * out larger is put back into the request stream and sent as a stream. With `firstChunkOnly`
 * (nothing to replay to) the body is kept only when its first chunk is all of it, the usual
 * case for an API call whose body came in the packet of its headers: one Buffer is sent with
 * the headers in one write, which costs the proxy less than piping a stream. Otherwise the
 * stream goes on at once, so a slow upload still reaches the upstream as it arrives.
 */
class BodyCollector<T> {
  private readonly req: IncomingMessage
  private readonly contentLength: number
  private readonly limit: number
  private readonly token: T
  private readonly ready: BodyReady<T>
  private readonly chunks: Buffer[] = []
  private size = 0
  private readonly firstChunkOnly: boolean
  private readonly onData: (chunk: Buffer) => void
  private readonly onEnd: () => void

  constructor (input: BodyInput, limit: number, token: T, ready: BodyReady<T>, firstChunkOnly: boolean) {
    this.req = input.req
    this.contentLength = input.length
    this.limit = limit
    this.token = token
    this.ready = ready
    this.firstChunkOnly = firstChunkOnly
    this.onData = this.data.bind(this)
    this.onEnd = this.end.bind(this)
    this.req.on('data', this.onData)
    this.req.once('end', this.onEnd)
  }

  private data (chunk: Buffer): void {
    this.size += chunk.length
    this.chunks.push(chunk)
    if (this.firstChunkOnly) {
      // Content-Length is known here: a first chunk of that size is the whole body.
      if (this.size === this.contentLength) return this.end()
    } else if (this.size <= this.limit) return
    // Too big to keep (or, with firstChunkOnly, still arriving): hand the stream back, with
    // what was read put in front again.
    const req = this.req
    req.pause()
    req.off('data', this.onData)
    req.off('end', this.onEnd)
    req.unshift(Buffer.concat(this.chunks, this.size))
    this.ready(this.token, 'stream', -1)
  }

  private end (): void {
    this.req.off('data', this.onData)
    this.req.off('end', this.onEnd)
    const only = this.chunks.length === 1 ? this.chunks[0] : undefined
    this.ready(this.token, only ?? Buffer.concat(this.chunks, this.size), this.size)
  }
}

/**
 * Decides how the request body travels and calls `ready` once it is settled (at once when
 * there is nothing to read or nothing to fail over to). A body over the model's bodyLimit is
 * left to the forwarder's 413 logic by streaming it.
 */
export function prepareBody<T> (input: BodyInput, token: T, ready: BodyReady<T>): void {
  const req = input.req
  const cl = input.length
  if (cl < 0 && req.headers['transfer-encoding'] === undefined) return ready(token, null, -1)
  if (cl === 0) return ready(token, EMPTY, 0)
  const limit = Math.min(input.replayBodyLimit, input.bodyLimit)
  if (cl > limit) return ready(token, 'stream', -1)
  // With nothing to replay the body to, it is streamed, except when its first chunk is all of
  // it (see BodyCollector).
  if (!input.replayable && cl < 0) return ready(token, 'stream', -1)
  // The collector lives as long as the request stream holds its listeners.
  new BodyCollector(input, limit, token, ready, !input.replayable)
}

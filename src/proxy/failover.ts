// Failover: when a request may move to the next allowed deployment, and the request body
// kept so that it can.
//
// The rules (SPEC §5, gateway-lessons rule 4):
// - A connect error means nothing reached the upstream: fail over.
// - A 5xx or 429 answered before any byte went to the client is an explicit refusal: fail
//   over (the answer is dropped, the deployment charged a failure, its Retry-After honoured
//   by keeping it out of rotation that long). The last candidate's refusal is relayed as is.
// - A connection reset before the response started also moves the request (issue #4): the
//   upstream answered nothing, so the client would otherwise see a 502 for work nobody
//   returned. This is the one case where a deployment that had received the whole body may
//   see it again; a first-byte or idle timeout is never retried (the upstream may still be
//   working), nor is anything after the response started.
// - All of this needs the body again. Bodies up to routing.replayBodyLimit are read into a
//   Buffer before the first attempt and replayed; a larger body is streamed and only a
//   connect error (the body was never read) may move it.
// - Within routing.maxAttempts attempts and routing.budget since the request arrived, and
//   only among ctx.candidates: the policy-allowed deployments, so never into a forbidden region.
import type { RequestContext } from '../run-plane/context.js'

export type FailureKind = 'refused' | 'connect' | 'reset'

/** Statuses that mean "this deployment did not do the work, try another". */
export function isRefusal (status: number): boolean {
  return status >= 500 || status === 429
}

/** May the request move to its next candidate after a failure of this kind? */
export function mayFailOver (ctx: RequestContext, kind: FailureKind): boolean {
  const model = ctx.model
  const candidates = ctx.candidates
  if (model === null || candidates === null || ctx.done) return false
  if (ctx.attempts >= model.routing.maxAttempts || ctx.attempts >= candidates.length) return false
  if (performance.now() - ctx.start >= model.routing.budgetMs) return false
  if (ctx.body === 'stream') return kind === 'connect' && !ctx.req.readableDidRead
  return true
}

export type BodyReady = (ctx: RequestContext) => void

const EMPTY = Buffer.alloc(0)

/**
 * Reads a request body of up to `limit` bytes into ctx.body so it can be replayed. A chunked
 * body that turns out larger is put back into the request stream and sent as a stream.
 * With `firstChunkOnly` (nothing to replay to) the body is kept only when its first chunk is
 * all of it, the usual case for an API call whose body came in the packet of its headers: one
 * Buffer is sent with the headers in one write, which costs the proxy less than piping a
 * stream. Otherwise the stream goes on at once, so a slow upload still reaches the upstream
 * as it arrives.
 */
class BodyCollector {
  private readonly ctx: RequestContext
  private readonly limit: number
  private readonly ready: BodyReady
  private readonly chunks: Buffer[] = []
  private size = 0
  private readonly firstChunkOnly: boolean
  private readonly onData: (chunk: Buffer) => void
  private readonly onEnd: () => void

  constructor (ctx: RequestContext, limit: number, ready: BodyReady, firstChunkOnly: boolean) {
    this.ctx = ctx
    this.limit = limit
    this.ready = ready
    this.firstChunkOnly = firstChunkOnly
    this.onData = this.data.bind(this)
    this.onEnd = this.end.bind(this)
    ctx.req.on('data', this.onData)
    ctx.req.once('end', this.onEnd)
  }

  private data (chunk: Buffer): void {
    this.size += chunk.length
    this.chunks.push(chunk)
    if (this.firstChunkOnly) {
      // Content-Length is known here: a first chunk of that size is the whole body.
      if (this.size === this.ctx.bytesIn) return this.end()
    } else if (this.size <= this.limit) return
    // Too big to keep (or, with firstChunkOnly, still arriving): hand the stream back, with
    // what was read put in front again.
    const req = this.ctx.req
    req.pause()
    req.off('data', this.onData)
    req.off('end', this.onEnd)
    req.unshift(Buffer.concat(this.chunks, this.size))
    this.ctx.body = 'stream'
    this.ready(this.ctx)
  }

  private end (): void {
    this.ctx.req.off('data', this.onData)
    this.ctx.req.off('end', this.onEnd)
    this.ctx.body = this.chunks.length === 1 ? this.chunks[0] as Buffer : Buffer.concat(this.chunks, this.size)
    this.ctx.bytesIn = this.size
    if (this.ctx.done) return
    this.ready(this.ctx)
  }
}

/**
 * Decides how the request body travels and calls `ready` once it is settled (at once when
 * there is nothing to read or nothing to fail over to). A body over the model's bodyLimit is
 * left to the forwarder's 413 logic by streaming it.
 */
export function prepareBody (ctx: RequestContext, ready: BodyReady): void {
  const req = ctx.req
  const model = ctx.model
  if (model === null) return
  const cl = req.headers['content-length']
  if (cl === undefined && req.headers['transfer-encoding'] === undefined) {
    ctx.body = null
    ready(ctx)
    return
  }
  if (cl === '0') {
    ctx.body = EMPTY
    ready(ctx)
    return
  }
  const limit = Math.min(model.routing.replayBodyLimit, model.bodyLimit)
  if (cl !== undefined && ctx.bytesIn > limit) {
    ctx.body = 'stream'
    ready(ctx)
    return
  }
  // With one candidate (or one attempt allowed) there is nothing to replay the body to: it is
  // streamed, except when its first chunk is all of it (see BodyCollector).
  const candidates = ctx.candidates
  const nothingToReplay = candidates === null || candidates.length <= 1 || model.routing.maxAttempts <= 1
  if (nothingToReplay && cl === undefined) {
    ctx.body = 'stream'
    ready(ctx)
    return
  }
  // The collector lives as long as the request stream holds its listeners.
  new BodyCollector(ctx, limit, ready, nothingToReplay)
}

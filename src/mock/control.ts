// Test-only endpoints: request echo (to see what the gateway forwarded) and a
// controlled SSE stream whose events are released one by one by acks, so
// ordering/flush tests never depend on timing.
import { createHash } from 'node:crypto'
import type * as http from 'node:http'
import type { MockContext } from './context.js'

/** True for `/__echo/raw/...` bodies that are streamed back, not buffered. */
export function isRawEcho (method: string, pathname: string): boolean {
  return (method === 'POST' || method === 'PUT' || method === 'PATCH') &&
    (pathname === '/__echo/raw' || pathname.startsWith('/__echo/raw/'))
}

/** Headers exactly as received: lower-case names, repeated names as arrays
 *  (IncomingMessage.headers would silently drop some duplicates). */
function receivedHeaders (req: http.IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase()
    const value = raw[i + 1] ?? ''
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (Array.isArray(prev)) prev.push(value)
    else out[name] = [prev, value]
  }
  return out
}

export function handleEcho (ctx: MockContext): void {
  const { req, res } = ctx
  const method = req.method ?? 'GET'
  if (isRawEcho(method, ctx.url.pathname)) {
    // Stream the body back as it arrives (headers first), byte-for-byte.
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' })
    res.flushHeaders()
    req.pipe(res)
    return
  }
  ctx.sendJson(200, {
    method,
    url: req.url ?? '',
    headers: receivedHeaders(req),
    bodyBytes: ctx.raw.length,
    bodySha256: createHash('sha256').update(ctx.raw).digest('hex')
  })
}

interface ControlledStream {
  res: http.ServerResponse
  total: number
  /** Index of the last event written. */
  last: number
}

function json (res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
  res.end(payload)
}

/**
 * `POST /__sse/controlled?n=N` opens a stream (id in `x-mock-stream-id`) and
 * writes event 0 at once; `POST /__sse/ack?stream=ID&i=K` releases event K+1
 * only if K is the last event written. After event N-1 the stream ends.
 */
export class ControlledSse {
  private nextId = 1
  private readonly streams = new Map<string, ControlledStream>()

  get open (): number {
    return this.streams.size
  }

  handle (req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const path = url.pathname
    if (req.method === 'POST' && path === '/__sse/controlled') this.start(res, url)
    else if (req.method === 'POST' && path === '/__sse/ack') this.ack(res, url)
    else json(res, 404, { error: { message: `Unknown control URL: ${path}`, type: 'invalid_request_error', param: null, code: null } })
    // Bodies are irrelevant here; drain them so keep-alive keeps working.
    req.resume()
  }

  private start (res: http.ServerResponse, url: URL): void {
    const n = Number(url.searchParams.get('n') ?? '5')
    const total = Number.isInteger(n) && n >= 1 ? Math.min(n, 100_000) : 5
    const id = String(this.nextId++)
    const stream: ControlledStream = { res, total, last: -1 }
    this.streams.set(id, stream)
    res.once('close', () => this.streams.delete(id))
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-mock-stream-id': id
    })
    this.send(id, stream)
  }

  private send (id: string, s: ControlledStream): void {
    s.last++
    s.res.write(`id: ${s.last}\ndata: ${JSON.stringify({ i: s.last })}\n\n`)
    if (s.last >= s.total - 1) {
      this.streams.delete(id)
      s.res.end()
    }
  }

  private ack (res: http.ServerResponse, url: URL): void {
    const id = url.searchParams.get('stream') ?? ''
    const i = Number(url.searchParams.get('i'))
    const s = this.streams.get(id)
    if (!s) {
      json(res, 404, { ok: false, error: `no open stream ${id}` })
      return
    }
    if (i !== s.last) {
      // Out-of-order ack: refuse rather than guess, so test bugs surface.
      json(res, 409, { ok: false, error: `expected ack for ${s.last}, got ${String(i)}` })
      return
    }
    this.send(id, s)
    json(res, 200, { ok: true, sent: s.last })
  }

  closeAll (): void {
    for (const s of this.streams.values()) s.res.destroy()
    this.streams.clear()
  }
}

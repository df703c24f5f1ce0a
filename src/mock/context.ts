// Per-request plumbing shared by every mock provider: reply helpers, the
// streaming pump and disconnect-aware timers.
import type * as http from 'node:http'

/** Which provider API a route imitates (also the `x-mock-provider` header). */
export type ProviderKind = 'openai' | 'anthropic' | 'gemini' | 'cohere' | 'base'

/** Behaviour knobs resolved for one request (request headers override options). */
export interface Knobs {
  latencyMs: number
  ttftMs: number
  tokensPerSecond: number
  fail: 'reset-before-headers' | 'reset-mid-stream' | 'hang' | undefined
  omitUsage: boolean
  /** Length of an answer before any max-tokens cut (x-mock-answer-words). */
  answerWords: number
}

/** Live counters shared between the handler and `stats()`. */
export interface MockStats {
  /** Requests received, excluding `/__health` and `/__stats` probes. */
  requests: number
  /** Streams currently being generated (timers armed or writes pending). */
  openStreams: number
  /** Requests whose response has not finished and whose client is still there. */
  inFlight: number
}

/** Provider-shaped error body (plus extra headers, e.g. Anthropic's request-id). */
export type ErrorShaper = (status: number, message: string) => unknown

/** One unit written to a stream. `delta` frames are paced by tokens-per-second. */
export interface Frame {
  data: string
  delta?: boolean
}

/** `event: X\ndata: {json}\n\n`; the event line is skipped when `event` is empty. */
export function sseEvent (event: string, data: unknown): string {
  const json = JSON.stringify(data)
  return event ? `event: ${event}\ndata: ${json}\n\n` : `data: ${json}\n\n`
}

export function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function str (v: unknown, fallback: string): string {
  return typeof v === 'string' && v.length > 0 ? v : fallback
}

interface PendingSleep {
  timer: NodeJS.Timeout
  resolve: (alive: boolean) => void
}

export class MockContext {
  /** Parsed JSON body (always an object; non-object JSON lands in `json`). */
  body: Record<string, unknown> = {}
  json: unknown = undefined
  raw: Buffer = Buffer.alloc(0)
  /** True once the response finished or the client went away. */
  closed = false
  private readonly pending = new Set<PendingSleep>()

  constructor (
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    readonly url: URL,
    readonly provider: ProviderKind,
    readonly region: string,
    readonly seq: number,
    readonly knobs: Knobs,
    private readonly stats: MockStats,
    private readonly shapeError: ErrorShaper
  ) {
    // 'close' fires both after a normal finish and when the socket dies early;
    // either way nothing more may be written, so cancel all pending timers.
    res.once('close', () => {
      this.closed = true
      for (const p of this.pending) {
        clearTimeout(p.timer)
        p.resolve(false)
      }
      this.pending.clear()
    })
  }

  /** Request model or a provider default, echoed back like real APIs do. */
  model (fallback: string): string {
    return str(this.body['model'], fallback)
  }

  /** Resolves true after `ms`, or false as soon as the client disconnects. */
  sleep (ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false)
    if (!(ms > 0)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const entry: PendingSleep = {
        timer: setTimeout(() => {
          this.pending.delete(entry)
          resolve(!this.closed)
        }, ms),
        resolve
      }
      this.pending.add(entry)
    })
  }

  /** Kill the TCP connection without (further) answer. */
  destroySocket (): void {
    this.req.socket.destroy()
  }

  sendJson (status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
    if (this.closed) return
    const payload = Buffer.from(JSON.stringify(body))
    this.res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': payload.length,
      ...headers
    })
    if (this.knobs.fail === 'reset-mid-stream') {
      // Non-streaming variant of a mid-response failure: half a body, then reset.
      this.res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => this.destroySocket())
      return
    }
    this.res.end(payload)
  }

  sendError (status: number, message: string): void {
    const headers: http.OutgoingHttpHeaders = status === 429 ? { 'retry-after': '1' } : {}
    this.sendJson(status, this.shapeError(status, message), headers)
  }

  notFound (): void {
    this.sendError(404, `Unknown request URL: ${this.req.method ?? 'GET'} ${this.url.pathname}`)
  }

  /**
   * Writes `frames` one `res.write` each (so every event is flushed as its
   * own chunk), waiting ttft before the first and 1000/tps ms between delta
   * frames. Stops, clearing its timer, the moment the client disconnects.
   */
  async stream (frames: readonly Frame[], contentType = 'text/event-stream'): Promise<void> {
    if (this.closed) return
    const { res, knobs } = this
    this.stats.openStreams++
    try {
      res.writeHead(200, {
        'content-type': contentType,
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no'
      })
      // Send headers now: TTFT is measured from here by clients and tests.
      res.flushHeaders()
      if (!(await this.sleep(knobs.ttftMs))) return
      const interval = knobs.tokensPerSecond > 0 ? 1000 / knobs.tokensPerSecond : 0
      let deltas = 0
      let sent = 0
      for (const frame of frames) {
        if (frame.delta && deltas++ > 0 && interval > 0) {
          if (!(await this.sleep(interval))) return
        }
        if (this.closed) return
        if (knobs.fail === 'reset-mid-stream' && sent === 1) {
          // Second event goes out, then the socket dies once it is flushed.
          res.write(frame.data, () => this.destroySocket())
          return
        }
        sent++
        if (!res.write(frame.data)) {
          if (!(await this.drained())) return
        }
      }
      if (knobs.fail === 'reset-mid-stream') this.destroySocket()
      else res.end()
    } finally {
      this.stats.openStreams--
    }
  }

  /** Resolves true on 'drain', false if the response closes first. */
  private drained (): Promise<boolean> {
    if (this.closed) return Promise.resolve(false)
    return new Promise((resolve) => {
      const onDrain = (): void => {
        this.res.off('close', onClose)
        resolve(true)
      }
      const onClose = (): void => {
        this.res.off('drain', onDrain)
        resolve(false)
      }
      this.res.once('drain', onDrain)
      this.res.once('close', onClose)
    })
  }
}

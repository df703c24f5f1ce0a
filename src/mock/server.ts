// Mock LLM upstream: one node:http server per simulated region, serving every
// provider API by path, with knobs (latency, TTFT, pacing, injected errors,
// socket failures) settable per server or per request via headers.
import * as http from 'node:http'
import { anthropicError, handleAnthropic } from './anthropic.js'
import { baseError, handleBase } from './base.js'
import { cohereError, handleCohere } from './cohere.js'
import {
  type ErrorShaper, type Knobs, MockContext, type MockStats, type ProviderKind, isRecord
} from './context.js'
import { ControlledSse, handleEcho, isRawEcho } from './control.js'
import { geminiError, handleGemini } from './gemini.js'
import { handleOpenAI, openaiError } from './openai.js'
import { MAX_BODY_BYTES, parseJson, parseUrl, readBody, sendSmallJson } from './request.js'
import { DEFAULT_OUTPUT_WORDS, MAX_OUTPUT_WORDS, mulberry32 } from './text.js'

export type { MockStats, ProviderKind } from './context.js'

export interface MockOptions {
  region: string
  /** `x-mock-name` header value; defaults to `mock-<region>`. */
  name?: string
  /** Delay before response headers. */
  latencyMs?: number
  /** Delay between response headers and the first streamed event. */
  ttftMs?: number
  /** Streamed deltas per second; 0 (default) = no pacing. */
  tokensPerSecond?: number
  /** Probability (0..1) of answering 500. */
  errorRate?: number
  /** Probability (0..1) of answering 429 with retry-after: 1. */
  rateLimitRate?: number
  /** Words in an answer before any max-tokens cut (default DEFAULT_OUTPUT_WORDS). */
  answerWords?: number
  /** Seed for the error/429 dice, for reproducible runs. */
  seed?: number
}

export interface MockServer {
  url: string
  port: number
  region: string
  close(): Promise<void>
  stats(): MockStats
}

export type MockHandler = ((req: http.IncomingMessage, res: http.ServerResponse) => void) & {
  stats(): MockStats
  /** Drops controlled SSE streams (used on shutdown). */
  closeAll(): void
  /** Resolves once no request is in flight (every response closed). */
  whenIdle(): Promise<void>
}

export { MAX_BODY_BYTES }

const SHAPERS: Record<ProviderKind, ErrorShaper> = {
  openai: openaiError,
  anthropic: anthropicError,
  gemini: geminiError,
  cohere: cohereError,
  base: baseError
}

const ROUTES: Record<ProviderKind, (ctx: MockContext) => Promise<void> | void> = {
  openai: handleOpenAI,
  anthropic: handleAnthropic,
  gemini: handleGemini,
  cohere: handleCohere,
  base: handleBase
}

/** Which API a path belongs to; decides the route table and error shape. */
export function providerForPath (pathname: string): ProviderKind {
  if (pathname === '/v1/messages' || pathname.startsWith('/v1/messages/')) return 'anthropic'
  if (pathname.startsWith('/v1beta/') || pathname.startsWith('/v1alpha/')) return 'gemini'
  // Gemini's stable v1 shares /v1/models with OpenAI; the ':action' tells them apart.
  if (/^\/v1\/models\/[^/]+(:|%3A)/i.test(pathname)) return 'gemini'
  if (pathname.startsWith('/v2/') || pathname === '/v1/chat' || pathname === '/v1/chat/') return 'cohere'
  if (pathname === '/' || pathname.startsWith('/__')) return 'base'
  return 'openai'
}

function header (req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function num (req: http.IncomingMessage, name: string, fallback: number): number {
  const v = header(req, name)
  if (v === undefined || v.trim() === '') return fallback
  const n = Number(v)
  return Number.isFinite(n) && n >= 0 ? n : fallback
}

const FAIL_MODES = ['reset-before-headers', 'reset-mid-stream', 'hang'] as const

function resolveKnobs (req: http.IncomingMessage, opts: MockOptions): Knobs {
  const asked = header(req, 'x-mock-fail')?.trim().toLowerCase()
  return {
    latencyMs: num(req, 'x-mock-latency-ms', opts.latencyMs ?? 0),
    ttftMs: num(req, 'x-mock-ttft-ms', opts.ttftMs ?? 0),
    tokensPerSecond: num(req, 'x-mock-tps', opts.tokensPerSecond ?? 0),
    fail: FAIL_MODES.find(m => m === asked),
    omitUsage: header(req, 'x-mock-stream-usage')?.trim().toLowerCase() === 'omit',
    answerWords: Math.min(Math.max(1, Math.floor(num(req, 'x-mock-answer-words', opts.answerWords ?? DEFAULT_OUTPUT_WORDS))), MAX_OUTPUT_WORDS)
  }
}

export function createMockHandler (opts: MockOptions): MockHandler {
  const region = opts.region
  const name = opts.name ?? `mock-${region}`
  const counters: MockStats = { requests: 0, openStreams: 0, inFlight: 0 }
  const random = opts.seed !== undefined ? mulberry32(opts.seed) : Math.random
  const controlled = new ControlledSse()
  let idleWaiters: Array<() => void> = []
  const requestClosed = (): void => {
    counters.inFlight--
    if (counters.inFlight === 0) {
      const waiters = idleWaiters
      idleWaiters = []
      for (const w of waiters) w()
    }
  }

  const run = async (ctx: MockContext): Promise<void> => {
    const { req } = ctx
    const method = req.method ?? 'GET'
    const rawEcho = isRawEcho(method, ctx.url.pathname)
    if (!rawEcho) {
      const raw = await readBody(req)
      if (raw === null) return
      if (raw === 'too-large') {
        ctx.sendError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`)
        return
      }
      ctx.raw = raw
    }
    if (!(await ctx.sleep(ctx.knobs.latencyMs))) return

    if (ctx.knobs.fail === 'reset-before-headers') {
      ctx.destroySocket()
      return
    }
    // Never answer; the MockContext 'close' hook cleans up when the client leaves.
    if (ctx.knobs.fail === 'hang') return

    const forced = Math.floor(num(req, 'x-mock-status', 0))
    if (forced >= 200 && forced <= 599) {
      ctx.sendError(forced, `Mock injected status ${forced} ${http.STATUS_CODES[forced] ?? ''}`.trim())
      return
    }
    const rate429 = num(req, 'x-mock-429-rate', opts.rateLimitRate ?? 0)
    if (rate429 > 0 && random() < rate429) {
      ctx.sendError(429, 'Mock injected rate limit, please retry after 1s')
      return
    }
    const errorRate = num(req, 'x-mock-error-rate', opts.errorRate ?? 0)
    if (errorRate > 0 && random() < errorRate) {
      ctx.sendError(500, 'Mock injected internal server error')
      return
    }

    if (ctx.url.pathname.startsWith('/__echo')) {
      handleEcho(ctx)
      return
    }
    const parsed = parseJson(ctx.raw)
    if (!parsed.ok) {
      ctx.sendError(400, `Invalid JSON body: ${parsed.error}`)
      return
    }
    ctx.json = parsed.value
    ctx.body = isRecord(parsed.value) ? parsed.value : {}

    await ROUTES[ctx.provider](ctx)
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = parseUrl(req.url ?? '/')
    const provider = url ? providerForPath(url.pathname) : 'base'
    res.setHeader('x-mock-region', region)
    res.setHeader('x-mock-provider', provider)
    res.setHeader('x-mock-name', name)
    if (!url) {
      sendSmallJson(res, 400, baseError(400, `Malformed request target: ${req.url ?? ''}`))
      return
    }

    // Probes are answered immediately, unaffected by knobs and not counted,
    // so health checks never skew per-test request counts.
    if (url.pathname === '/__health') {
      req.resume()
      sendSmallJson(res, 200, { ok: true, region, name })
      return
    }
    if (url.pathname === '/__stats') {
      req.resume()
      sendSmallJson(res, 200, { ...counters })
      return
    }
    counters.requests++
    if (url.pathname.startsWith('/__sse/')) {
      controlled.handle(req, res, url)
      return
    }

    counters.inFlight++
    res.once('close', requestClosed)
    const ctx = new MockContext(
      req, res, url, provider, region, counters.requests, resolveKnobs(req, opts), counters, SHAPERS[provider]
    )
    run(ctx).catch((err: unknown) => {
      // A bug in the mock must surface as a 500, never crash the test process.
      if (!res.headersSent) ctx.sendError(500, `mock failure: ${err instanceof Error ? err.message : String(err)}`)
      else res.destroy()
    })
  }

  return Object.assign(handler, {
    stats: (): MockStats => ({ ...counters }),
    closeAll: (): void => controlled.closeAll(),
    whenIdle: (): Promise<void> =>
      counters.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))
  })
}

export async function startMockServer (opts: MockOptions & { port?: number; host?: string }): Promise<MockServer> {
  const handler = createMockHandler(opts)
  const server = http.createServer({ keepAliveTimeout: 65_000, noDelay: true }, handler)
  server.keepAliveTimeout = 65_000
  // Must exceed keepAliveTimeout or idle keep-alive sockets race the header timer.
  server.headersTimeout = 66_000
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('mock upstream: listening, but not on a TCP port')
  const { port } = address
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${urlHost}:${port}`,
    port,
    region: opts.region,
    stats: handler.stats,
    close (): Promise<void> {
      closing ??= (async () => {
        handler.closeAll()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        // Keep-alive, hanging and streaming sockets would otherwise hold close() open.
        server.closeAllConnections()
        // Wait for per-request cleanup too, so stats read after close() are final.
        await Promise.all([closed, handler.whenIdle()])
      })()
      return closing
    }
  }
}

// Access lines for everything Fastify serves: the control plane (/v0, /api), the token
// issuer (/oauth/token, discovery, JWKS) and the edge answers outside the run plane (unknown
// paths, the root redirect). Same shape as the run plane's lines, plus `plane`, `path` and,
// for token requests, `grantType`. Names and numbers only: no header value, no body, no
// credential; the query string is never logged (a token may ride in it).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Principal } from '../core/identity.js'
import { requestIdFor } from '../core/request-id.js'
import { streamOf } from './logger.js'
import { formatMs } from './format.js'

/** Probes, scrapes and static files: logging them would drown the lines that matter. */
const QUIET = /^\/(?:healthz|readyz|metrics|favicon\.ico)(?:[/?]|$)|^\/playground(?:[/?]|$)/
const CONTROL = /^\/(?:v0|api)(?:[/?]|$)|^\/(?:oauth|\.well-known)\//
const TOKEN = /\/oauth\/token(?:\?|$)/
/** Grant types are URNs or snake_case words; anything else is logged as "other". */
const GRANT = /^[A-Za-z0-9_.:/-]{1,100}$/
const ERROR_NAME = /^[A-Za-z0-9_ .-]{1,64}$/
const MAX_PATH = 256

interface Pending { id: string; error: string | null }

function json (v: string | null): string { return v === null ? 'null' : JSON.stringify(v) }

function grantTypeOf (req: FastifyRequest): string | null {
  const body = req.body
  if (body === null || typeof body !== 'object') return null
  const g = 'grant_type' in body ? body.grant_type : undefined
  if (typeof g !== 'string') return null
  return GRANT.test(g) ? g : 'other'
}

/** The `error` name of a JSON error body (OAuth's invalid_grant, the control plane's Not Found). */
function errorNameOf (payload: unknown): string | null {
  if (typeof payload !== 'string' || payload.length > 4096 || payload[0] !== '{') return null
  try {
    const body: unknown = JSON.parse(payload)
    if (typeof body !== 'object' || body === null || !('error' in body)) return null
    const e = body.error
    if (typeof e === 'string') return ERROR_NAME.test(e) ? e : null
    if (e !== null && typeof e === 'object' && 'code' in e && typeof e.code === 'string') return ERROR_NAME.test(e.code) ? e.code : null
  } catch {}
  return null
}

/** Who a control-plane request was answered for, once the plane's preHandler named it. */
export interface ControlCaller {
  readonly principal: Principal
  readonly workspaceName: string | null
}

/** The caller of a request, or null when none was named (outside the control plane, refused early). */
export type CallerOf = (req: FastifyRequest) => ControlCaller | null

export function writeControlAccessLine (logger: Logger, req: FastifyRequest, reply: FastifyReply, pending: Pending, caller: ControlCaller | null): void {
  if (!logger.isLevelEnabled('info')) return
  const path = (req.url.split('?')[0] ?? '').slice(0, MAX_PATH)
  const p = caller === null ? null : caller.principal
  const status = reply.statusCode
  const headerId = reply.getHeader('x-request-id')
  const id = typeof headerId === 'string' ? headerId : pending.id
  const errorHeader = reply.getHeader('x-blaxel-error-code')
  const code = typeof errorHeader === 'string' ? errorHeader : status >= 400 ? pending.error : null
  const outcome = !reply.raw.writableFinished ? 'client-abort' : status >= 400 ? 'error' : 'ok'
  const length = Number(reply.getHeader('content-length') ?? 0)
  const bytesIn = Number(req.headers['content-length'] ?? 0)
  const line = `{"level":30,"time":"${new Date().toISOString()}","service":"agnet","msg":"request","reqId":${json(id)}` +
    `,"plane":"${CONTROL.test(req.url) ? 'control' : 'edge'}","method":${json(req.method)},"path":${json(path)}` +
    `,"workspace":${json(caller === null ? null : caller.workspaceName)},"model":null` +
    `,"principal":${p === null ? 'null' : JSON.stringify(p.subject)},"credential":${p === null ? 'null' : JSON.stringify(p.credential)}` +
    (TOKEN.test(req.url) ? `,"grantType":${json(grantTypeOf(req))}` : '') +
    ',"origin":null,"region":null,"deployment":null,"attempts":0' +
    `,"status":${status},"outcome":"${outcome}","code":${json(code)},"failure":null` +
    `,"bytesIn":${Number.isSafeInteger(bytesIn) ? bytesIn : 0},"bytesOut":${Number.isSafeInteger(length) ? length : 0},"tokens":null` +
    `,"ms":{"total":${formatMs(reply.elapsedTime)},"auth":null,"route":null,"firstByte":null}}\n`
  streamOf(logger).write(line)
}

/**
 * Hooks on the root instance, so every route registered after it (and the 404 handler) is
 * covered. `enabled` is read per request: server.accessLog follows reloads.
 */
export function registerControlAccessLog (fastify: FastifyInstance, logger: Logger, enabled: () => boolean, callerOf: CallerOf): void {
  const pending = new WeakMap<FastifyRequest, Pending>()
  fastify.addHook('onRequest', async (req, reply) => {
    if (QUIET.test(req.url)) return
    const id = requestIdFor(req.headers['x-request-id'])
    // Stages that name the request themselves (the control plane's preHandler) override this.
    void reply.header('x-request-id', id)
    pending.set(req, { id, error: null })
  })
  fastify.addHook('onSend', async (req, reply, payload) => {
    const p = pending.get(req)
    if (p !== undefined && reply.statusCode >= 400) p.error = errorNameOf(payload)
    return payload
  })
  fastify.addHook('onResponse', async (req, reply) => {
    const p = pending.get(req)
    if (p === undefined || !enabled()) return
    writeControlAccessLine(logger, req, reply, p, callerOf(req))
  })
}

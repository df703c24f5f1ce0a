// One renderer per wire shape for a catalogue error:
// - edge: Blaxel's edge shape, on the run plane, at the HTTP parser and for unknown paths;
// - control plane: {"code":404,"error":"Not Found","message":"..."};
// - OpenAI-compatible: {"error":{"message","type","param","code"}}, for answers a client of an
//   OpenAI-style API must be able to parse (translated models).
import type { ServerResponse } from 'node:http'
import type { EdgeError, EdgeErrorCode } from './errors.js'

export interface EdgeErrorBody {
  error: {
    code: EdgeErrorCode
    message: string
    status: number
    retryable: boolean
    origin: 'platform'
    action: string
    do_not: string
    docs_url: string
    request_id: string
    timestamp: string
  }
}

export function edgeErrorBody (err: EdgeError, requestId: string, now = new Date()): EdgeErrorBody {
  const entry = err.entry
  return {
    error: {
      code: err.code,
      message: err.message,
      status: err.status,
      retryable: err.retryable,
      origin: 'platform',
      action: entry.action,
      do_not: entry.doNot,
      docs_url: entry.docsUrl,
      request_id: requestId,
      timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z')
    }
  }
}

/** The challenge a 401 carries, or null. */
function wwwAuthenticate (err: EdgeError): string | null {
  if (err.status !== 401) return null
  return err.code === 'AUTHENTICATION_FAILED' ? 'Bearer error="invalid_token"' : 'Bearer'
}

/** Headers of an edge error answer, besides content-type and content-length. */
export function edgeErrorHeaders (err: EdgeError, requestId: string): Record<string, string> {
  const out: Record<string, string> = {
    'cache-control': 'no-store',
    'x-blaxel-source': 'platform',
    'x-blaxel-error-code': err.code,
    'x-request-id': requestId
  }
  const challenge = wwwAuthenticate(err)
  if (challenge !== null) out['www-authenticate'] = challenge
  if (err.headers !== null) for (const k in err.headers) out[k] = err.headers[k] ?? ''
  return out
}

/**
 * Writes an edge error on a raw response. `extra` holds decision headers (request id,
 * Server-Timing) that every run-plane answer carries, as a flat [name, value, ...] list.
 * When the headers already went out, the response is destroyed instead (a broken answer).
 * Returns the body bytes written, for the access line.
 */
export function sendEdgeError (res: ServerResponse, err: EdgeError, requestId: string, extra?: readonly string[]): number {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return 0
  }
  const body = JSON.stringify(edgeErrorBody(err, requestId))
  const length = Buffer.byteLength(body)
  res.statusCode = err.status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('content-length', length)
  const headers = edgeErrorHeaders(err, requestId)
  for (const k in headers) res.setHeader(k, headers[k] ?? '')
  if (extra !== undefined) for (let i = 0; i + 1 < extra.length; i += 2) res.setHeader(extra[i] ?? '', extra[i + 1] ?? '')
  res.end(body)
  return length
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 417: 'Expectation Failed', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout'
}

export function reasonPhrase (status: number): string {
  return REASONS[status] ?? 'Error'
}

/**
 * An edge error as the whole raw HTTP/1.1 answer, for the parser level where there is no
 * response object, only the socket. The connection is closed: its framing cannot be trusted.
 */
export function rawEdgeErrorResponse (err: EdgeError, requestId: string): string {
  const body = JSON.stringify(edgeErrorBody(err, requestId))
  let head = `HTTP/1.1 ${err.status} ${reasonPhrase(err.status)}\r\ncontent-type: application/json\r\n`
  const headers = edgeErrorHeaders(err, requestId)
  for (const k in headers) head += `${k}: ${headers[k] ?? ''}\r\n`
  return `${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
}

/** The control-plane error shape. */
export interface ControlPlaneErrorBody { code: number; error: string; message: string }

export function controlPlaneErrorBody (err: EdgeError): ControlPlaneErrorBody {
  return { code: err.status, error: err.entry.controlPlaneError ?? reasonPhrase(err.status), message: err.message }
}

/** Headers of a control-plane error answer. */
export function controlPlaneErrorHeaders (err: EdgeError, requestId: string): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': requestId, 'cache-control': 'no-store' }
  if (err.headers !== null) for (const k in err.headers) out[k] = err.headers[k] ?? ''
  const challenge = wwwAuthenticate(err)
  if (challenge !== null) out['www-authenticate'] = challenge
  return out
}

/** OpenAI's error shape. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

/** OpenAI's error `type` for a status, as its own API answers them. */
export function openAiErrorType (status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 429) return 'rate_limit_error'
  return status >= 500 ? 'server_error' : 'invalid_request_error'
}

/** OpenAI's error body; translated models answer provider errors and refusals in it. */
export function openAiError (message: string, type: string, param: string | null, code: string | null): OpenAiErrorBody {
  return { error: { message, type, param, code } }
}

export function openAiErrorBody (err: EdgeError): OpenAiErrorBody {
  return openAiError(err.message, openAiErrorType(err.status), err.param, err.code.toLowerCase())
}

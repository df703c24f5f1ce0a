// The catalogue of errors agnet itself produces, in Blaxel's edge shape (SPEC §3). One place
// decides code, status, retryability and the message; one renderer writes them. Messages
// say what was wrong and what to do; they never carry a credential, a file path or a stack.
import type { ServerResponse } from 'node:http'

export type EdgeErrorCode =
  | 'BAD_REQUEST'
  | 'AUTHENTICATION_REQUIRED'
  | 'AUTHENTICATION_FAILED'
  | 'FORBIDDEN'
  | 'WORKSPACE_NOT_FOUND'
  | 'WORKLOAD_NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'WORKLOAD_UNAVAILABLE'
  | 'POLICY_VIOLATION'
  | 'REQUEST_ENTITY_TOO_LARGE'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'METHOD_NOT_ALLOWED'
  | 'INTERNAL_ERROR'

interface CatalogueEntry { status: number; retryable: boolean; message: string }

export const CATALOGUE: Readonly<Record<EdgeErrorCode, CatalogueEntry>> = Object.freeze({
  BAD_REQUEST: { status: 400, retryable: false, message: 'The request is malformed.' },
  AUTHENTICATION_REQUIRED: { status: 401, retryable: false, message: 'No credential was sent. Send "X-Blaxel-Authorization: Bearer <token>" or "Authorization: Bearer <token>".' },
  AUTHENTICATION_FAILED: { status: 401, retryable: false, message: 'The credential is not valid: unknown, expired, revoked or badly signed.' },
  FORBIDDEN: { status: 403, retryable: false, message: 'The credential is valid but has no access to this workspace or model.' },
  WORKSPACE_NOT_FOUND: { status: 404, retryable: false, message: 'No such workspace.' },
  WORKLOAD_NOT_FOUND: { status: 404, retryable: false, message: 'No such model in this workspace.' },
  ROUTE_NOT_FOUND: { status: 404, retryable: false, message: 'This path does not lead to a workload. Use /{workspace}/models/{model}[/sub-path].' },
  WORKLOAD_UNAVAILABLE: { status: 404, retryable: true, message: 'The model exists but no deployment can serve it right now. Retry later.' },
  POLICY_VIOLATION: { status: 403, retryable: false, message: 'A policy of this model refuses the request.' },
  REQUEST_ENTITY_TOO_LARGE: { status: 413, retryable: false, message: 'The request body is larger than the limit.' },
  UPSTREAM_UNREACHABLE: { status: 502, retryable: true, message: 'The model deployment could not be reached.' },
  UPSTREAM_TIMEOUT: { status: 504, retryable: true, message: 'The model deployment did not answer in time.' },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, message: 'This method is not allowed here.' },
  INTERNAL_ERROR: { status: 500, retryable: true, message: 'agnet failed to handle the request.' }
})

/** An error agnet answers itself. `cause` is for the log only and never reaches the client. */
export class EdgeError extends Error {
  readonly code: EdgeErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly headers: Readonly<Record<string, string>> | null
  override readonly cause: unknown

  constructor (code: EdgeErrorCode, message?: string, opts?: { status?: number; retryable?: boolean; headers?: Record<string, string>; cause?: unknown }) {
    const entry = CATALOGUE[code]
    super(message ?? entry.message)
    this.code = code
    this.status = opts?.status ?? entry.status
    this.retryable = opts?.retryable ?? entry.retryable
    this.headers = opts?.headers ?? null
    this.cause = opts?.cause
  }
}

export interface EdgeErrorBody {
  error: {
    code: EdgeErrorCode
    message: string
    status: number
    retryable: boolean
    origin: 'platform'
    request_id: string
    timestamp: string
  }
}

export function edgeErrorBody (err: EdgeError, requestId: string, now = new Date()): EdgeErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      status: err.status,
      retryable: err.retryable,
      origin: 'platform',
      request_id: requestId,
      timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z')
    }
  }
}

/**
 * Writes an edge error on a raw response. `extra` holds decision headers (request id,
 * Server-Timing) that every run-plane answer carries, as a flat [name, value, ...] list.
 * When the headers already went out, the response is destroyed instead (a broken answer).
 */
export function sendEdgeError (res: ServerResponse, err: EdgeError, requestId: string, extra?: readonly string[]): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const body = JSON.stringify(edgeErrorBody(err, requestId))
  res.statusCode = err.status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('content-length', Buffer.byteLength(body))
  res.setHeader('cache-control', 'no-store')
  res.setHeader('x-blaxel-source', 'platform')
  res.setHeader('x-blaxel-error-code', err.code)
  res.setHeader('x-request-id', requestId)
  if (err.status === 401) res.setHeader('www-authenticate', err.code === 'AUTHENTICATION_FAILED' ? 'Bearer error="invalid_token"' : 'Bearer')
  if (err.headers !== null) for (const k in err.headers) res.setHeader(k, err.headers[k] as string)
  if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) res.setHeader(extra[i] as string, extra[i + 1] as string)
  res.end(body)
}

/** The control-plane error shape: {"code":404,"error":"Not Found","message":"..."}. */
export interface ControlPlaneErrorBody { code: number; error: string; message: string }

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable'
}

export function controlPlaneErrorBody (status: number, message: string): ControlPlaneErrorBody {
  return { code: status, error: REASONS[status] ?? 'Error', message }
}

// Transport errors → what agnet answers and whether another deployment may be tried. The
// cause is kept for the log only (gateway-lessons §5.10: dual-stack AggregateErrors, codes).
import type { EdgeErrorCode } from '../errors.js'

export interface UpstreamFailure {
  /** connect: nothing reached the upstream; reset: the connection broke; timeout; protocol; local: agnet's own reasons. */
  kind: 'connect' | 'reset' | 'timeout' | 'protocol' | 'client-abort' | 'body-too-large' | 'total-timeout'
  code: string
  /** May another deployment be tried without risk of doing the work twice? */
  retryable: boolean
  edge: EdgeErrorCode
  message: string
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ECONNABORTED'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE'])

function codeOf (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return codeOf(err.errors[0])
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' ? code : 'UNKNOWN'
}

export function classifyUpstreamError (err: unknown): UpstreamFailure {
  const code = codeOf(err)
  if (code === 'AGNET_CLIENT_ABORT') return { kind: 'client-abort', code, retryable: false, edge: 'BAD_REQUEST', message: 'client closed the connection' }
  if (code === 'AGNET_BODY_TOO_LARGE') return { kind: 'body-too-large', code, retryable: false, edge: 'REQUEST_ENTITY_TOO_LARGE', message: 'The request body is larger than the limit.' }
  if (code === 'AGNET_TOTAL_TIMEOUT') return { kind: 'total-timeout', code, retryable: false, edge: 'UPSTREAM_TIMEOUT', message: 'The model deployment did not finish within the total timeout.' }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'connect', code, retryable: true, edge: 'UPSTREAM_TIMEOUT', message: 'Connecting to the model deployment timed out.' }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout', code, retryable: false, edge: 'UPSTREAM_TIMEOUT', message: 'The model deployment did not start answering within the first-byte timeout.' }
  if (code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'timeout', code, retryable: false, edge: 'UPSTREAM_TIMEOUT', message: 'The model deployment went silent for longer than the idle timeout.' }
  if (CONNECT_CODES.has(code)) return { kind: 'connect', code, retryable: true, edge: 'UPSTREAM_UNREACHABLE', message: 'The model deployment refused the connection.' }
  if (RESET_CODES.has(code)) return { kind: 'reset', code, retryable: true, edge: 'UPSTREAM_UNREACHABLE', message: 'The connection to the model deployment broke before it answered.' }
  return { kind: 'protocol', code, retryable: false, edge: 'UPSTREAM_UNREACHABLE', message: 'The model deployment answered something agnet could not relay.' }
}

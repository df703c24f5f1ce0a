// Transport errors → typed failures: what agnet answers and whether another deployment may be
// tried. The transport's code is kept for the log and metrics only. Connect errors may come as
// an AggregateError (one per address of a dual-stack host): the first one's code decides.
import type { UpstreamFailure } from '../core/upstream.js'

/** agnet's own reason to stop an attempt (client gone, total timeout, body over the limit). */
export class AttemptStopped extends Error {
  readonly failure: UpstreamFailure
  constructor (failure: UpstreamFailure) {
    super(failure.message)
    this.failure = failure
  }
}

export const CLIENT_ABORT: UpstreamFailure = Object.freeze({ kind: 'client-abort', code: 'AGNET_CLIENT_ABORT', failover: false, error: null, message: 'client closed the connection' })
export const BODY_TOO_LARGE: UpstreamFailure = Object.freeze({ kind: 'body-too-large', code: 'AGNET_BODY_TOO_LARGE', failover: false, error: 'REQUEST_ENTITY_TOO_LARGE', message: 'The request body is larger than the limit.' })
export const TOTAL_TIMEOUT: UpstreamFailure = Object.freeze({ kind: 'total-timeout', code: 'AGNET_TOTAL_TIMEOUT', failover: false, error: 'UPSTREAM_TIMEOUT', message: 'The model deployment did not finish within the total timeout.' })
export const INVALID_STATUS: UpstreamFailure = Object.freeze({ kind: 'protocol', code: 'INVALID_STATUS', failover: false, error: 'UPSTREAM_PROTOCOL', message: 'the deployment answered an invalid status' })

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ECONNABORTED'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE'])

function codeOf (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return codeOf(err.errors[0])
  if (typeof err !== 'object' || err === null || !('code' in err)) return 'UNKNOWN'
  return typeof err.code === 'string' ? err.code : 'UNKNOWN'
}

export function classifyUpstreamError (err: unknown): UpstreamFailure {
  if (err instanceof AttemptStopped) return err.failure
  const code = codeOf(err)
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'connect', code, failover: true, error: 'UPSTREAM_CONNECT_TIMEOUT', message: 'Connecting to the model deployment timed out.' }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout', code, failover: false, error: 'UPSTREAM_TIMEOUT', message: 'The model deployment did not start answering within the first-byte timeout.' }
  if (code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'timeout', code, failover: false, error: 'UPSTREAM_TIMEOUT', message: 'The model deployment went silent for longer than the idle timeout.' }
  if (CONNECT_CODES.has(code)) return { kind: 'connect', code, failover: true, error: 'UPSTREAM_REFUSED', message: 'The model deployment refused the connection.' }
  if (RESET_CODES.has(code)) return { kind: 'reset', code, failover: true, error: 'UPSTREAM_RESET', message: 'The connection to the model deployment broke before it answered.' }
  return { kind: 'protocol', code, failover: false, error: 'UPSTREAM_PROTOCOL', message: 'The model deployment answered something agnet could not relay.' }
}

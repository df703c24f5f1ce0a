// The catalogue of every error agnet answers itself, on the run plane, the control plane and at
// the HTTP parser. One entry per answer: the code on the wire, the status, whether a client may
// retry, the default message, and the agent-readable next step (`action`), what not to do
// (`doNot`) and the page that explains it (`docsUrl`), as Blaxel's edge errors carry them.
// A call site picks an entry and may say more in the message; it never changes the status or
// retryability. A new status is a new entry. Renderers (render-error.ts) write an entry in
// each wire shape. Messages never carry a credential, a file path or a stack.

/** Codes on the wire (the `code` of an edge error body and the X-Blaxel-Error-Code header). */
export type EdgeErrorCode =
  | 'BAD_REQUEST'
  | 'AUTHENTICATION_REQUIRED'
  | 'AUTHENTICATION_FAILED'
  | 'FORBIDDEN'
  | 'WORKSPACE_NOT_FOUND'
  | 'WORKLOAD_NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'RESOURCE_NOT_FOUND'
  | 'WORKLOAD_UNAVAILABLE'
  | 'POLICY_VIOLATION'
  | 'REQUEST_ENTITY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'INTERNAL_ERROR'

export interface CatalogueEntry {
  readonly code: EdgeErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly message: string
  /** The next step, written for an agent reading the body. */
  readonly action: string
  readonly doNot: string
  readonly docsUrl: string
  /** The control plane's `error` field when it is not the status's reason phrase. */
  readonly controlPlaneError?: string
}

const DOCS = 'https://docs.blaxel.ai'
const ERRORS_PAGE = `${DOCS}/troubleshooting/error-codes`
const TOKENS_PAGE = `${DOCS}/Security/Access-tokens`
const POLICIES_PAGE = `${DOCS}/Model-Governance/Policies`
const MODELS_PAGE = `${DOCS}/Models/Overview`
const NETWORK_PAGE = `${DOCS}/Infrastructure/Global-Inference-Network`
const API_PAGE = `${DOCS}/api-reference/introduction`

const NOT_RETRYABLE = 'Do not retry the same request unchanged.'
const UPSTREAM_ACTION = 'Retry with backoff; agnet already tried every deployment the policies allow that it could. If it persists, check the deployment named in x-agnet-deployment.'
const UPSTREAM_DO_NOT = 'Do not retry in a tight loop, and do not call the provider directly to get around the gateway.'

/** Every answer agnet gives itself, by the name call sites use. */
export const CATALOGUE = Object.freeze({
  BAD_REQUEST: {
    code: 'BAD_REQUEST', status: 400, retryable: false, message: 'The request is malformed.',
    action: 'Fix the request as the message says, then send it again.', doNot: NOT_RETRYABLE, docsUrl: ERRORS_PAGE
  },
  BAD_FRAMING: {
    code: 'BAD_REQUEST', status: 400, retryable: false, message: 'The request framing is invalid.',
    action: 'Send one well-formed HTTP/1.1 request: one Content-Length or chunked Transfer-Encoding, never both.', doNot: 'Do not reuse this connection; it is closed.', docsUrl: ERRORS_PAGE
  },
  HEADERS_TOO_LARGE: {
    code: 'BAD_REQUEST', status: 431, retryable: false, message: 'Request headers are too large.',
    action: 'Send fewer or smaller headers.', doNot: 'Do not reuse this connection; it is closed.', docsUrl: ERRORS_PAGE
  },
  REQUEST_TIMEOUT: {
    code: 'BAD_REQUEST', status: 408, retryable: true, message: 'The request did not arrive in time.',
    action: 'Send the whole request at once, or faster.', doNot: 'Do not reuse this connection; it is closed.', docsUrl: ERRORS_PAGE
  },
  EXPECTATION_FAILED: {
    code: 'BAD_REQUEST', status: 417, retryable: false, message: 'Only "Expect: 100-continue" is supported.',
    action: 'Send the request without the Expect header, or with "Expect: 100-continue".', doNot: NOT_RETRYABLE, docsUrl: ERRORS_PAGE
  },
  AUTHENTICATION_REQUIRED: {
    code: 'AUTHENTICATION_REQUIRED', status: 401, retryable: false, message: 'No credential was sent. Send "X-Blaxel-Authorization: Bearer <token>" or "Authorization: Bearer <token>".',
    action: 'Send an API key or access token as "Authorization: Bearer <token>" (or X-Blaxel-Authorization).', doNot: 'Do not retry without a credential.', docsUrl: TOKENS_PAGE
  },
  AUTHENTICATION_FAILED: {
    code: 'AUTHENTICATION_FAILED', status: 401, retryable: false, message: 'The credential is not valid: unknown, expired, revoked or badly signed.',
    action: 'Get a new API key or access token (an access token lives 2 hours) and send it.', doNot: 'Do not retry with the same credential.', docsUrl: TOKENS_PAGE
  },
  FORBIDDEN: {
    code: 'FORBIDDEN', status: 403, retryable: false, message: 'The credential is valid but has no access to this workspace or model.',
    action: 'Use a credential of this workspace, or ask an admin for access to it.', doNot: 'Do not retry with this credential, and do not guess other workspace names.', docsUrl: TOKENS_PAGE
  },
  WORKSPACE_NOT_FOUND: {
    code: 'WORKSPACE_NOT_FOUND', status: 404, retryable: false, message: 'No such workspace.',
    action: 'Check the workspace name in the path; list yours with GET /v0/workspaces.', doNot: 'Do not retry, and do not guess workspace names.', docsUrl: ERRORS_PAGE
  },
  WORKLOAD_NOT_FOUND: {
    code: 'WORKLOAD_NOT_FOUND', status: 404, retryable: false, message: 'No such model in this workspace.',
    action: 'Check the model name; list the models of the workspace with GET /v0/models and use metadata.url.', doNot: 'Do not retry, and do not build model URLs by hand.', docsUrl: MODELS_PAGE
  },
  ROUTE_NOT_FOUND: {
    code: 'ROUTE_NOT_FOUND', status: 404, retryable: false, message: 'This path does not lead to a workload. Use /{workspace}/models/{model}[/sub-path].',
    action: 'Stop. Call a model as /{workspace}/models/{model}[/sub-path]; take the URL from the model\'s metadata.url.', doNot: 'Do not retry, and do not guess URLs.', docsUrl: ERRORS_PAGE
  },
  RESOURCE_NOT_FOUND: {
    code: 'RESOURCE_NOT_FOUND', status: 404, retryable: false, message: 'No such resource in this workspace.',
    action: 'List the resources of the workspace and use a name from the list.', doNot: 'Do not retry, and do not guess names.', docsUrl: API_PAGE
  },
  INVALID_API_VERSION: {
    code: 'BAD_REQUEST', status: 400, retryable: false, message: 'Unknown API version.', controlPlaneError: 'invalid_api_version',
    action: 'Send Blaxel-Version as a date, or omit the header.', doNot: NOT_RETRYABLE, docsUrl: API_PAGE
  },
  WORKLOAD_UNAVAILABLE: {
    code: 'WORKLOAD_UNAVAILABLE', status: 404, retryable: true, message: 'The model exists but no deployment can serve it right now. Retry later.',
    action: 'Retry later with backoff, after Retry-After when it is sent.', doNot: 'Do not retry in a tight loop.', docsUrl: NETWORK_PAGE
  },
  MODEL_DISABLED: {
    code: 'WORKLOAD_UNAVAILABLE', status: 404, retryable: false, message: 'The model is disabled.',
    action: 'Enable the model (spec.enabled: true) or call another one.', doNot: 'Do not retry; a disabled model accepts no request.', docsUrl: MODELS_PAGE
  },
  USAGE_STORE_UNREACHABLE: {
    code: 'WORKLOAD_UNAVAILABLE', status: 503, retryable: true, message: 'The token-usage counters of this model cannot be reached, so the request is refused. Retry shortly.',
    action: 'Retry after Retry-After.', doNot: 'Do not retry in a tight loop.', docsUrl: POLICIES_PAGE
  },
  POLICY_VIOLATION: {
    code: 'POLICY_VIOLATION', status: 403, retryable: false, message: 'A policy of this model refuses the request.',
    action: 'Stop. No region allowed by the model\'s location and flavor policies can serve it; change the policies or call another model.', doNot: 'Do not retry; the policies decide the same way every time.', docsUrl: POLICIES_PAGE
  },
  TOKEN_LIMIT_EXHAUSTED: {
    code: 'POLICY_VIOLATION', status: 429, retryable: false, message: 'A token-usage policy of this model is exhausted for the current window.',
    action: 'Wait until the window resets (Retry-After, in seconds), or ask for a higher maxTokens limit.', doNot: 'Do not retry before Retry-After; every request until then is refused.', docsUrl: POLICIES_PAGE
  },
  REQUEST_ENTITY_TOO_LARGE: {
    code: 'REQUEST_ENTITY_TOO_LARGE', status: 413, retryable: false, message: 'The request body is larger than the limit.',
    action: 'Send a smaller body.', doNot: 'Do not retry the same body.', docsUrl: ERRORS_PAGE
  },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, retryable: false, message: 'This content type is not accepted here.',
    action: 'Send the body as application/json.', doNot: NOT_RETRYABLE, docsUrl: API_PAGE
  },
  METHOD_NOT_ALLOWED: {
    code: 'METHOD_NOT_ALLOWED', status: 405, retryable: false, message: 'This method is not allowed here.',
    action: 'Use another method; TRACE and CONNECT are never forwarded.', doNot: NOT_RETRYABLE, docsUrl: ERRORS_PAGE
  },
  UPSTREAM_REFUSED: {
    code: 'UPSTREAM_UNREACHABLE', status: 502, retryable: true, message: 'The model deployment refused the connection.',
    action: UPSTREAM_ACTION, doNot: UPSTREAM_DO_NOT, docsUrl: NETWORK_PAGE
  },
  UPSTREAM_RESET: {
    code: 'UPSTREAM_UNREACHABLE', status: 502, retryable: true, message: 'The connection to the model deployment broke before it answered.',
    action: UPSTREAM_ACTION, doNot: UPSTREAM_DO_NOT, docsUrl: NETWORK_PAGE
  },
  UPSTREAM_MAY_HAVE_RUN: {
    code: 'UPSTREAM_UNREACHABLE', status: 502, retryable: true, message: 'The connection to the model deployment broke after the whole request was sent: it may have run there, so it was not sent to another deployment. Retry if doing it twice is safe.',
    action: 'Retry only if running the request twice is acceptable (a second call may be billed again or repeat tool calls); otherwise check whether the first one took effect.', doNot: 'Do not retry blindly a request with side effects.', docsUrl: NETWORK_PAGE
  },
  UPSTREAM_PROTOCOL: {
    code: 'UPSTREAM_UNREACHABLE', status: 502, retryable: true, message: 'The model deployment answered something agnet could not relay.',
    action: UPSTREAM_ACTION, doNot: UPSTREAM_DO_NOT, docsUrl: NETWORK_PAGE
  },
  UPSTREAM_CONNECT_TIMEOUT: {
    code: 'UPSTREAM_TIMEOUT', status: 504, retryable: true, message: 'Connecting to the model deployment timed out.',
    action: UPSTREAM_ACTION, doNot: UPSTREAM_DO_NOT, docsUrl: NETWORK_PAGE
  },
  UPSTREAM_TIMEOUT: {
    code: 'UPSTREAM_TIMEOUT', status: 504, retryable: true, message: 'The model deployment did not answer in time.',
    action: 'Retry later, with a smaller request or a longer timeout on the model (spec.timeouts) if it is legitimately slow.', doNot: 'Do not retry at once; the deployment may still be working on the first request.', docsUrl: NETWORK_PAGE
  },
  FAULT_DECLARED_IN_CONFIG: {
    code: 'CONFLICT', status: 409, retryable: false, message: 'This network fault is declared in the config (network.faults).',
    action: 'Change or remove the fault in the config file and reload it.', doNot: NOT_RETRYABLE, docsUrl: NETWORK_PAGE
  },
  INTERNAL_ERROR: {
    code: 'INTERNAL_ERROR', status: 500, retryable: true, message: 'agnet failed to handle the request.',
    action: 'Retry once; if it fails again, report it with the request_id.', doNot: 'Do not retry in a loop.', docsUrl: ERRORS_PAGE
  }
} satisfies Record<string, CatalogueEntry>)

/** The name of a catalogue entry. */
export type ErrorId = keyof typeof CATALOGUE

export interface EdgeErrorOptions {
  /** Headers the answer carries besides the renderer's own (Retry-After, RateLimit, ...). */
  headers?: Readonly<Record<string, string>>
  /** For the log only; never reaches the client. */
  cause?: unknown
  /** The request field at fault, for the OpenAI-compatible shape's `param`. */
  param?: string
}

/** An error agnet answers itself: a catalogue entry, with a message that may say more. */
export class EdgeError extends Error {
  readonly id: ErrorId
  readonly entry: CatalogueEntry
  readonly code: EdgeErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly headers: Readonly<Record<string, string>> | null
  readonly param: string | null
  override readonly cause: unknown

  constructor (id: ErrorId, message?: string, opts?: EdgeErrorOptions) {
    const entry: CatalogueEntry = CATALOGUE[id]
    super(message ?? entry.message)
    this.id = id
    this.entry = entry
    this.code = entry.code
    this.status = entry.status
    this.retryable = entry.retryable
    this.headers = opts?.headers ?? null
    this.param = opts?.param ?? null
    this.cause = opts?.cause
  }
}

/**
 * The entry for an error status another layer decided (Fastify's body parser, a framework
 * 404): the nearest entry of the catalogue, so the answer still comes from it.
 */
export function errorIdForStatus (status: number): ErrorId {
  if (status === 404) return 'ROUTE_NOT_FOUND'
  if (status === 405) return 'METHOD_NOT_ALLOWED'
  if (status === 413) return 'REQUEST_ENTITY_TOO_LARGE'
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE'
  if (status === 431) return 'HEADERS_TOO_LARGE'
  if (status >= 400 && status < 500) return 'BAD_REQUEST'
  return 'INTERNAL_ERROR'
}

// The per-request context that flows one way through the stages. Every field starts with a
// value of its final type (null for "not yet") so all contexts share one hidden class.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Runtime, RtDeployment, RtModel, RtWorkspace } from '../config/runtime.js'
import type { Principal } from '../auth/types.js'
import type { EdgeErrorCode } from '../errors.js'
import type { Exchange } from '../proxy/forward.js'
import type { UsageTicket } from '../usage/gate.js'
import type { ModelRoute, OriginInfo } from '../routing/types.js'

export interface TokenUsage {
  input: number
  output: number
  total: number
  /** True when counted from the content because the provider reported nothing. */
  estimated: boolean
}

let counter = 0
const PREFIX = Math.floor(Math.random() * 0xffffffff).toString(36).padStart(7, '0')
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** A request id: the client's when it is short and safe, else process prefix + counter. */
export function requestIdFor (header: string | string[] | undefined): string {
  if (typeof header === 'string' && CLIENT_ID.test(header)) return header
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${PREFIX}-${counter.toString(36)}`
}

export class RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly runtime: Runtime
  readonly id: string
  readonly start: number
  workspaceName: string | null = null
  modelName: string | null = null
  rest = ''
  workspace: RtWorkspace | null = null
  model: RtModel | null = null
  principal: Principal | null = null
  /** X-Blaxel-Workspace when it names another workspace than the path: ignored for routing, logged ("(invalid)" when it is no workspace name). */
  claimedWorkspace: string | null = null
  origin: string | null = null
  /** The resolved origin (its RTT row), set by the routing stage. */
  originInfo: OriginInfo | null = null
  /** The model's routing table in this request's runtime snapshot. */
  route: ModelRoute | null = null
  candidates: readonly RtDeployment[] | null = null
  /**
   * The request body as failover sees it: a Buffer kept for replay, 'stream' when it is
   * larger than routing.replayBodyLimit (never replayed once read), null when there is none.
   */
  body: Buffer | 'stream' | null = null
  deployment: RtDeployment | null = null
  attempts = 0
  /** Milliseconds spent per stage, for Server-Timing and the access log. */
  authMs = 0
  routeMs = 0
  upstreamStart = 0
  firstByteMs = -1
  status = 0
  errorCode: EdgeErrorCode | null = null
  bytesIn = 0
  bytesOut = 0
  usage: TokenUsage | null = null
  /** Headers any stage wants on the response (rate-limit state, routing notes): flat [name, value, ...]. */
  extraHeaders: string[] | null = null
  /** The attempt in flight, to cancel it on client abort or total timeout. */
  exchange: Exchange | null = null
  totalTimer: NodeJS.Timeout | null = null
  /** Set by the usage stage when response chunks must be observed. */
  usageTap = false
  /** What the usage stage reserved at admission and meters until settlement. */
  usageTicket: UsageTicket | null = null
  /** Code of the last upstream failure, for the log. */
  failure: string | null = null
  /** True once an event-stream response started (open-stream gauge, stream-aware stages). */
  sse = false
  done = false

  constructor (req: IncomingMessage, res: ServerResponse, runtime: Runtime, id: string, start: number) {
    this.req = req
    this.res = res
    this.runtime = runtime
    this.id = id
    this.start = start
  }

  addHeader (name: string, value: string): void {
    (this.extraHeaders ??= []).push(name, value)
  }
}

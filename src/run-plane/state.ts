// The state of one run-plane request. Private to the run plane: only handler.ts writes it. The
// stages get what they need as arguments; the forwarder, the routing statistics and the
// observers read it through the narrow interfaces they declare (AttemptInput, AttemptReport,
// RequestRecord), which this class satisfies. Every field starts with a value of its final
// type (null for "not yet") so all states share one hidden class.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Runtime, RtDeployment, RtModel, RtWorkspace } from '../core/runtime.js'
import type { Principal } from '../core/identity.js'
import type { EdgeErrorCode } from '../core/errors.js'
import type { ModelRoute, OriginInfo } from '../core/runtime.js'
import type { TokenUsage } from '../core/usage.js'
import type { RequestRecord } from '../core/request-record.js'
import type { AttemptInput, Exchange } from '../proxy/forward.js'
import type { AttemptReport } from '../routing/plan.js'
import type { BodyPlan } from '../proxy/failover.js'
import type { UsageTicket } from '../usage/gate.js'
import type { TranslatedAnswer } from '../translate/answer.js'

export class RequestState implements RequestRecord, AttemptInput, AttemptReport {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The runtime snapshot the request started on; it finishes on it. */
  readonly runtime: Runtime
  readonly id: string
  readonly start: number
  // target
  workspaceName: string | null = null
  modelName: string | null = null
  rest = ''
  claimedWorkspace: string | null = null
  // principal, model
  principal: Principal | null = null
  workspace: RtWorkspace | null = null
  model: RtModel | null = null
  // plan
  origin: string | null = null
  originInfo: OriginInfo | null = null
  route: ModelRoute | null = null
  candidates: readonly RtDeployment[] | null = null
  // admission
  ticket: UsageTicket | null = null
  // exchange
  body: BodyPlan = null
  /** An mk3 chat request translated for its provider: the native request and the answer's translation. */
  translation: TranslatedAnswer | null = null
  deployment: RtDeployment | null = null
  attempts = 0
  exchange: Exchange<RequestState> | null = null
  totalTimer: NodeJS.Timeout | null = null
  upstreamStart = 0
  firstByteMs = -1
  sse = false
  // settlement and log
  status = 0
  errorCode: EdgeErrorCode | null = null
  /** Code of the last upstream failure. */
  failure: string | null = null
  /** Names of the network faults injected into this request (comma-separated). */
  fault: string | null = null
  bytesIn = 0
  bytesOut = 0
  usage: TokenUsage | null = null
  /** Milliseconds spent per stage, for Server-Timing and the access log. */
  authMs = 0
  routeMs = 0
  done = false

  constructor (req: IncomingMessage, res: ServerResponse, runtime: Runtime, id: string, start: number) {
    this.req = req
    this.res = res
    this.runtime = runtime
    this.id = id
    this.start = start
  }
}

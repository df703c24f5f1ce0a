// A finished (or finishing) run-plane request as the observers see it: the access log, the
// metrics and tests. Read-only: only the run plane's handler writes the state behind it.
import type { IncomingMessage } from 'node:http'
import type { RtDeployment, RtModel, RtWorkspace } from './runtime.js'
import type { Principal } from './identity.js'
import type { EdgeErrorCode } from './errors.js'
import type { TokenUsage } from './usage.js'

export interface RequestRecord {
  readonly id: string
  readonly req: IncomingMessage
  /** performance.now() when the request arrived. */
  readonly start: number
  /** From the path, once it parsed; null before. */
  readonly workspaceName: string | null
  readonly modelName: string | null
  /** X-Blaxel-Workspace when it names another workspace than the path ("(invalid)" when it is no name). */
  readonly claimedWorkspace: string | null
  readonly workspace: RtWorkspace | null
  readonly model: RtModel | null
  readonly principal: Principal | null
  /** The caller's origin (region or country) the routing used. */
  readonly origin: string | null
  /** The deployment of the last attempt. */
  readonly deployment: RtDeployment | null
  readonly attempts: number
  /** The status sent to the client; 0 when none was. */
  readonly status: number
  readonly errorCode: EdgeErrorCode | null
  /** Code of the last upstream failure. */
  readonly failure: string | null
  /** Names of the network faults injected into this request (comma-separated). */
  readonly fault: string | null
  readonly bytesIn: number
  readonly bytesOut: number
  readonly usage: TokenUsage | null
  /** Milliseconds spent per stage; firstByteMs is -1 until an upstream answered. */
  readonly authMs: number
  readonly routeMs: number
  readonly firstByteMs: number
  /** True once an event-stream response started. */
  readonly sse: boolean
}

/** Sees every finished run-plane request with how it ended. */
export type RequestObserver = (record: RequestRecord, outcome: string) => void

// What the run plane is built with: the logger, the services each stage keeps across requests
// (verified tokens, routing statistics, usage counters, injected faults), and the observers of finished requests.
import type { Logger } from 'pino'
import type { RequestObserver, RequestRecord } from '../core/request-record.js'
import type { IdentityServices } from '../auth/authenticate.js'
import type { RoutingServices } from '../routing/plan.js'
import type { UsageServices } from '../usage/services.js'
import type { FaultServices } from '../faults/registry.js'

export interface RunPlaneServices {
  readonly logger: Logger
  readonly identity: IdentityServices
  readonly routing: RoutingServices
  readonly usage: UsageServices
  /** Injected network faults: its table is null when none is active. */
  readonly faults: FaultServices
  /** Observes every finished request (metrics). */
  readonly observe: RequestObserver | null
  /** Sees every event-stream response start; `observe` sees it end (record.sse). */
  readonly observeStream: ((record: RequestRecord) => void) | null
}

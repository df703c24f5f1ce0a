// The headers every run-plane answer carries, success or error: the request id, where it was
// served (region, deployment, origin, attempts, injected faults), the time per stage (Server-Timing), and what
// the admission decided (RateLimit, dry-run note).
import { formatMs } from '../observability/format.js'
import type { RequestState } from './state.js'

const ATTEMPTS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']

/** Appends the decision headers of `s` to a flat [name, value, ...] list. */
export function decisionHeaders (s: RequestState, out: string[]): void {
  out.push('x-request-id', s.id)
  const dep = s.deployment
  if (dep !== null) out.push('x-agnet-region', dep.region.name, 'x-agnet-deployment', dep.name)
  if (s.origin !== null) out.push('x-agnet-origin', s.origin)
  if (s.attempts > 0) out.push('x-agnet-attempts', ATTEMPTS[s.attempts] ?? String(s.attempts))
  if (s.fault !== null) out.push('x-agnet-fault', s.fault)
  const upstream = s.firstByteMs >= 0 ? s.firstByteMs : (s.upstreamStart > 0 ? performance.now() - s.upstreamStart : 0)
  out.push('server-timing', `auth;dur=${formatMs(s.authMs)}, route;dur=${formatMs(s.routeMs)}, upstream;dur=${formatMs(upstream)}`)
  const extra = s.ticket?.headers
  if (extra !== undefined) for (let i = 0; i < extra.length; i++) out.push(extra[i] ?? '')
}

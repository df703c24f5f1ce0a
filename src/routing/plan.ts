// Stage: which deployments, in which order. Sets ctx.origin and ctx.candidates.
import { EdgeError } from '../errors.js'
import type { RequestContext } from '../run-plane/context.js'

export class RoutingServices {
  close (): void {}
}

const NO_DEPLOYMENT = new EdgeError('WORKLOAD_UNAVAILABLE')

export function planRoute (ctx: RequestContext, _services: RoutingServices): EdgeError | null {
  const model = ctx.model
  if (model === null || model.deployments.length === 0) return NO_DEPLOYMENT
  ctx.origin = ctx.runtime.network.defaultOrigin
  ctx.candidates = model.deployments.slice(0, 1)
  return null
}

/** Called when an attempt ends, so health and latency statistics can learn. */
export function recordAttempt (_services: RoutingServices, _ctx: RequestContext, _ok: boolean): void {}

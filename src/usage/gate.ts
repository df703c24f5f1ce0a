// Stage: token-usage admission and settlement.
import type { EdgeError } from '../errors.js'
import type { RequestContext } from '../run-plane/context.js'

export class UsageServices {
  async close (): Promise<void> {}
}

/** Admits or refuses a request of a limited model. null = admitted. */
export function admitUsage (_ctx: RequestContext, _services: UsageServices): EdgeError | null | Promise<EdgeError | null> {
  return null
}

/** Sees every response chunk of a limited model (no byte is held back). */
export function observeChunk (_ctx: RequestContext, _services: UsageServices, _chunk: Buffer): void {}

/** Counts what the request used, once, when it ends (complete, failed or aborted). */
export function settleUsage (_ctx: RequestContext, _services: UsageServices): void {}

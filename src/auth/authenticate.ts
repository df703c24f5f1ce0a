// Stage: who is calling. Reads the credential carriers and resolves a principal.
import type { RequestContext } from '../run-plane/context.js'
import type { Principal } from './types.js'
import type { EdgeError } from '../errors.js'

/** The principal of an open run plane (no credential configured at all). */
export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', subject: 'anonymous', credential: 'none', workspaces: null, scopes: null })

export class IdentityServices {
  close (): void {}
}

export function authenticate (ctx: RequestContext, _services: IdentityServices): Principal | EdgeError | Promise<Principal | EdgeError> {
  if (!ctx.runtime.identity.required) return ANONYMOUS
  return ANONYMOUS
}

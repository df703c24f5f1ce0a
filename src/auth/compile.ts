// Compiles the identity part of the config into lookup tables.
import type { ConfigInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import type { IdentityRuntime } from './types.js'

export function compileIdentity (input: ConfigInput, _ctx: CompileContext): IdentityRuntime {
  const anyKey = (input.users ?? []).some(u => (u.apiKeys ?? []).length > 0) ||
    input.workspaces.some(w => (w.serviceAccounts ?? []).length > 0) ||
    (input.auth?.external ?? []).length > 0
  return Object.freeze({ required: anyKey })
}

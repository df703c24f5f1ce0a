// Compiles the token-usage part of the config.
import type { ConfigInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import type { UsageRuntime } from './types.js'

export function compileUsage (input: ConfigInput, _ctx: CompileContext): UsageRuntime {
  const limited = new Set<string>()
  for (const ws of input.workspaces) {
    const maxTokenPolicies = new Set((ws.policies ?? []).filter(p => p.type === 'maxToken').map(p => p.name))
    for (const m of ws.models ?? []) if ((m.policies ?? []).some(p => maxTokenPolicies.has(p))) limited.add(`${ws.name}/${m.name}`)
  }
  return Object.freeze({ limitedModels: limited })
}

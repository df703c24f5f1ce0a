// Compiles the network part of the config.
import type { ConfigInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import type { RtRegion } from '../config/runtime.js'
import type { NetworkRuntime } from './types.js'

export function compileNetwork (input: ConfigInput, regions: ReadonlyMap<string, RtRegion>, ctx: CompileContext): NetworkRuntime {
  const origin = input.server?.region ?? 'us-pdx-1'
  if (!regions.has(origin)) ctx.report(['server', 'region'], `unknown region "${origin}"; known: ${[...regions.keys()].join(', ')}`)
  return Object.freeze({
    defaultOrigin: origin,
    trustOriginHeader: input.server?.trustOriginHeader ?? false,
    applyDelay: input.network?.applyDelay ?? false
  })
}

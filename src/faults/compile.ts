// network.faults at config load: each target must exist and match a deployment, names unique.
import type { ConfigInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import type { Runtime } from '../core/runtime.js'
import type { FaultInput } from '../core/faults.js'
import { checkTarget } from './targets.js'

export function compileFaults (input: ConfigInput, rt: Pick<Runtime, 'regions' | 'workspaces' | 'deployments'>, ctx: CompileContext): readonly FaultInput[] {
  const out: FaultInput[] = []
  const seen = new Set<string>()
  ;(input.network?.faults ?? []).forEach((f, i) => {
    if (seen.has(f.name)) ctx.report(['network', 'faults', i, 'name'], `fault "${f.name}" is defined twice`)
    seen.add(f.name)
    const problem = checkTarget(f, rt)
    if (problem !== null) {
      ctx.report(['network', 'faults', i, ...(problem.field === 'target' ? [] : [problem.field])], problem.message)
      return
    }
    out.push(Object.freeze({ ...f }))
  })
  return Object.freeze(out)
}

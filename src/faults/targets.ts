// Which deployments a fault touches, and why a target is refused: every named region,
// workspace, model or deployment must exist, and together they must match a deployment.
import type { RtDeployment, Runtime } from '../core/runtime.js'
import type { FaultBodyInput } from '../core/faults.js'

export interface TargetProblem {
  readonly field: 'region' | 'deployment' | 'workspace' | 'model' | 'target'
  readonly message: string
}

function modelOf (dep: RtDeployment): { workspace: string; model: string } {
  // Deployment ids are "<workspace>/<model>/<name>".
  const [workspace = '', model = ''] = dep.id.split('/')
  return { workspace, model }
}

export function matchesTarget (spec: FaultBodyInput, dep: RtDeployment): boolean {
  if (spec.region !== undefined && dep.region.name !== spec.region) return false
  if (spec.deployment !== undefined && dep.name !== spec.deployment) return false
  if (spec.workspace !== undefined || spec.model !== undefined) {
    const m = modelOf(dep)
    if (spec.workspace !== undefined && m.workspace !== spec.workspace) return false
    if (spec.model !== undefined && m.model !== spec.model) return false
  }
  return true
}

/** The deployments the fault touches in this runtime. */
export function targetsOf (spec: FaultBodyInput, rt: Pick<Runtime, 'deployments'>): RtDeployment[] {
  return rt.deployments.filter(d => matchesTarget(spec, d))
}

/** Workspaces whose deployments the fault touches. */
export function workspacesTouched (spec: FaultBodyInput, rt: Runtime): string[] {
  return [...new Set(targetsOf(spec, rt).map(d => modelOf(d).workspace))]
}

const list = (xs: Iterable<string>): string => [...new Set(xs)].sort().join(', ')

/** Null when the target is sound; otherwise what is wrong, naming the valid values. */
export function checkTarget (spec: FaultBodyInput, rt: Pick<Runtime, 'regions' | 'workspaces' | 'deployments'>): TargetProblem | null {
  if (spec.region === undefined && spec.deployment === undefined && spec.workspace === undefined && spec.model === undefined) {
    return { field: 'target', message: 'a fault needs at least one of region, deployment, workspace, model' }
  }
  if (spec.region !== undefined && !rt.regions.has(spec.region)) return { field: 'region', message: `unknown region "${spec.region}"; valid: ${list(rt.regions.keys())}` }
  if (spec.workspace !== undefined && !rt.workspaces.has(spec.workspace)) return { field: 'workspace', message: `unknown workspace "${spec.workspace}"; valid: ${list(rt.workspaces.keys())}` }
  const model = spec.model
  if (model !== undefined) {
    const scope = spec.workspace === undefined ? [...rt.workspaces.values()] : [rt.workspaces.get(spec.workspace)].filter(w => w !== undefined)
    if (!scope.some(w => w.models.has(model))) return { field: 'model', message: `unknown model "${model}"; valid: ${list(scope.flatMap(w => [...w.models.keys()]))}` }
  }
  if (spec.deployment !== undefined && !rt.deployments.some(d => d.name === spec.deployment)) {
    return { field: 'deployment', message: `unknown deployment "${spec.deployment}"; valid: ${list(rt.deployments.map(d => d.name))}` }
  }
  if (targetsOf(spec, rt).length === 0) return { field: 'target', message: 'no deployment matches all of the fault\'s targets together' }
  return null
}

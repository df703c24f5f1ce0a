// GET /policies, GET /policies/{name} and GET /policies/{name}/usages: the workspace's
// policies in Blaxel's Policy shape, with the usage counts the listing carries.
import type { FastifyInstance } from 'fastify'
import type { RtPolicy, RtWorkspace, Runtime } from '../core/runtime.js'
import type { PolicyInput } from '../config/schema.js'
import { cpState, iso, requireWorkspace } from './request.js'
import { renderList, type Listable } from './lists.js'
import { EdgeError } from '../core/errors.js'

export interface PolicyResource {
  metadata: { name: string; displayName: string; workspace: string; labels: Record<string, string>; createdAt: string; updatedAt: string; createdBy: string; updatedBy: string }
  spec: {
    type: PolicyInput['type']
    locations?: PolicyInput['locations']
    flavors?: PolicyInput['flavors']
    maxTokens?: PolicyInput['maxTokens']
    resourceTypes: string[]
    sandbox: boolean
    /** agnet's addition: the policy only reports (headers, logs, metrics). */
    dryRun?: boolean
  }
  usage: { agents: number; functions: number; jobs: number; models: number; sandboxes: number }
}

function modelsUsing (policy: RtPolicy, ws: RtWorkspace): string[] {
  const out: string[] = []
  for (const m of ws.models.values()) if (m.policies.includes(policy)) out.push(m.name)
  return out
}

export function policyResource (p: RtPolicy, ws: RtWorkspace, runtime: Runtime): PolicyResource {
  const loaded = iso(runtime.loadedAt)
  const spec: PolicyResource['spec'] = { type: p.type, resourceTypes: [...(p.input.resourceTypes ?? ['model'])], sandbox: false }
  if (p.input.locations !== undefined) spec.locations = p.input.locations.map(l => ({ ...l }))
  if (p.input.flavors !== undefined) spec.flavors = p.input.flavors.map(f => ({ ...f }))
  if (p.input.maxTokens !== undefined) spec.maxTokens = { step: 1, ...p.input.maxTokens }
  if (p.dryRun) spec.dryRun = true
  return {
    metadata: { name: p.name, displayName: p.input.displayName ?? p.name, workspace: ws.name, labels: {}, createdAt: loaded, updatedAt: loaded, createdBy: 'agnet', updatedBy: 'agnet' },
    spec,
    usage: { agents: 0, functions: 0, jobs: 0, models: modelsUsing(p, ws).length, sandboxes: 0 }
  }
}

interface ListedPolicy extends Listable { readonly policy: RtPolicy }

export function registerPolicyRoutes (app: FastifyInstance): void {
  app.get('/policies', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state)
    const items: ListedPolicy[] = [...ws.policies.values()].map(policy => ({
      policy, name: policy.name, displayName: policy.input.displayName ?? policy.name, createdAt: state.runtime.loadedAt, labels: {}, status: 'DEPLOYED'
    }))
    return renderList(req, `policies:${ws.name}`, items, i => policyResource(i.policy, ws, state.runtime))
  })

  const find = (ws: RtWorkspace, name: string): RtPolicy => {
    const p = ws.policies.get(name)
    if (p === undefined) throw new EdgeError('RESOURCE_NOT_FOUND', `Policy "${name.slice(0, 64)}" not found in workspace "${ws.name}".`)
    return p
  }

  app.get<{ Params: { name: string } }>('/policies/:name', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state)
    return policyResource(find(ws, req.params.name), ws, state.runtime)
  })

  app.get<{ Params: { name: string } }>('/policies/:name/usages', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state)
    return { agents: [], functions: [], jobs: [], models: modelsUsing(find(ws, req.params.name), ws), sandboxes: [] }
  })
}

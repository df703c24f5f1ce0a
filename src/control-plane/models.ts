// GET /models and GET /models/{name}: Blaxel's Model resource for each model of the
// workspace. `metadata.url` is agnet's run URL for the model, so `bl run`, the Go SDK and the
// mk3 code path of the TS SDKs all send their inference through agnet.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RtModel, RtWorkspace, Runtime } from '../core/runtime.js'
import { decideModelAccess } from '../access/decide.js'
import { cpState, iso, publicBaseUrl, requireWorkspace } from './request.js'
import { renderList, type Listable } from './lists.js'
import { EdgeError } from '../core/errors.js'

export interface ModelResource {
  metadata: {
    name: string
    displayName: string
    workspace: string
    url: string
    labels: Record<string, string>
    createdAt: string
    updatedAt: string
    createdBy: string
    updatedBy: string
  }
  spec: {
    enabled: boolean
    runtime: { type: string; model?: string; organization?: string; generation?: string }
    integrationConnections: string[]
    policies: string[]
    sandbox: boolean
  }
  status: string
  events: Array<{ type: string; status: string; message: string; time: string; revision: string }>
}

export function modelStatus (model: RtModel): string {
  return model.enabled ? 'DEPLOYED' : 'DEACTIVATED'
}

/** The run URL of a model as a client should call it. */
export function modelRunUrl (base: string, workspace: string, model: string): string {
  return `${base}/${workspace}/models/${model}`
}

export function modelResource (model: RtModel, ws: RtWorkspace, runtime: Runtime, base: string): ModelResource {
  const input = model.input
  const rt: ModelResource['spec']['runtime'] = { type: model.runtimeType }
  if (model.runtimeModel !== null) rt.model = model.runtimeModel
  if (input.runtime.organization !== undefined) rt.organization = input.runtime.organization
  if (input.runtime.generation !== undefined) rt.generation = input.runtime.generation
  const loaded = iso(runtime.loadedAt)
  const status = modelStatus(model)
  return {
    metadata: {
      name: model.name,
      displayName: input.displayName ?? model.name,
      workspace: ws.name,
      url: modelRunUrl(base, ws.name, model.name),
      labels: { ...(input.labels ?? {}) },
      createdAt: loaded,
      updatedAt: loaded,
      createdBy: 'agnet',
      updatedBy: 'agnet'
    },
    spec: {
      enabled: model.enabled,
      runtime: rt,
      integrationConnections: [...(input.integrationConnections ?? [])],
      policies: model.policies.map(p => p.name),
      sandbox: false
    },
    status,
    events: [{ type: 'deployment', status, message: `Loaded from the agnet config (generation ${runtime.generation}), ${model.deployments.length} deployment(s): ${model.deployments.map(d => d.region.name).join(', ')}`, time: loaded, revision: `gen-${runtime.generation}` }]
  }
}

interface ListedModel extends Listable { readonly model: RtModel }

function listed (model: RtModel, runtime: Runtime): ListedModel {
  return { model, name: model.name, displayName: model.input.displayName ?? model.name, createdAt: runtime.loadedAt, labels: model.input.labels ?? {}, status: modelStatus(model) }
}

export function registerModelRoutes (app: FastifyInstance): void {
  app.get('/models', async (req: FastifyRequest) => {
    const state = cpState(req)
    const ws = requireWorkspace(state)
    const base = publicBaseUrl(req, state.runtime)
    // A key with scopes lists only the models it may call.
    const items: ListedModel[] = []
    for (const m of ws.models.values()) if (decideModelAccess(state.principal, m.name) === null) items.push(listed(m, state.runtime))
    return renderList(req, `models:${ws.name}`, items, i => modelResource(i.model, ws, state.runtime, base))
  })

  app.get<{ Params: { name: string } }>('/models/:name', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state)
    const model = ws.models.get(req.params.name)
    if (model === undefined) throw new EdgeError('WORKLOAD_NOT_FOUND', `Model "${req.params.name.slice(0, 64)}" not found in workspace "${ws.name}".`)
    if (decideModelAccess(state.principal, model.name) !== null) throw new EdgeError('FORBIDDEN', `This credential is not allowed to use model "${model.name}" (key scopes).`)
    return modelResource(model, ws, state.runtime, publicBaseUrl(req, state.runtime))
  })
}

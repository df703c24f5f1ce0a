// GET /routing/{workspace}/{model}?origin=… inside the control plane (mounted under /v0 and
// /api), so it is authenticated exactly like every other control-plane route; the workspace
// and model access decisions are the run plane's. `origin` is a what-if and is honoured
// whatever server.trustOriginHeader says; without it the gateway's own region is used.
import type { FastifyInstance } from 'fastify'
import { EdgeError } from '../core/errors.js'
import type { RtDeployment } from '../core/runtime.js'
import type { FaultInput } from '../core/faults.js'
import { decideModelAccess } from '../access/decide.js'
import { resolveOrigin } from '../routing/network.js'
import { explainRoute } from '../routing/explain.js'
import type { RoutingServices } from '../routing/plan.js'
import type { FaultServices } from '../faults/registry.js'
import { cpState, requireWorkspace } from './request.js'

export function registerRoutingRoutes (app: FastifyInstance, routing: RoutingServices, faults: FaultServices): void {
  const faultsOn = (dep: RtDeployment): FaultInput[] => faults.on(dep)
  app.get<{ Params: { ws: string; model: string }; Querystring: { origin?: string } }>('/routing/:ws/:model', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state, req.params.ws)
    const denied = decideModelAccess(state.principal, req.params.model)
    if (denied !== null) throw new EdgeError('FORBIDDEN', `This credential may not call model "${req.params.model}".`)
    const model = ws.models.get(req.params.model)
    if (model === undefined) throw new EdgeError('WORKLOAD_NOT_FOUND', `Model "${req.params.model}" not found in workspace "${ws.name}".`)
    const asked = typeof req.query.origin === 'string' && req.query.origin !== '' ? req.query.origin : null
    const origin = asked === null ? state.runtime.network.defaultOriginInfo : resolveOrigin(state.runtime.network.origins, asked)
    if (origin === null) throw new EdgeError('BAD_REQUEST', `Unknown origin "${asked ?? ''}": use a region name (${state.runtime.network.regionNames.join(', ')}) or an ISO 3166-1 alpha-2 country code.`)
    return explainRoute(state.runtime, routing, model, origin, faultsOn)
  })
}

// GET /workspaces (every workspace the credential reaches; always a bare array, as Blaxel's)
// and GET /workspaces/{ws} (`bl login` and `bl token` validate a workspace with it).
import type { FastifyInstance } from 'fastify'
import type { RtWorkspace, Runtime } from '../core/runtime.js'
import { decideWorkspaceAccess } from '../access/decide.js'
import { cpState, iso, requireWorkspace } from './request.js'

export interface WorkspaceResource {
  name: string
  displayName: string
  region: string
  status: 'ready'
  accountId: string
  labels: Record<string, string>
  createdAt: string
  updatedAt: string
  createdBy: string
  updatedBy: string
  resourceCounts?: Record<string, number>
}

export function workspaceResource (ws: RtWorkspace, runtime: Runtime, counts: boolean): WorkspaceResource {
  const loaded = iso(runtime.loadedAt)
  const out: WorkspaceResource = {
    name: ws.name,
    displayName: ws.displayName,
    region: ws.region,
    status: 'ready',
    accountId: 'agnet',
    labels: {},
    createdAt: loaded,
    updatedAt: loaded,
    createdBy: 'agnet',
    updatedBy: 'agnet'
  }
  if (counts) {
    out.resourceCounts = {
      models: ws.models.size,
      policies: ws.policies.size,
      integrationconnections: ws.integrations.size,
      serviceaccounts: ws.input.serviceAccounts?.length ?? 0
    }
  }
  return out
}

export function registerWorkspaceRoutes (app: FastifyInstance): void {
  app.get('/workspaces', async (req) => {
    const state = cpState(req)
    const out: WorkspaceResource[] = []
    for (const ws of state.runtime.workspaces.values()) {
      if (decideWorkspaceAccess(state.principal, ws.name) === null) out.push(workspaceResource(ws, state.runtime, false))
    }
    return out
  })

  app.get<{ Params: { ws: string }, Querystring: { countResources?: string } }>('/workspaces/:ws', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state, req.params.ws)
    return workspaceResource(ws, state.runtime, req.query.countResources === 'true')
  })
}

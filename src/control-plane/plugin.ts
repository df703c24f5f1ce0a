// The control-plane subset clients need (SPEC §6), mounted twice: under /v0
// (BL_API_URL=http://host:8080/v0) and under /api (what @blaxel/core's initialize({ proxy })
// calls). Every route is authenticated like the run plane and answers errors in Blaxel's
// control-plane shape {"code":404,"error":"Not Found","message":"..."}.
import type { FastifyInstance, FastifyError, FastifyPluginAsync } from 'fastify'
import type { ConfigStore } from '../config/store.js'
import type { RunPlaneServices } from '../run-plane/handler.js'
import { controlPlaneErrorBody } from '../errors.js'
import { CpError, controlPlanePreHandler, sendCpError } from './request.js'
import { registerModelRoutes } from './models.js'
import { registerWorkspaceRoutes } from './workspaces.js'
import { registerIntegrationRoutes } from './integrations.js'
import { registerPolicyRoutes } from './policies.js'
import { registerLocationRoutes } from './locations.js'
import { registerConfigurationRoutes } from './configuration.js'
import { registerRoutingRoutes } from '../routing/explain.js'

export const CONTROL_PLANE_PREFIXES = ['/v0', '/api'] as const

/** Does a raw target belong to the control plane? (Its /…/models paths look like run-plane ones.) */
export function isControlPlanePath (url: string): boolean {
  return url.startsWith('/v0/') || url.startsWith('/api/')
}

export interface ControlPlaneDeps {
  readonly store: ConfigStore
  readonly services: RunPlaneServices
}

const controlPlaneRoutes: FastifyPluginAsync<ControlPlaneDeps> = async (app, deps) => {
  const logger = deps.services.logger
  app.decorateRequest('cp', null)
  // Encapsulated: the hook guards only these routes, not others mounted under the same
  // prefix (the token issuer's /v0/oauth/token must stay reachable without a credential).
  app.addHook('preHandler', controlPlanePreHandler(() => deps.store.current, deps.services))
  app.setErrorHandler((err: FastifyError | CpError, req, reply) => {
    const id = req.cp?.requestId ?? String(reply.getHeader('x-request-id') ?? '')
    if (err instanceof CpError) return sendCpError(reply, err, id)
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) logger.error({ err, url: req.url.split('?')[0] }, 'control-plane error')
    return reply.code(status).send(controlPlaneErrorBody(status, status >= 500 ? 'agnet failed to handle the request.' : err.message))
  })
  registerModelRoutes(app)
  registerWorkspaceRoutes(app)
  registerIntegrationRoutes(app)
  registerPolicyRoutes(app)
  registerLocationRoutes(app)
  registerConfigurationRoutes(app)
  registerRoutingRoutes(app, deps.services.routing)
}

/** Registers the control plane on the app's Fastify instance (one line in src/app.ts). */
export function registerControlPlane (fastify: FastifyInstance, store: ConfigStore, services: RunPlaneServices): void {
  for (const prefix of CONTROL_PLANE_PREFIXES) void fastify.register(controlPlaneRoutes, { prefix, store, services })
}

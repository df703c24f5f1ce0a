// The control-plane subset clients need, mounted twice: under /v0
// (BL_API_URL=http://host:8080/v0) and under /api (what @blaxel/core's initialize({ proxy })
// calls). Every route is authenticated like the run plane and answers errors in Blaxel's
// control-plane shape {"code":404,"error":"Not Found","message":"..."}.
import type { FastifyInstance, FastifyError, FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import type { ConfigStore } from '../config/store.js'
import { EdgeError, errorIdForStatus } from '../core/errors.js'
import { requestIdFor } from '../core/request-id.js'
import type { IdentityServices } from '../auth/authenticate.js'
import type { RoutingServices } from '../routing/plan.js'
import { controlPlanePreHandler, sendCpError } from './request.js'
import { registerModelRoutes } from './models.js'
import { registerWorkspaceRoutes } from './workspaces.js'
import { registerIntegrationRoutes } from './integrations.js'
import { registerPolicyRoutes } from './policies.js'
import { registerLocationRoutes } from './locations.js'
import { registerConfigurationRoutes } from './configuration.js'
import { registerRoutingRoutes } from './routing.js'
import { registerFaultRoutes } from './faults.js'
import type { FaultServices } from '../faults/registry.js'

export const CONTROL_PLANE_PREFIXES = ['/v0', '/api'] as const

/** Does a raw target belong to the control plane? (Its /…/models paths look like run-plane ones.) */
export function isControlPlanePath (url: string): boolean {
  return url.startsWith('/v0/') || url.startsWith('/api/')
}

/** What the control plane needs: the config, and the stage services it shares with the run plane. */
export interface ControlPlaneServices {
  readonly logger: Logger
  readonly identity: IdentityServices
  readonly routing: RoutingServices
  readonly faults: FaultServices
}

interface ControlPlaneDeps {
  readonly store: ConfigStore
  readonly services: ControlPlaneServices
}

const controlPlaneRoutes: FastifyPluginAsync<ControlPlaneDeps> = async (app, deps) => {
  const logger = deps.services.logger
  app.decorateRequest('cp', null)
  // Encapsulated: the hook guards only these routes, not others mounted under the same
  // prefix (the token issuer's /v0/oauth/token must stay reachable without a credential).
  app.addHook('preHandler', controlPlanePreHandler(() => deps.store.current, deps.services.identity, logger))
  app.setErrorHandler((err: FastifyError | EdgeError, req, reply) => {
    // Errors of the body parser come before the preHandler gave the request its id.
    const sent = reply.getHeader('x-request-id')
    const id = req.cp?.requestId ?? (typeof sent === 'string' ? sent : requestIdFor(req.headers['x-request-id']))
    if (err instanceof EdgeError) return sendCpError(reply, err, id)
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) logger.error({ err, url: req.url.split('?')[0] }, 'control-plane error')
    const entry = errorIdForStatus(status)
    return sendCpError(reply, new EdgeError(entry, entry === 'INTERNAL_ERROR' ? undefined : err.message), id)
  })
  registerModelRoutes(app)
  registerWorkspaceRoutes(app)
  registerIntegrationRoutes(app)
  registerPolicyRoutes(app)
  registerLocationRoutes(app)
  registerConfigurationRoutes(app)
  registerRoutingRoutes(app, deps.services.routing, deps.services.faults)
  registerFaultRoutes(app, deps.services.faults, logger)
}

/** Registers the control plane on the app's Fastify instance (one line in src/app.ts). */
export function registerControlPlane (fastify: FastifyInstance, store: ConfigStore, services: ControlPlaneServices): void {
  for (const prefix of CONTROL_PLANE_PREFIXES) void fastify.register(controlPlaneRoutes, { prefix, store, services })
}

// What every /v0 (and /api) request goes through before its route: the runtime snapshot it
// is served from, authentication with the run plane's own stage, and the workspace it is
// about. Kept apart from the routes so each route file is only its JSON shape.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Runtime, RtWorkspace } from '../core/runtime.js'
import type { Principal } from '../core/identity.js'
import { EdgeError } from '../core/errors.js'
import { controlPlaneErrorBody, controlPlaneErrorHeaders } from '../core/render-error.js'
import { requestIdFor } from '../core/request-id.js'
import { authenticate, type IdentityServices } from '../auth/authenticate.js'
import { decideWorkspaceAccess } from '../access/decide.js'
import { queryParam } from './parsed.js'

/** Per-request state of the control plane; `null` until the preHandler ran. */
export interface CpState {
  readonly runtime: Runtime
  readonly principal: Principal
  /** The workspace asked for: X-Blaxel-Workspace, then ?workspace=, then the credential's. */
  readonly workspaceName: string | null
  readonly requestId: string
}

declare module 'fastify' {
  interface FastifyRequest {
    cp: CpState | null
  }
}

/** Writes a catalogue error in the control plane's shape. */
export function sendCpError (reply: FastifyReply, err: EdgeError, requestId: string): FastifyReply {
  void reply.code(err.status).headers(controlPlaneErrorHeaders(err, requestId))
  return reply.send(controlPlaneErrorBody(err))
}

const WORKSPACE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

function firstHeader (req: FastifyRequest, name: string): string | null {
  const v = req.headers[name]
  const s = Array.isArray(v) ? v[0] : v
  return s === undefined || s.trim() === '' ? null : s.trim()
}

function queryWorkspace (req: FastifyRequest): string | null {
  const v = queryParam(req.query, 'workspace')
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null
}

/** The credential's own workspace: the first it reaches, else (auth off) the first configured. */
function credentialWorkspace (principal: Principal, runtime: Runtime): string | null {
  const reach = principal.workspaces ?? runtime.workspaces
  for (const name of reach.keys()) return name
  return null
}

const AUTH_FAILED = new EdgeError('INTERNAL_ERROR', 'agnet failed to authenticate the request.')
const BAD_WORKSPACE = new EdgeError('BAD_REQUEST', 'The workspace name is invalid: lower-case letters, digits and hyphens.')
const NO_STATE = new EdgeError('INTERNAL_ERROR')
const NO_WORKSPACE = new EdgeError('BAD_REQUEST', 'No workspace: send X-Blaxel-Workspace or ?workspace=.')

/**
 * The preHandler of every control-plane route. Authentication is the run plane's stage
 * (auth/authenticate.ts), so both planes accept exactly the same credentials and a change
 * there applies here too.
 */
export function controlPlanePreHandler (getRuntime: () => Runtime, identity: IdentityServices, logger: Logger) {
  return async function cpPreHandler (req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const runtime = getRuntime()
    const requestId = requestIdFor(req.headers['x-request-id'])
    void reply.header('x-request-id', requestId)
    const asked = firstHeader(req, 'x-blaxel-workspace') ?? queryWorkspace(req)
    let result: Principal | EdgeError
    try {
      result = await authenticate(req.raw.rawHeaders, runtime, identity)
    } catch (err) {
      logger.error({ err, reqId: requestId }, 'control-plane authentication failed')
      sendCpError(reply, AUTH_FAILED, requestId)
      return
    }
    if (result instanceof EdgeError) {
      sendCpError(reply, result, requestId)
      return
    }
    if (asked !== null && !WORKSPACE_NAME.test(asked)) {
      sendCpError(reply, BAD_WORKSPACE, requestId)
      return
    }
    req.cp = { runtime, principal: result, workspaceName: asked ?? credentialWorkspace(result, runtime), requestId }
  }
}

export function cpState (req: FastifyRequest): CpState {
  if (req.cp === null) throw NO_STATE
  return req.cp
}

/**
 * The workspace a route is about, after the access decision: 403 before anything that reveals
 * whether it exists (as on the run plane), then 404.
 */
export function requireWorkspace (state: CpState, name: string | null = state.workspaceName): RtWorkspace {
  if (name === null) throw NO_WORKSPACE
  const denied = decideWorkspaceAccess(state.principal, name)
  if (denied !== null) throw new EdgeError('FORBIDDEN', `This credential has no access to workspace "${name}".`)
  const ws = state.runtime.workspaces.get(name)
  if (ws === undefined) throw new EdgeError('WORKSPACE_NOT_FOUND', `Workspace "${name}" not found.`)
  return ws
}

const SAFE_HOST = /^[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](?::[0-9]{1,5})?$/

/** Where clients reach agnet: server.publicUrl, else http://<Host header> (checked), else localhost. */
export function publicBaseUrl (req: FastifyRequest, runtime: Runtime): string {
  if (runtime.server.publicUrl !== null) return runtime.server.publicUrl.replace(/\/+$/, '')
  const host = req.headers.host
  // The Host header is client input: only a plain host[:port] may become part of a URL we hand out.
  if (typeof host === 'string' && SAFE_HOST.test(host)) return `http://${host}`
  return `http://localhost:${runtime.server.port}`
}

export function iso (ms: number): string {
  return new Date(ms).toISOString()
}

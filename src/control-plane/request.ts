// What every /v0 (and /api) request goes through before its route: the runtime snapshot it
// is served from, authentication with the run plane's own stage, and the workspace it is
// about. Kept apart from the routes so each route file is only its JSON shape.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Runtime, RtWorkspace } from '../config/runtime.js'
import type { Principal } from '../auth/types.js'
import { authenticate } from '../auth/authenticate.js'
import type { RunPlaneServices } from '../run-plane/handler.js'
import { decideWorkspaceAccess } from '../access/decide.js'
import { EdgeError, controlPlaneErrorBody } from '../errors.js'
import { RequestContext, requestIdFor } from '../run-plane/context.js'

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

/** A control-plane answer other than 200: rendered as {"code","error","message"}. */
export class CpError extends Error {
  readonly status: number
  readonly errorName: string | null
  readonly headers: Readonly<Record<string, string>> | null

  constructor (status: number, message: string, opts?: { error?: string; headers?: Record<string, string> }) {
    super(message)
    this.status = status
    this.errorName = opts?.error ?? null
    this.headers = opts?.headers ?? null
  }
}

export function sendCpError (reply: FastifyReply, err: CpError, requestId: string): FastifyReply {
  const body = controlPlaneErrorBody(err.status, err.message)
  if (err.errorName !== null) body.error = err.errorName
  void reply.code(err.status).header('x-request-id', requestId).header('cache-control', 'no-store')
  if (err.headers !== null) for (const k in err.headers) void reply.header(k, err.headers[k] as string)
  return reply.send(body)
}

const WORKSPACE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

function firstHeader (req: FastifyRequest, name: string): string | null {
  const v = req.headers[name]
  const s = Array.isArray(v) ? v[0] : v
  return s === undefined || s.trim() === '' ? null : s.trim()
}

function queryWorkspace (req: FastifyRequest): string | null {
  const q = req.query as Record<string, unknown> | null
  const v = q?.workspace
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null
}

/** The credential's own workspace: the first it reaches, else (auth off) the first configured. */
function credentialWorkspace (principal: Principal, runtime: Runtime): string | null {
  const reach = principal.workspaces ?? runtime.workspaces
  for (const name of reach.keys()) return name
  return null
}

function edgeToCp (err: EdgeError): CpError {
  const headers: Record<string, string> = { ...(err.headers ?? {}) }
  if (err.status === 401) headers['www-authenticate'] = err.code === 'AUTHENTICATION_FAILED' ? 'Bearer error="invalid_token"' : 'Bearer'
  return new CpError(err.status, err.message, { headers })
}

/**
 * The preHandler of every control-plane route. Authentication is the run plane's stage
 * (src/auth/authenticate.ts), fed a RequestContext, so both planes accept exactly the same
 * credentials and a change there applies here too.
 */
export function controlPlanePreHandler (getRuntime: () => Runtime, services: RunPlaneServices) {
  return async function cpPreHandler (req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const runtime = getRuntime()
    const requestId = requestIdFor(req.headers['x-request-id'])
    void reply.header('x-request-id', requestId)
    const asked = firstHeader(req, 'x-blaxel-workspace') ?? queryWorkspace(req)
    const ctx = new RequestContext(req.raw, reply.raw, runtime, requestId, performance.now())
    ctx.workspaceName = asked
    let result: Principal | EdgeError
    try {
      result = await authenticate(ctx, services.identity)
    } catch (err) {
      services.logger.error({ err, reqId: requestId }, 'control-plane authentication failed')
      sendCpError(reply, new CpError(500, 'agnet failed to authenticate the request.'), requestId)
      return
    }
    if (result instanceof EdgeError) {
      sendCpError(reply, edgeToCp(result), requestId)
      return
    }
    if (asked !== null && !WORKSPACE_NAME.test(asked)) {
      sendCpError(reply, new CpError(400, 'The workspace name is invalid: lower-case letters, digits and hyphens.'), requestId)
      return
    }
    req.cp = { runtime, principal: result, workspaceName: asked ?? credentialWorkspace(result, runtime), requestId }
  }
}

export function cpState (req: FastifyRequest): CpState {
  if (req.cp === null) throw new CpError(500, 'agnet failed to handle the request.')
  return req.cp
}

/**
 * The workspace a route is about, after the access decision: 403 before anything that reveals
 * whether it exists (as on the run plane), then 404.
 */
export function requireWorkspace (state: CpState, name: string | null = state.workspaceName): RtWorkspace {
  if (name === null) throw new CpError(400, 'No workspace: send X-Blaxel-Workspace or ?workspace=.')
  const denied = decideWorkspaceAccess(state.principal, name)
  if (denied !== null) throw new CpError(403, `This credential has no access to workspace "${name}".`)
  const ws = state.runtime.workspaces.get(name)
  if (ws === undefined) throw new CpError(404, `Workspace "${name}" not found.`)
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

// /v0/network/faults: list, put by name, delete one, delete all (or some by name). Inside
// the control plane, so a request is authenticated like any other; changing a fault needs an
// admin of every workspace whose deployments the fault touches (a fault on a region touches
// every workspace deployed there). A member gets 403. On an open gateway (no credential
// configured at all) there is nobody to be admin: changes are accepted from loopback only,
// since a fault takes traffic down for every caller, and refused with 401 from elsewhere.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Principal } from '../core/identity.js'
import type { Runtime } from '../core/runtime.js'
import type { FaultInput } from '../core/faults.js'
import { EdgeError } from '../core/errors.js'
import type { FaultServices, FaultView } from '../faults/registry.js'
import { checkTarget, workspacesTouched } from '../faults/targets.js'
import { FAULT_NAME, readFaultBody } from '../faults/validate.js'
import { cpState } from './request.js'

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/** Throws 401/403 unless the caller may change a fault touching `workspaces`. */
function requireAdmin (req: FastifyRequest, principal: Principal, workspaces: readonly string[]): void {
  if (principal.workspaces === null) {
    if (LOOPBACK.has(req.socket.remoteAddress ?? '')) return
    throw new EdgeError('AUTHENTICATION_REQUIRED', 'This gateway has no credentials configured: network faults may only be changed from the gateway\'s own machine (loopback).', { headers: { 'www-authenticate': 'Bearer' } })
  }
  const missing = workspaces.filter(w => principal.workspaces?.get(w) !== 'admin')
  if (missing.length > 0) throw new EdgeError('FORBIDDEN', `Changing this fault needs the admin role in every workspace it touches; missing: ${missing.join(', ')}.`)
}

/** May the caller see this fault? (It touches a workspace the caller reaches.) */
function visible (principal: Principal, rt: Runtime, f: FaultView): boolean {
  if (principal.workspaces === null) return true
  return workspacesTouched(f.spec, rt).some(w => principal.workspaces?.has(w) === true)
}

export function registerFaultRoutes (app: FastifyInstance, faults: FaultServices, logger: Logger): void {
  app.get('/network/faults', async (req) => {
    const { principal, runtime } = cpState(req)
    return { faults: faults.list().filter(f => visible(principal, runtime, f)) }
  })

  app.get<{ Params: { name: string } }>('/network/faults/:name', async (req) => {
    const { principal, runtime } = cpState(req)
    const f = faults.list().find(x => x.name === req.params.name)
    if (f === undefined || !visible(principal, runtime, f)) throw new EdgeError('RESOURCE_NOT_FOUND', `No fault named "${req.params.name}".`)
    return f
  })

  app.put<{ Params: { name: string } }>('/network/faults/:name', async (req, reply) => {
    const { principal, runtime } = cpState(req)
    const name = req.params.name
    if (!FAULT_NAME.test(name)) throw new EdgeError('BAD_REQUEST', 'name: a fault name is lower-case letters, digits and hyphens (at most 63).')
    const read = readFaultBody(req.body)
    if (read.problem !== null) throw new EdgeError('BAD_REQUEST', `${read.problem.field}: ${read.problem.message}`)
    const spec: FaultInput = { ...read.body, name }
    const target = checkTarget(spec, runtime)
    if (target !== null) throw new EdgeError(target.field === 'target' && target.message.startsWith('a fault needs') ? 'BAD_REQUEST' : 'RESOURCE_NOT_FOUND', `${target.field}: ${target.message}`)
    requireAdmin(req, principal, workspacesTouched(spec, runtime))
    if (faults.has(name) === 'config') throw new EdgeError('FAULT_DECLARED_IN_CONFIG', `Fault "${name}" is declared in the config (network.faults); change it there.`)
    const existed = faults.has(name) === 'api'
    const view = faults.put(spec)
    logger.info({ fault: name, effect: spec.effect, by: principal.subject }, 'network fault set')
    return await reply.code(existed ? 200 : 201).send(view)
  })

  app.delete<{ Params: { name: string } }>('/network/faults/:name', async (req) => {
    const { principal, runtime } = cpState(req)
    const name = req.params.name
    const f = faults.list().find(x => x.name === name)
    if (f === undefined || !visible(principal, runtime, f)) throw new EdgeError('RESOURCE_NOT_FOUND', `No fault named "${name}".`)
    requireAdmin(req, principal, workspacesTouched(f.spec, runtime))
    if (f.source === 'config') throw new EdgeError('FAULT_DECLARED_IN_CONFIG', `Fault "${name}" is declared in the config (network.faults); remove it there.`)
    faults.remove(name)
    logger.info({ fault: name, by: principal.subject }, 'network fault removed')
    return { deleted: [name] }
  })

  app.delete<{ Querystring: { names?: string } }>('/network/faults', async (req) => {
    const { principal, runtime } = cpState(req)
    const asked = typeof req.query.names === 'string' && req.query.names !== '' ? req.query.names.split(',') : null
    const targets = faults.list().filter(f => f.source === 'api' && (asked === null || asked.includes(f.name)))
    requireAdmin(req, principal, [...new Set(targets.flatMap(f => workspacesTouched(f.spec, runtime)))])
    const deleted = faults.clear(targets.map(f => f.name))
    if (deleted.length > 0) logger.info({ faults: deleted, by: principal.subject }, 'network faults removed')
    return { deleted }
  })
}

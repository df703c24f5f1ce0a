// One access line per run-plane request (SPEC §9). Only names and numbers: no header, no
// body, no credential ever enters the line.
import type { Logger } from 'pino'
import type { RequestContext } from '../run-plane/context.js'

export function writeAccessLog (logger: Logger, ctx: RequestContext, outcome: string): void {
  const dep = ctx.deployment
  const usage = ctx.usage
  logger.info({
    msg: 'request',
    reqId: ctx.id,
    method: ctx.req.method,
    workspace: ctx.workspaceName,
    model: ctx.modelName,
    principal: ctx.principal === null ? null : ctx.principal.subject,
    credential: ctx.principal === null ? null : ctx.principal.credential,
    origin: ctx.origin,
    region: dep === null ? null : dep.region.name,
    deployment: dep === null ? null : dep.name,
    attempts: ctx.attempts,
    status: ctx.status,
    outcome,
    code: ctx.errorCode,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
    tokens: usage === null ? null : { input: usage.input, output: usage.output, total: usage.total, estimated: usage.estimated },
    ms: {
      total: Math.round((performance.now() - ctx.start) * 1000) / 1000,
      auth: Math.round(ctx.authMs * 1000) / 1000,
      route: Math.round(ctx.routeMs * 1000) / 1000,
      firstByte: ctx.firstByteMs < 0 ? null : Math.round(ctx.firstByteMs * 1000) / 1000
    }
  })
}

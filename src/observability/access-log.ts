// One access line per run-plane request. Only names and numbers: no header, no
// body, no credential ever enters the line. The line is serialised here rather than by pino:
// every field is a number, null, or a string from a validated charset (names, request id,
// method token), so only the principal's subject needs escaping, and pino's generic
// serialisation and redaction pass (the largest cost on the request path when measured)
// is skipped. The shape matches pino's lines (level, time, service, msg).
import type { Logger } from 'pino'
import type { RequestRecord } from '../core/request-record.js'
import { streamOf } from './logger.js'
import { formatMs } from './format.js'

function str (v: string | null): string { return v === null ? 'null' : `"${v}"` }

// Many lines share a millisecond under load: format the timestamp once per millisecond.
let lastMs = 0
let lastIso = ''
function isoNow (): string {
  const now = Date.now()
  if (now !== lastMs) { lastMs = now; lastIso = new Date(now).toISOString() }
  return lastIso
}
function ms (v: number): string { return v < 0 ? 'null' : formatMs(v) }

export function writeAccessLog (logger: Logger, ctx: RequestRecord, outcome: string): void {
  if (!logger.isLevelEnabled('info')) return
  const dep = ctx.deployment
  const usage = ctx.usage
  const p = ctx.principal
  const line = `{"level":30,"time":"${isoNow()}","service":"agnet","msg":"request","reqId":"${ctx.id}"` +
    `,"method":${str(ctx.req.method ?? null)},"workspace":${str(ctx.workspaceName)},"model":${str(ctx.modelName)}` +
    (ctx.claimedWorkspace === null ? '' : `,"claimedWorkspace":${str(ctx.claimedWorkspace)}`) +
    `,"principal":${p === null ? 'null' : JSON.stringify(p.subject)},"credential":${p === null ? 'null' : JSON.stringify(p.credential)}` +
    `,"origin":${ctx.origin === null ? 'null' : JSON.stringify(ctx.origin)},"region":${dep === null ? 'null' : str(dep.region.name)},"deployment":${dep === null ? 'null' : str(dep.name)}` +
    `,"attempts":${ctx.attempts},"status":${ctx.status},"outcome":"${outcome}","code":${str(ctx.errorCode)},"failure":${ctx.failure === null ? 'null' : JSON.stringify(ctx.failure)}` +
    (ctx.fault === null ? '' : `,"fault":"${ctx.fault}"`) +
    `,"bytesIn":${ctx.bytesIn},"bytesOut":${ctx.bytesOut}` +
    `,"tokens":${usage === null ? 'null' : `{"input":${usage.input},"output":${usage.output},"total":${usage.total},"estimated":${usage.estimated}}`}` +
    `,"ms":{"total":${ms(performance.now() - ctx.start)},"auth":${ms(ctx.authMs)},"route":${ms(ctx.routeMs)},"firstByte":${ms(ctx.firstByteMs)}}}\n`
  streamOf(logger).write(line)
}

// Compiles the token-usage part of the config: each model's maxToken policies become limits
// with their window shape, thresholds and the static RateLimit-Policy header text.
import type { ConfigInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import { DEFAULT_TIMEOUTS } from '../config/defaults.js'
import { DEFAULTS, durationMs, parseDuration } from '../config/default-values.js'
import type { RtModelLimits, RtTokenLimit, UsageRuntime, UsageStoreConfig } from '../core/usage.js'
import { policyHeaderOf, rateLimitItemsOf } from './headers.js'
import { WindowClock } from './windows.js'

const U = DEFAULTS.usage
const TIMEOUT_MS = durationMs(U.timeout)
// A reservation outlives its request by this much at most if a replica dies mid-request.
const RESERVE_SLACK_MS = 60_000

export function compileUsage (input: ConfigInput, ctx: CompileContext): UsageRuntime {
  const limited = new Set<string>()
  const models = new Map<string, RtModelLimits>()
  const defaultTotal = parseDuration(input.defaults?.timeouts?.total, DEFAULT_TIMEOUTS.totalMs)
  const reserveOutput = input.usage?.reserveOutput ?? U.reserveOutput
  input.workspaces.forEach((ws, wi) => {
    const byName = new Map((ws.policies ?? []).map(p => [p.name, p]))
    ;(ws.policies ?? []).forEach((p, pi) => {
      const mt = p.maxTokens
      if (p.type === 'maxToken' && mt !== undefined && (mt.input ?? 0) === 0 && (mt.output ?? 0) === 0 && (mt.total ?? 0) === 0) {
        ctx.report(['workspaces', wi, 'policies', pi, 'maxTokens'], `maxToken policy "${p.name}" checks nothing: set input, output or total above 0`)
      }
    })
    for (const m of ws.models ?? []) {
      const limits: RtTokenLimit[] = []
      for (const name of m.policies ?? []) {
        const p = byName.get(name)
        if (p === undefined || p.type !== 'maxToken' || p.maxTokens === undefined) continue
        const mt = p.maxTokens
        const step = mt.step ?? DEFAULTS.maxTokens.step
        const limit: RtTokenLimit = Object.freeze({
          policy: name,
          key: `${ws.name}/${m.name}/${name}/${step}${mt.granularity}`,
          granularity: mt.granularity,
          step,
          input: mt.input ?? 0,
          output: mt.output ?? 0,
          total: mt.total ?? 0,
          dryRun: p.dryRun ?? DEFAULTS.policy.dryRun
        })
        if (limits.some(l => l.policy === name)) continue
        limits.push(limit)
      }
      if (limits.length === 0) continue
      const key = `${ws.name}/${m.name}`
      limited.add(key)
      const totalMs = parseDuration(m.timeouts?.total, defaultTotal)
      const clock = new WindowClock(limits)
      models.set(key, Object.freeze({
        model: key,
        limits: Object.freeze(limits),
        policyHeader: limits.some(l => l.granularity === 'month') ? null : policyHeaderOf(limits, clock, 0),
        reserveTtlMs: totalMs + RESERVE_SLACK_MS,
        reserveOutput,
        clock,
        rateLimitItems: Object.freeze(rateLimitItemsOf(limits))
      }))
    }
  })
  return Object.freeze({ limitedModels: limited, models, store: compileStore(input, ctx) })
}

function compileStore (input: ConfigInput, ctx: CompileContext): UsageStoreConfig {
  const u = input.usage ?? {}
  const redis = u.redis ?? null
  if (redis !== null && !/^rediss?:\/\/[^\s]+$/.test(redis)) ctx.report(['usage', 'redis'], `"${redis.replace(/\/\/[^@/]*@/, '//***@')}" is not a redis:// or rediss:// URL`)
  const failMode = u.failMode ?? U.failMode
  const timeoutMs = parseDuration(u.timeout, TIMEOUT_MS)
  const keyPrefix = u.keyPrefix ?? U.keyPrefix
  // The in-memory store keeps its counts across reloads whatever else changes.
  return Object.freeze({ redis, failMode, timeoutMs, keyPrefix, id: redis === null ? 'memory' : `${redis}|${timeoutMs}|${keyPrefix}` })
}

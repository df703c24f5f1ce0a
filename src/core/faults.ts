// The shape of one network fault, shared by the config (network.faults), the HTTP API
// (PUT /v0/network/faults/{name}) and loadtest scenarios. One schema, so the three accept
// exactly the same faults and name the same fields when one is wrong.
import { Type, type Static } from '@sinclair/typebox'

export const FAULT_EFFECTS = ['down', 'reset', 'status', 'latency', 'stall', 'cut', 'ratelimit', 'errors'] as const
export type FaultEffect = typeof FAULT_EFFECTS[number]

const TARGET = '^[a-z0-9][a-z0-9-]{0,62}$'

/** What a fault does when its body leaves a field out: read by the schema's descriptions and by
 * the injection (faults/inject.ts), so the two cannot disagree. */
export const FAULT_DEFAULTS = Object.freeze({
  /** Status answered by `status`. */
  status: 503,
  /** Retry-After seconds sent with `ratelimit` (`status` sends none unless told). */
  ratelimitRetryAfter: 1,
  /** Response bytes relayed before `cut` breaks the stream. */
  afterBytes: 0,
  /** Fraction of matching attempts the fault applies to. */
  rate: 1
})

export const FaultBody = Type.Object({
  region: Type.Optional(Type.String({ pattern: TARGET, description: 'Only deployments in this region.' })),
  deployment: Type.Optional(Type.String({ pattern: TARGET, description: 'Only deployments with this name (the region name unless the model names them).' })),
  workspace: Type.Optional(Type.String({ pattern: TARGET, description: 'Only deployments of this workspace.' })),
  model: Type.Optional(Type.String({ pattern: TARGET, description: 'Only deployments of models with this name.' })),
  effect: Type.Union(FAULT_EFFECTS.map(e => Type.Literal(e)), { description: 'down: connection refused, nothing sent; reset: the request is sent in full and the connection reset as the deployment starts answering, before any response byte is relayed; status: the deployment answers `status` at once; latency: `ms` (± `jitter`) added before the attempt; stall: no response headers ever (the first-byte timeout ends it); cut: the response breaks after `afterBytes` bytes; ratelimit: 429 with Retry-After; errors: 500.' }),
  status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599, description: `Status answered by \`status\` (default ${FAULT_DEFAULTS.status}).` })),
  retryAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, description: `Retry-After seconds sent with \`status\` and \`ratelimit\` (default: none for status, ${FAULT_DEFAULTS.ratelimitRetryAfter} for ratelimit).` })),
  ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600000, description: 'Delay added by `latency`, in ms.' })),
  jitter: Type.Optional(Type.Integer({ minimum: 0, maximum: 600000, description: 'Up to this many ms more or less than `ms` (latency).' })),
  afterBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1073741824, description: `Response bytes relayed before \`cut\` breaks the stream (default ${FAULT_DEFAULTS.afterBytes}).` })),
  rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: `Fraction of matching attempts the fault applies to (default ${FAULT_DEFAULTS.rate}; draws come from \`seed\`).` })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'Seed of the fraction draws, so a run replays identically (default: derived from the name).' })),
  ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400, description: 'Seconds after which a run-time fault removes itself (a safety net for load tests that die).' }))
}, { additionalProperties: false, description: 'A fault between the gateway and the deployments it matches; at least one of region, deployment, workspace, model.' })

export const Fault = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$', description: 'Fault name (lower-case letters, digits, hyphens).' }),
  ...FaultBody.properties
}, { additionalProperties: false, description: FaultBody.description })

export type FaultBodyInput = Static<typeof FaultBody>
export type FaultInput = Static<typeof Fault>

/** Fields that pick deployments. */
export const TARGET_FIELDS = ['region', 'deployment', 'workspace', 'model'] as const

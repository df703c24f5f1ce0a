// Every default of agnet's configuration, each written once, in the spelling a config file
// would use ('10s', 3, '1MiB'). The schema publishes each entry as the field's `default`
// keyword and in its description; the compilers read the same entry, parsed once when the
// config is compiled. Also the parsers of durations and sizes. A leaf: it imports nothing of
// agnet's, so the schema itself can read it.

export const DEFAULTS = {
  server: {
    port: 8080,
    host: '0.0.0.0',
    region: 'us-pdx-1',
    trustOriginHeader: false,
    bodyLimit: '32MiB',
    maxHeaderBytes: 16384,
    logLevel: 'info',
    accessLog: true,
    shutdownGrace: '10s',
    upstreamConnections: 1024
  },
  regions: [
    { name: 'us-pdx-1', location: 'Portland', country: 'US', continent: 'NA', flavors: [{ type: 'cpu', name: 'x86' }, { type: 'gpu', name: 't4' }] },
    { name: 'us-was-1', location: 'North Virginia', country: 'US', continent: 'NA', flavors: [{ type: 'cpu', name: 'x86' }, { type: 'gpu', name: 'l4' }] },
    { name: 'eu-lon-1', location: 'London', country: 'GB', continent: 'EU', flavors: [{ type: 'cpu', name: 'x86' }] },
    { name: 'eu-fra-1', location: 'Frankfurt', country: 'DE', continent: 'EU', flavors: [{ type: 'cpu', name: 'x86' }, { type: 'gpu', name: 't4' }] }
  ],
  /** Flavors of a configured region that names none. */
  regionFlavors: [{ type: 'cpu', name: 'x86' }],
  network: { applyDelay: false },
  timeouts: { connect: '10s', firstByte: '300s', idle: '120s', total: '30m' },
  routing: { strategy: 'latency', maxAttempts: 3, budget: '60s', replayBodyLimit: '1MiB', ejectAfter: 3, ejectFor: '5s', retryNonIdempotent: false },
  model: { enabled: true },
  deployment: { weight: 1 },
  healthCheck: { interval: '10s' },
  policy: { dryRun: false },
  maxTokens: { step: 1 },
  apiKey: { revoked: false },
  serviceAccount: { role: 'member' },
  issuer: { tokenTtl: '2h', refreshTokenTtl: '720h' },
  external: { jwksCacheTtl: '10m', jwksCooldown: '30s', jwksTimeout: '3s', clockTolerance: '30s' },
  claims: { subject: 'sub', workspace: 'workspace', role: 'role' },
  auth: { cacheSize: 100_000 },
  usage: {
    failMode: 'open',
    timeout: '250ms',
    keyPrefix: 'agnet:',
    // A model answer's length when a request does not bound it and nothing is learned yet:
    // high enough for most chat answers, so a cold burst overshoots little; a larger value
    // refuses more of that burst.
    reserveOutput: 1024
  }
} as const

function unitMs (unit: string): number | undefined {
  switch (unit) {
    case 'ms': return 1
    case 's': return 1000
    case 'm': return 60_000
    case 'h': return 3_600_000
    default: return undefined
  }
}

function unitBytes (unit: string): number | undefined {
  switch (unit) {
    case 'B': return 1
    case 'KiB': return 1024
    case 'MiB': return 1024 ** 2
    case 'GiB': return 1024 ** 3
    default: return undefined
  }
}

function scaled (v: string, pattern: RegExp, unit: (u: string) => number | undefined): number | undefined {
  const m = pattern.exec(v)
  if (m === null) return undefined
  const [, count, u] = m
  const factor = u === undefined ? undefined : unit(u)
  return count === undefined || factor === undefined ? undefined : Number(count) * factor
}

const DURATION = /^([0-9]+)(ms|s|m|h)$/
const SIZE = /^([0-9]+)(B|KiB|MiB|GiB)$/

/** Milliseconds of a duration ("250ms", "30s", "5m", "2h", or a number of ms); `fallback` when absent or unreadable. */
export function parseDuration (v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v === 'number') return v
  return scaled(v, DURATION, unitMs) ?? fallback
}

/** Bytes of a size ("512KiB", "32MiB", or a number of bytes); `fallback` when absent or unreadable. */
export function parseBytes (v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v === 'number') return v
  return scaled(v, SIZE, unitBytes) ?? fallback
}

/** Milliseconds of a default's duration; a misspelt default is a bug, so it throws. */
export function durationMs (v: number | string): number {
  const ms = parseDuration(v, NaN)
  if (Number.isNaN(ms)) throw new Error(`"${v}" is not a duration`)
  return ms
}

/** Bytes of a default's size; a misspelt default is a bug, so it throws. */
export function byteCount (v: number | string): number {
  const n = parseBytes(v, NaN)
  if (Number.isNaN(n)) throw new Error(`"${v}" is not a size`)
  return n
}

export type Spellable = string | number | boolean | { readonly name: string; readonly type?: string } | ReadonlyArray<Spellable>

/** How a default reads in prose: "10s", "cpu x86", "us-pdx-1, us-was-1". */
export function spellDefault (v: Spellable): string {
  if (typeof v !== 'object') return String(v)
  if ('name' in v) return v.type === undefined ? v.name : `${v.type} ${v.name}`
  return v.map(spellDefault).join(', ')
}

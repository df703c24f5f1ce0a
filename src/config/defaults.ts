// Defaults of the network and of providers, and the parsers of durations and sizes.
import type { RegionInput } from './schema.js'
import type { CredentialStyle } from '../core/runtime.js'

export const DEFAULT_REGIONS: readonly RegionInput[] = Object.freeze([
  { name: 'us-pdx-1', location: 'Portland', country: 'US', continent: 'NA', flavors: [{ type: 'cpu', name: 'x86' }, { type: 'gpu', name: 't4' }] },
  { name: 'us-was-1', location: 'North Virginia', country: 'US', continent: 'NA', flavors: [{ type: 'cpu', name: 'x86' }, { type: 'gpu', name: 'l4' }] },
  { name: 'eu-lon-1', location: 'London', country: 'GB', continent: 'EU', flavors: [{ type: 'cpu', name: 'x86' }] },
  { name: 'eu-fra-1', location: 'Frankfurt', country: 'DE', continent: 'EU', flavors: [{ type: 'cpu', name: 'x86' }, { type: 'gpu', name: 't4' }] }
])

/** Names a workspace may not take: they are agnet's own path prefixes on the one port it serves everything from. */
export const RESERVED_WORKSPACE_NAMES: ReadonlySet<string> = new Set([
  'v0', 'v1', 'api', 'run', 'healthz', 'readyz', 'metrics', 'playground', 'well-known', 'oauth', 'static', 'assets', 'favicon-ico', 'robots-txt', 'internal', 'admin', 'agnet'
])

export const DEFAULT_TIMEOUTS = Object.freeze({ connectMs: 10_000, firstByteMs: 300_000, idleMs: 120_000, totalMs: 1_800_000 })
export const DEFAULT_ROUTING = Object.freeze({ strategy: 'latency' as const, maxAttempts: 3, budgetMs: 60_000, replayBodyLimit: 1024 * 1024, ejectAfter: 3, ejectForMs: 5_000, retryNonIdempotent: false })
export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024
export const DEFAULT_PORT = 8080

export type { CredentialStyle }

export interface ProviderInfo {
  /** Where the provider answers when no base URL is configured. */
  baseUrl: string
  credential: CredentialStyle
  /** Headers the provider needs that a client may omit. */
  defaultHeaders: ReadonlyArray<readonly [string, string]>
  /** Paths `bl run` may choose between (Integration.endpoints). */
  endpoints: readonly string[]
}

const OPENAI_ENDPOINTS = ['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/models']

export const PROVIDERS: Readonly<Record<string, ProviderInfo>> = Object.freeze({
  openai: { baseUrl: 'https://api.openai.com', credential: 'bearer', defaultHeaders: [], endpoints: OPENAI_ENDPOINTS },
  anthropic: { baseUrl: 'https://api.anthropic.com', credential: 'x-api-key', defaultHeaders: [['anthropic-version', '2023-06-01']], endpoints: ['/v1/messages'] },
  gemini: { baseUrl: 'https://generativelanguage.googleapis.com', credential: 'x-goog-api-key', defaultHeaders: [], endpoints: ['/v1beta/models/{model}:generateContent', '/v1beta/models/{model}:streamGenerateContent'] },
  cohere: { baseUrl: 'https://api.cohere.com', credential: 'bearer', defaultHeaders: [], endpoints: ['/v2/chat'] },
  mistral: { baseUrl: 'https://api.mistral.ai', credential: 'bearer', defaultHeaders: [], endpoints: ['/v1/chat/completions', '/v1/embeddings'] },
  deepseek: { baseUrl: 'https://api.deepseek.com', credential: 'bearer', defaultHeaders: [], endpoints: ['/v1/chat/completions'] },
  xai: { baseUrl: 'https://api.x.ai', credential: 'bearer', defaultHeaders: [], endpoints: ['/v1/chat/completions'] },
  cerebras: { baseUrl: 'https://api.cerebras.ai', credential: 'bearer', defaultHeaders: [], endpoints: ['/v1/chat/completions'] },
  groq: { baseUrl: 'https://api.groq.com/openai/v1', credential: 'bearer', defaultHeaders: [], endpoints: ['/chat/completions'] },
  huggingface: { baseUrl: 'https://router.huggingface.co', credential: 'bearer', defaultHeaders: [], endpoints: ['/v1/chat/completions'] },
  'azure-openai-service': { baseUrl: 'https://example.openai.azure.com', credential: 'api-key', defaultHeaders: [], endpoints: ['/chat/completions'] },
  'azure-ai-inference': { baseUrl: 'https://example.services.ai.azure.com', credential: 'bearer', defaultHeaders: [], endpoints: ['/chat/completions'] },
  'azure-marketplace': { baseUrl: 'https://example.services.ai.azure.com', credential: 'bearer', defaultHeaders: [], endpoints: ['/chat/completions'] },
  'public_model': { baseUrl: 'http://127.0.0.1:1', credential: 'bearer', defaultHeaders: [], endpoints: ['/'] }
})

/** Unknown provider types behave like OpenAI, as Blaxel's SDKs do. */
export function providerInfo (type: string): ProviderInfo {
  return PROVIDERS[type] ?? (PROVIDERS.openai as ProviderInfo)
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
export function parseDuration (v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v === 'number') return v
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(v)
  if (m === null) return fallback
  return Number(m[1]) * (UNITS[m[2] as string] as number)
}

const SIZES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }
export function parseBytes (v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v === 'number') return v
  const m = /^([0-9]+)(B|KiB|MiB|GiB)$/.exec(v)
  if (m === null) return fallback
  return Number(m[1]) * (SIZES[m[2] as string] as number)
}

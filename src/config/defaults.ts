// What the compilers start from: the defaults of timeouts and routing parsed once from the
// table of defaults, the names a workspace may not take, and what agnet knows of providers.
import type { CredentialStyle, RtRouting, RtTimeouts } from '../core/runtime.js'
import { DEFAULTS, byteCount, durationMs } from './default-values.js'

/** Names a workspace may not take: they are agnet's own path prefixes on the one port it serves everything from. */
export const RESERVED_WORKSPACE_NAMES: ReadonlySet<string> = new Set([
  'v0', 'v1', 'api', 'run', 'healthz', 'readyz', 'metrics', 'playground', 'well-known', 'oauth', 'static', 'assets', 'favicon-ico', 'robots-txt', 'internal', 'admin', 'agnet'
])

const T = DEFAULTS.timeouts
export const DEFAULT_TIMEOUTS: RtTimeouts = Object.freeze({ connectMs: durationMs(T.connect), firstByteMs: durationMs(T.firstByte), idleMs: durationMs(T.idle), totalMs: durationMs(T.total) })
const R = DEFAULTS.routing
export const DEFAULT_ROUTING: RtRouting = Object.freeze({
  strategy: R.strategy,
  maxAttempts: R.maxAttempts,
  budgetMs: durationMs(R.budget),
  replayBodyLimit: byteCount(R.replayBodyLimit),
  ejectAfter: R.ejectAfter,
  ejectForMs: durationMs(R.ejectFor),
  retryNonIdempotent: R.retryNonIdempotent
})

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

const OPENAI: ProviderInfo = { baseUrl: 'https://api.openai.com', credential: 'bearer', defaultHeaders: [], endpoints: OPENAI_ENDPOINTS }

export const PROVIDERS: Readonly<Record<string, ProviderInfo>> = Object.freeze({
  openai: OPENAI,
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
  return PROVIDERS[type] ?? OPENAI
}

// Which translation a model gets, decided when the config is compiled: mk3 models of the
// Anthropic, Gemini and Cohere types are translated; every other mk3 model speaks OpenAI
// already and only has its `model` replaced.
import { anthropicRequest } from './anthropic-request.js'
import { anthropicResponse, providerError } from './anthropic-response.js'
import { AnthropicStream } from './anthropic-stream.js'
import { cohereRequest } from './cohere-request.js'
import { cohereResponse } from './cohere-response.js'
import { CohereStream } from './cohere-stream.js'
import { geminiRequest } from './gemini-request.js'
import { geminiResponse } from './gemini-response.js'
import { GeminiStream } from './gemini-stream.js'
import { includeUsage } from './common.js'
import type { ChatTranslator, UpstreamRequest } from './types.js'

export const ANTHROPIC: ChatTranslator = {
  provider: 'anthropic',
  request: anthropicRequest,
  response: anthropicResponse,
  stream: (req, created, model) => new AnthropicStream(req, created, model),
  error: providerError
}

export const GEMINI: ChatTranslator = {
  provider: 'gemini',
  request: geminiRequest,
  response: geminiResponse,
  stream: (req, created, model) => new GeminiStream(req, created, model),
  error: providerError
}

export const COHERE: ChatTranslator = {
  provider: 'cohere',
  request: cohereRequest,
  response: cohereResponse,
  stream: (req, created, model) => new CohereStream(req, created, model),
  error: providerError
}

const TRANSLATED: Readonly<Record<string, ChatTranslator>> = { anthropic: ANTHROPIC, gemini: GEMINI, cohere: COHERE }

/** How an mk3 model's chat completions travel; null for models of other generations. */
export interface Mk3Plan {
  /** null: the provider speaks OpenAI; only `model` is replaced. */
  readonly translator: ChatTranslator | null
  /** What replaces the client's `model` (the Blaxel model name). */
  readonly runtimeModel: string
}

/** The translation of an mk3 model of provider type `type`. */
export function planFor (type: string, runtimeModel: string): Mk3Plan {
  return { translator: TRANSLATED[type] ?? null, runtimeModel }
}

/** An OpenAI-type mk3 request: the same body with runtime.model in `model`. */
export function passthroughRequest (body: Record<string, unknown>, runtimeModel: string, rest: string): UpstreamRequest {
  const stream = body.stream === true
  return { rest, body: Buffer.from(JSON.stringify({ ...body, model: runtimeModel })), stream, includeUsage: stream && includeUsage(body) }
}

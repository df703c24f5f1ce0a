// The contract between the run plane and a provider translation: pure functions from an
// OpenAI chat request to the provider's native request, and from the native answer (whole
// or event by event) back to OpenAI's.
import type { OpenAiErrorBody } from '../core/render-error.js'

/** The native request to send instead of the client's. */
export interface UpstreamRequest {
  /** Path (and query) under the deployment's base URL. */
  readonly rest: string
  readonly body: Buffer
  readonly stream: boolean
  /** stream_options.include_usage: a final chunk carries the usage. */
  readonly includeUsage: boolean
}

/** OpenAI `usage`, from what the provider reported. */
export interface ChatUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details: { cached_tokens: number }
}

/** Turns one provider stream into OpenAI chunks, one event at a time. */
export interface StreamTranslator {
  /** One SSE event of the provider (`name` is '' when it had no event line) → OpenAI SSE text. */
  event (name: string, data: string): string
  /** The provider's stream ended cleanly → what is left to send, `data: [DONE]` last. */
  end (): string
}

export interface ChatTranslator {
  readonly provider: string
  /** Throws TranslationRefusal for what the provider cannot honour. */
  request (body: Record<string, unknown>, runtimeModel: string): UpstreamRequest
  /** A native 2xx JSON answer → an OpenAI chat.completion (`model`: runtime.model, when the answer names none). */
  response (json: unknown, created: number, model: string): Record<string, unknown>
  stream (req: UpstreamRequest, created: number, model: string): StreamTranslator
  /** A native error answer (its body as text) → OpenAI's error body, for the provider's status. */
  error (status: number, body: string): OpenAiErrorBody
}

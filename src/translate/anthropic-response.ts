// Anthropic Messages answer → OpenAI chat.completion, and Anthropic errors → OpenAI's.
import { isRecord } from './common.js'
import { openAiError, openAiErrorType, type OpenAiErrorBody } from '../core/render-error.js'
import { usageOf } from './chunks.js'
import type { ChatUsage } from './types.js'

const FINISH: Readonly<Record<string, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter'
}

export function anthropicFinish (reason: unknown): string {
  return typeof reason === 'string' ? FINISH[reason] ?? 'stop' : 'stop'
}

function count (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0
}

/** Anthropic's input_tokens leave out cache reads and writes; OpenAI's prompt_tokens include them. */
export function anthropicUsage (u: unknown, output?: unknown): ChatUsage {
  const r = isRecord(u) ? u : {}
  const read = count(r.cache_read_input_tokens)
  const prompt = count(r.input_tokens) + read + count(r.cache_creation_input_tokens)
  return usageOf(prompt, count(output ?? r.output_tokens), read)
}

export function anthropicResponse (json: unknown, created: number, model: string): Record<string, unknown> {
  const r = isRecord(json) ? json : {}
  let text: string | null = null
  const calls: unknown[] = []
  const content = Array.isArray(r.content) ? r.content : []
  for (const b of content) {
    if (!isRecord(b)) continue
    if (b.type === 'text' && typeof b.text === 'string') text = (text ?? '') + b.text
    else if (b.type === 'tool_use') calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } })
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null, annotations: [] }
  if (calls.length > 0) message.tool_calls = calls
  return {
    id: typeof r.id === 'string' ? r.id : 'msg',
    object: 'chat.completion',
    created,
    model: typeof r.model === 'string' ? r.model : model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: anthropicFinish(r.stop_reason) }],
    usage: anthropicUsage(r.usage)
  }
}

/** Message and type of a provider error body, whatever its shape. */
export function errorParts (body: string): { message: string; code: string | null } {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { message: body.slice(0, 1000) || 'the provider answered an error without a body', code: null }
  }
  const r = isRecord(json) ? json : {}
  const e = isRecord(r.error) ? r.error : r
  const message = typeof e.message === 'string' ? e.message : typeof r.message === 'string' ? r.message : JSON.stringify(json).slice(0, 1000)
  const code = typeof e.type === 'string' ? e.type : typeof e.status === 'string' ? e.status : null
  return { message, code }
}

export function providerError (status: number, body: string): OpenAiErrorBody {
  const { message, code } = errorParts(body)
  return openAiError(message, openAiErrorType(status), null, code)
}

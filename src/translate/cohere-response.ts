// Cohere v2 chat answer → OpenAI chat.completion.
import { isRecord } from './common.js'
import { usageOf } from './chunks.js'
import type { ChatUsage } from './types.js'

const FINISH: Readonly<Record<string, string>> = {
  COMPLETE: 'stop',
  STOP_SEQUENCE: 'stop',
  MAX_TOKENS: 'length',
  TOOL_CALL: 'tool_calls',
  ERROR_TOXIC: 'content_filter'
}

export function cohereFinish (reason: unknown): string {
  return typeof reason === 'string' ? FINISH[reason] ?? 'stop' : 'stop'
}

function count (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0
}

/** `tokens` is what the model used; `billed_units` what was charged; the former when present. */
export function cohereUsage (u: unknown): ChatUsage {
  const r = isRecord(u) ? u : {}
  const t = isRecord(r.tokens) ? r.tokens : isRecord(r.billed_units) ? r.billed_units : {}
  const cached = typeof r.cached_tokens === 'number' ? r.cached_tokens : 0
  return usageOf(count(t.input_tokens), count(t.output_tokens), count(cached))
}

export function cohereResponse (json: unknown, created: number, model: string): Record<string, unknown> {
  const r = isRecord(json) ? json : {}
  const m = isRecord(r.message) ? r.message : {}
  let text: string | null = null
  for (const c of Array.isArray(m.content) ? m.content : []) {
    if (isRecord(c) && c.type === 'text' && typeof c.text === 'string') text = (text ?? '') + c.text
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null, annotations: [] }
  if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
    message.tool_calls = m.tool_calls.map((c: unknown) => {
      const call = isRecord(c) ? c : {}
      const f = isRecord(call.function) ? call.function : {}
      return { id: call.id, type: 'function', function: { name: f.name, arguments: typeof f.arguments === 'string' ? f.arguments : '{}' } }
    })
  }
  return {
    id: typeof r.id === 'string' ? r.id : 'cohere',
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: cohereFinish(r.finish_reason) }],
    usage: cohereUsage(r.usage)
  }
}

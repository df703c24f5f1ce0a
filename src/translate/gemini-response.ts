// Gemini generateContent answer → OpenAI chat.completion.
import { isRecord } from './common.js'
import { usageOf } from './chunks.js'
import type { ChatUsage } from './types.js'

const FINISH: Readonly<Record<string, string>> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter'
}

/** A STOP that produced function calls is OpenAI's tool_calls. */
export function geminiFinish (reason: unknown, calledTools: boolean): string {
  const r = typeof reason === 'string' ? FINISH[reason] ?? 'stop' : 'stop'
  return r === 'stop' && calledTools ? 'tool_calls' : r
}

function count (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0
}

/** Thinking tokens are billed as output, as OpenAI counts reasoning in completion_tokens. */
export function geminiUsage (u: unknown): ChatUsage {
  const r = isRecord(u) ? u : {}
  return usageOf(count(r.promptTokenCount), count(r.candidatesTokenCount) + count(r.thoughtsTokenCount), count(r.cachedContentTokenCount))
}

/** Gemini does not always name its function calls: ids are made from the response and position. */
export function callId (responseId: string, candidate: number, n: number): string {
  return `call_${responseId}_${candidate}_${n}`
}

export function geminiResponse (json: unknown, created: number, model: string): Record<string, unknown> {
  const r = isRecord(json) ? json : {}
  const responseId = typeof r.responseId === 'string' ? r.responseId : 'gemini'
  const candidates = Array.isArray(r.candidates) ? r.candidates : []
  const choices = candidates.map((c: unknown, i) => {
    const cand = isRecord(c) ? c : {}
    const index = typeof cand.index === 'number' ? cand.index : i
    const content = isRecord(cand.content) ? cand.content : {}
    let text: string | null = null
    const calls: unknown[] = []
    for (const p of Array.isArray(content.parts) ? content.parts : []) {
      if (!isRecord(p) || p.thought === true) continue
      if (typeof p.text === 'string') text = (text ?? '') + p.text
      else if (isRecord(p.functionCall)) {
        const f = p.functionCall
        calls.push({ id: typeof f.id === 'string' ? f.id : callId(responseId, index, calls.length), type: 'function', function: { name: f.name, arguments: JSON.stringify(f.args ?? {}) } })
      }
    }
    const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null, annotations: [] }
    if (calls.length > 0) message.tool_calls = calls
    return { index, message, logprobs: null, finish_reason: geminiFinish(cand.finishReason, calls.length > 0) }
  })
  return {
    id: responseId,
    object: 'chat.completion',
    created,
    model: typeof r.modelVersion === 'string' ? r.modelVersion : model,
    choices,
    usage: geminiUsage(r.usageMetadata)
  }
}

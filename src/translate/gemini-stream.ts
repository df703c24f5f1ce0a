// Gemini's streamGenerateContent?alt=sse chunks → OpenAI chunks, each as it arrives. Gemini
// sends a function call whole, so its arguments go in one delta; usageMetadata is cumulative,
// so the last one seen is the answer's usage, sent once the provider has ended.
import { ChunkWriter, DONE } from './chunks.js'
import { isRecord } from './common.js'
import { callId, geminiFinish, geminiUsage } from './gemini-response.js'
import type { StreamTranslator, UpstreamRequest } from './types.js'

export class GeminiStream implements StreamTranslator {
  private readonly out: ChunkWriter
  private usage: unknown = null
  private started = false
  /** Candidate index → tool calls sent so far. */
  private readonly calls = new Map<number, number>()

  constructor (req: UpstreamRequest, created: number, model: string) {
    this.out = new ChunkWriter('', model, created, req.includeUsage)
  }

  event (_name: string, data: string): string {
    const chunk: unknown = JSON.parse(data)
    if (!isRecord(chunk)) return ''
    let text = ''
    if (!this.started) {
      this.started = true
      if (typeof chunk.responseId === 'string') this.out.id = chunk.responseId
      if (typeof chunk.modelVersion === 'string') this.out.model = chunk.modelVersion
      text += this.out.start()
    }
    if (chunk.usageMetadata !== undefined) this.usage = chunk.usageMetadata
    const candidates = Array.isArray(chunk.candidates) ? chunk.candidates : []
    for (let i = 0; i < candidates.length; i++) {
      const c: unknown = candidates[i]
      if (!isRecord(c)) continue
      const index = typeof c.index === 'number' ? c.index : i
      const content = isRecord(c.content) ? c.content : {}
      for (const p of Array.isArray(content.parts) ? content.parts : []) {
        if (!isRecord(p) || p.thought === true) continue
        if (typeof p.text === 'string' && p.text !== '') text += this.out.text(p.text, index)
        else if (isRecord(p.functionCall)) {
          const f = p.functionCall
          const n = this.calls.get(index) ?? 0
          this.calls.set(index, n + 1)
          text += this.out.toolCall({ index: n, id: typeof f.id === 'string' ? f.id : callId(this.out.id, index, n), type: 'function', function: { name: String(f.name), arguments: JSON.stringify(f.args ?? {}) } }, index)
        }
      }
      if (typeof c.finishReason === 'string') text += this.out.finish(geminiFinish(c.finishReason, (this.calls.get(index) ?? 0) > 0), index)
    }
    return text
  }

  end (): string {
    return (this.usage !== null ? this.out.usage(geminiUsage(this.usage)) : '') + DONE
  }
}

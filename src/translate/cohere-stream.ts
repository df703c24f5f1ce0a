// Cohere v2's named stream events → OpenAI chunks, each as it arrives.
//   message-start    → the role chunk
//   content-delta    → text
//   tool-call-start  → a tool call's id, name and first arguments
//   tool-call-delta  → more of its arguments
//   message-end      → the finish reason and the usage
import { ChunkWriter, DONE } from './chunks.js'
import { isRecord } from './common.js'
import { cohereFinish, cohereUsage } from './cohere-response.js'
import type { StreamTranslator, UpstreamRequest } from './types.js'

function deltaMessage (ev: Record<string, unknown>): Record<string, unknown> {
  const d = isRecord(ev.delta) ? ev.delta : {}
  return isRecord(d.message) ? d.message : {}
}

export class CohereStream implements StreamTranslator {
  private readonly out: ChunkWriter
  constructor (req: UpstreamRequest, created: number, model: string) {
    this.out = new ChunkWriter('', model, created, req.includeUsage)
  }

  event (name: string, data: string): string {
    const ev: unknown = JSON.parse(data)
    if (!isRecord(ev)) return ''
    const type = typeof ev.type === 'string' ? ev.type : name
    switch (type) {
      case 'message-start':
        if (typeof ev.id === 'string') this.out.id = ev.id
        return this.out.start()
      case 'content-delta': {
        const c = deltaMessage(ev).content
        return isRecord(c) && typeof c.text === 'string' && c.text !== '' ? this.out.text(c.text) : ''
      }
      case 'tool-call-start': {
        const call = deltaMessage(ev).tool_calls
        if (!isRecord(call)) return ''
        const f = isRecord(call.function) ? call.function : {}
        return this.out.toolCall({ index: Number(ev.index ?? 0), id: String(call.id), type: 'function', function: { name: String(f.name), arguments: typeof f.arguments === 'string' ? f.arguments : '' } })
      }
      case 'tool-call-delta': {
        const call = deltaMessage(ev).tool_calls
        const f = isRecord(call) && isRecord(call.function) ? call.function : {}
        return typeof f.arguments === 'string' && f.arguments !== '' ? this.out.toolCall({ index: Number(ev.index ?? 0), function: { arguments: f.arguments } }) : ''
      }
      case 'message-end': {
        const d = isRecord(ev.delta) ? ev.delta : {}
        return this.out.finish(cohereFinish(d.finish_reason)) + (d.usage !== undefined ? this.out.usage(cohereUsage(d.usage)) : '')
      }
      default:
        return ''
    }
  }

  end (): string {
    return DONE
  }
}

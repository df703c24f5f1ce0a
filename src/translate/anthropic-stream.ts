// Anthropic's named stream events → OpenAI chunks, each as it arrives.
//   message_start        → the role chunk (id and model learnt here)
//   content_block_start  → a tool call's id and name (tool calls numbered 0, 1, … in order)
//   content_block_delta  → text, or a piece of a tool call's JSON arguments
//   message_delta        → the finish reason; output tokens for the usage chunk
//   error                → OpenAI's in-stream error, and no [DONE]
import { ChunkWriter, DONE, streamError } from './chunks.js'
import { isRecord } from './common.js'
import { openAiErrorType } from '../core/render-error.js'
import { anthropicFinish, anthropicUsage } from './anthropic-response.js'
import type { StreamTranslator, UpstreamRequest } from './types.js'

export class AnthropicStream implements StreamTranslator {
  private readonly out: ChunkWriter
  /** Content block index → tool call index. */
  private readonly tools = new Map<number, number>()
  private startUsage: unknown = null
  private outputTokens: unknown = 0
  private failed = false

  constructor (req: UpstreamRequest, created: number, model: string) {
    this.out = new ChunkWriter('', model, created, req.includeUsage)
  }

  event (name: string, data: string): string {
    const ev: unknown = JSON.parse(data)
    if (!isRecord(ev)) return ''
    const type = typeof ev.type === 'string' ? ev.type : name
    switch (type) {
      case 'message_start': {
        const m = isRecord(ev.message) ? ev.message : {}
        if (typeof m.id === 'string') this.out.id = m.id
        if (typeof m.model === 'string') this.out.model = m.model
        this.startUsage = m.usage
        return this.out.start()
      }
      case 'content_block_start': {
        const b = isRecord(ev.content_block) ? ev.content_block : {}
        if (b.type === 'text' && typeof b.text === 'string' && b.text !== '') return this.out.text(b.text)
        if (b.type !== 'tool_use') return ''
        const index = this.tools.size
        this.tools.set(Number(ev.index), index)
        return this.out.toolCall({ index, id: String(b.id), type: 'function', function: { name: String(b.name), arguments: '' } })
      }
      case 'content_block_delta': {
        const d = isRecord(ev.delta) ? ev.delta : {}
        if (d.type === 'text_delta' && typeof d.text === 'string') return this.out.text(d.text)
        if (d.type === 'input_json_delta' && typeof d.partial_json === 'string') {
          const index = this.tools.get(Number(ev.index))
          if (index === undefined || d.partial_json === '') return ''
          return this.out.toolCall({ index, function: { arguments: d.partial_json } })
        }
        return ''
      }
      case 'message_delta': {
        const d = isRecord(ev.delta) ? ev.delta : {}
        const u = isRecord(ev.usage) ? ev.usage : {}
        if (u.output_tokens !== undefined) this.outputTokens = u.output_tokens
        return d.stop_reason !== undefined && d.stop_reason !== null ? this.out.finish(anthropicFinish(d.stop_reason)) : ''
      }
      case 'message_stop':
        return this.out.usage(anthropicUsage(this.startUsage, this.outputTokens))
      case 'error': {
        this.failed = true
        const e = isRecord(ev.error) ? ev.error : {}
        const code = typeof e.type === 'string' ? e.type : null
        return streamError(typeof e.message === 'string' ? e.message : 'the provider stream failed', code === 'overloaded_error' ? openAiErrorType(529) : 'server_error', code)
      }
      default:
        return ''
    }
  }

  end (): string {
    // An error event ended the answer: the client must not read it as complete.
    return this.failed ? '' : DONE
  }
}

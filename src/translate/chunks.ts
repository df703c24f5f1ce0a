// Builds OpenAI `chat.completion.chunk` events for the stream translations.
import type { ChatUsage } from './types.js'

export interface ToolCallDelta {
  index: number
  id?: string
  type?: 'function'
  function: { name?: string; arguments: string }
}

export class ChunkWriter {
  id: string
  model: string
  readonly created: number
  readonly includeUsage: boolean
  /** The assistant role goes on the first delta only, as OpenAI sends it. */
  private roleSent = false

  constructor (id: string, model: string, created: number, includeUsage: boolean) {
    this.id = id
    this.model = model
    this.created = created
    this.includeUsage = includeUsage
  }

  private frame (choices: unknown[], usage: ChatUsage | null): string {
    const chunk: Record<string, unknown> = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices }
    // With include_usage OpenAI puts `usage: null` on every chunk but the last.
    if (this.includeUsage) chunk.usage = usage
    return `data: ${JSON.stringify(chunk)}\n\n`
  }

  delta (delta: Record<string, unknown>, index = 0): string {
    if (!this.roleSent) {
      this.roleSent = true
      delta = { role: 'assistant', ...delta }
    }
    return this.frame([{ index, delta, logprobs: null, finish_reason: null }], null)
  }

  /** The first chunk: the role with empty content, before any token. */
  start (): string {
    return this.delta({ content: '' })
  }

  text (text: string, index = 0): string {
    return this.delta({ content: text }, index)
  }

  toolCall (call: ToolCallDelta, index = 0): string {
    return this.delta({ tool_calls: [call] }, index)
  }

  finish (reason: string, index = 0): string {
    return this.frame([{ index, delta: {}, logprobs: null, finish_reason: reason }], null)
  }

  /** The usage chunk (no choices), only when the client asked for it. */
  usage (usage: ChatUsage): string {
    return this.includeUsage ? this.frame([], usage) : ''
  }
}

export const DONE = 'data: [DONE]\n\n'

/** OpenAI's way to report an error inside a stream. */
export function streamError (message: string, type: string, code: string | null): string {
  return `data: ${JSON.stringify({ error: { message, type, param: null, code } })}\n\n`
}

export function usageOf (prompt: number, completion: number, cached: number): ChatUsage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } }
}

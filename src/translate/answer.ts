// One translated exchange on the way back: the provider's answer, as it arrives, becomes
// OpenAI's. An event stream is translated event by event (nothing held back beyond a partial
// line); a JSON answer or an error is read whole, bounded, and translated once it ended.
import type { AnswerRewriter } from '../core/upstream.js'
import { SseTranslatingReader } from './sse.js'
import type { ChatTranslator, UpstreamRequest } from './types.js'

/** A whole (non-streamed) provider answer larger than this breaks the exchange. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024

export class TranslationError extends Error {
  readonly code = 'AGNET_TRANSLATION'
}

const REPLACED = new Set(['content-length', 'content-type', 'content-encoding'])
const EMPTY = ''

export class TranslatedAnswer implements AnswerRewriter {
  readonly translator: ChatTranslator | null
  readonly request: UpstreamRequest
  readonly runtimeModel: string
  private mode: 'raw' | 'stream' | 'whole' = 'raw'
  private status = 0
  private reader: SseTranslatingReader | null = null
  private chunks: Buffer[] = []
  private size = 0

  constructor (translator: ChatTranslator | null, request: UpstreamRequest, runtimeModel: string) {
    this.translator = translator
    this.request = request
    this.runtimeModel = runtimeModel
  }

  /** Writes the client's response headers into `out`; true when the answer is an event stream. */
  begin (status: number, all: readonly string[], upstreamSse: boolean, out: string[]): boolean {
    if (this.translator === null) {
      for (const h of all) out.push(h)
      return upstreamSse
    }
    this.status = status
    for (let i = 0; i + 1 < all.length; i += 2) {
      const name = all[i]
      const value = all[i + 1]
      if (name !== undefined && value !== undefined && !REPLACED.has(name)) out.push(name, value)
    }
    if (status >= 200 && status < 300 && upstreamSse) {
      this.mode = 'stream'
      this.reader = new SseTranslatingReader(this.translator.stream(this.request, Math.floor(Date.now() / 1000), this.runtimeModel))
      out.push('content-type', 'text/event-stream; charset=utf-8')
      return true
    }
    this.mode = 'whole'
    out.push('content-type', 'application/json')
    return false
  }

  /** After begin(): the answer is translated whole, once the provider's has ended. */
  whole (): boolean {
    return this.mode === 'whole'
  }

  /** One chunk of the provider's body → what to write to the client now. Throws on a broken answer. */
  data (chunk: Buffer): Buffer | string {
    if (this.mode === 'raw') return chunk
    if (this.reader !== null) return this.reader.push(chunk)
    this.size += chunk.length
    if (this.size > MAX_ANSWER_BYTES) throw new TranslationError('the provider answer is larger than agnet translates')
    this.chunks.push(chunk)
    return EMPTY
  }

  /** Whether data() held back the rest of its chunk so the stream's first chunk could go out alone. */
  holding (): boolean {
    return this.reader !== null && this.reader.holding()
  }

  /** What data() held back of its chunk so the stream's first chunk could go out alone. */
  rest (): string {
    return this.reader === null ? EMPTY : this.reader.rest()
  }

  /** The provider ended cleanly → the rest of the client's answer. Throws on an untranslatable answer. */
  end (): string {
    const t = this.translator
    if (this.mode === 'raw' || t === null) return EMPTY
    if (this.reader !== null) return this.reader.end()
    const first = this.chunks[0]
    const text = this.chunks.length === 1 && first !== undefined ? first.toString('utf8') : Buffer.concat(this.chunks, this.size).toString('utf8')
    this.chunks = []
    if (this.status < 200 || this.status >= 300) return JSON.stringify(t.error(this.status, text))
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new TranslationError('the provider answered a body that is not JSON')
    }
    return JSON.stringify(t.response(json, Math.floor(Date.now() / 1000), this.runtimeModel))
  }
}

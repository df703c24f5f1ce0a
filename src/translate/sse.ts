// An incremental Server-Sent Events reader: events are framed by lines across chunk
// boundaries (LF, CRLF or CR), and every buffer is bounded.
//
// The first event that yields output is handed over on its own: when a chunk holds more
// (a provider that sends message_start, the block start and the first deltas in one write),
// push() returns the stream's first OpenAI chunk at once and rest() the rest of that chunk,
// so the client's first byte does not wait for the whole chunk to be translated. (A caller
// that never asks rest() still gets everything, in order, from the next push() or end().)
import type { StreamTranslator } from './types.js'

/** An event larger than this is a protocol failure: the stream is broken, not truncated. */
export const MAX_EVENT_BYTES = 1024 * 1024

export class SseProtocolError extends Error {
  readonly code = 'AGNET_SSE_PROTOCOL'
}

export class SseTranslatingReader {
  private readonly out: StreamTranslator
  private partial = ''
  private event = ''
  private data: string[] = []
  private size = 0
  /** The previous chunk ended in CR: an LF opening this one belongs to it. */
  private skipLf = false
  /** Some output went out already: no more holding back. */
  private started = false
  /** Text of the current chunk not read yet, after the stream's first output. */
  private held = ''

  constructor (out: StreamTranslator) {
    this.out = out
  }

  /** Bytes of a character split across chunks, held back so it decodes whole. */
  private pending: Buffer | null = null

  /** Reads one chunk of the provider's stream; returns the OpenAI text it yields. */
  push (chunk: Buffer): string {
    if (this.pending !== null) {
      chunk = Buffer.concat([this.pending, chunk])
      this.pending = null
    }
    const cut = incompleteTail(chunk)
    if (cut > 0) {
      this.pending = chunk.subarray(chunk.length - cut)
      chunk = chunk.subarray(0, chunk.length - cut)
    }
    // Held text comes first, for a caller that did not ask rest() for it.
    if (this.held !== '') return this.rest() + this.read(chunk.toString('utf8'))
    return this.read(chunk.toString('utf8'))
  }

  private read (text: string): string {
    let out = ''
    let start = 0
    if (this.skipLf && text.charCodeAt(0) === 10) start = 1
    this.skipLf = false
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      const line = this.partial + text.slice(start, i)
      this.partial = ''
      if (c === 13) {
        if (i + 1 === text.length) this.skipLf = true
        else if (text.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
      out += this.line(line)
      if (!this.started && out !== '') {
        this.started = true
        if (start < text.length) {
          this.held = text.slice(start)
          return out
        }
      }
    }
    if (start < text.length) {
      this.partial += text.slice(start)
      if (this.partial.length > MAX_EVENT_BYTES) throw new SseProtocolError('a provider stream line exceeds 1 MiB')
    }
    return out
  }

  private line (line: string): string {
    if (line === '') {
      if (this.data.length === 0) { this.event = ''; return '' }
      const name = this.event
      const only = this.data[0]
      const data = this.data.length === 1 && only !== undefined ? only : this.data.join('\n')
      this.event = ''
      this.data = []
      this.size = 0
      return this.out.event(name, data)
    }
    if (line.charCodeAt(0) === 58 /* : */) return ''
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') {
      this.size += value.length
      if (this.size > MAX_EVENT_BYTES) throw new SseProtocolError('a provider stream event exceeds 1 MiB')
      this.data.push(value)
    } else if (field === 'event') this.event = value
    return ''
  }

  /** Whether push() held back part of its chunk after the stream's first output (see rest()). */
  holding (): boolean {
    return this.held !== ''
  }

  /** What push() held back of its chunk after the stream's first output ('' almost always). */
  rest (): string {
    if (this.held === '') return ''
    const text = this.held
    this.held = ''
    return this.read(text)
  }

  /** The provider ended: a last event without its blank line still counts. */
  end (): string {
    let out = this.rest()
    if (this.partial !== '') { out += this.line(this.partial); this.partial = '' }
    if (this.data.length > 0) out += this.line('')
    return out + this.out.end()
  }
}

/** Bytes at the end of `b` that start a UTF-8 character not finished in `b`. */
function incompleteTail (b: Buffer): number {
  const n = b.length
  for (let k = 1; k <= 3 && k <= n; k++) {
    const byte = b[n - k]
    if (byte === undefined) return 0
    if ((byte & 0xc0) === 0x80) continue // continuation byte: look further back
    if ((byte & 0x80) === 0) return 0
    const need = (byte & 0xe0) === 0xc0 ? 2 : (byte & 0xf0) === 0xe0 ? 3 : 4
    return need > k ? k : 0
  }
  return 0
}

// Reads token usage from a response as it streams by, without holding a byte back: the
// meter only looks at chunks the gateway is already writing to the client.
//
// Event streams are split into events incrementally and each event's JSON is read for the
// places providers report usage and for the text they stream (provider-usage.ts).
// JSON bodies (and Gemini's streamed JSON array) are read when they end. Everything buffered
// is bounded: a line or event over MAX_EVENT_BYTES is skipped, a JSON body over MAX_BODY_BYTES
// is only kept by its tail, where every provider puts its usage object.
//
// Without reported usage the meter estimates: output = ceil(characters of streamed text / 4),
// input = ceil(request body bytes / 4), and marks the result estimated.
import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib'
import type { TokenUsage } from '../core/usage.js'
import { scanUsageObjects } from './scan-usage.js'
import { isRecord, ReportedUsage } from './provider-usage.js'

export const MAX_EVENT_BYTES = 256 * 1024
export const MAX_BODY_BYTES = 1024 * 1024
const TAIL_BYTES = 64 * 1024
const MAX_DECODED_BYTES = 8 * 1024 * 1024
const LF = 10
const CR = 13

type Mode = 'sse' | 'json'

export class UsageMeter extends ReportedUsage {
  private readonly mode: Mode
  private readonly encoding: string | null
  private readonly ok: boolean
  // SSE state: the partial line carried to the next chunk, the data of the current event.
  private partial: Buffer | null = null
  private skippingLine = false
  private data = ''
  private dataOverflow = false
  // JSON / encoded state: chunks kept while small, then only the tail.
  private chunks: Buffer[] | null = null
  private kept = 0
  private seen = 0
  private truncated = false

  /** Content-Length of a JSON body: one chunk that long is the whole body, read at once. */
  private readonly length: number
  /** The whole body was read as it passed. */
  private read = false

  constructor (status: number, contentType: string | undefined, contentEncoding: string | undefined, contentLength = -1) {
    super()
    this.ok = status >= 200 && status < 300
    this.mode = contentType !== undefined && contentType.toLowerCase().includes('text/event-stream') ? 'sse' : 'json'
    const enc = contentEncoding?.trim().toLowerCase()
    this.encoding = enc === undefined || enc === '' || enc === 'identity' ? null : enc
    this.length = contentLength
  }

  /** Sees one chunk on its way to the client. Never throws. */
  write (chunk: Buffer): void {
    if (!this.ok) return
    this.seen += chunk.length
    if (this.mode === 'sse' && this.encoding === null) this.scanSse(chunk)
    else if (this.seen === this.length && this.seen === chunk.length && this.encoding === null) {
      // The usual small answer: the whole body in one chunk. Read it now, while the chunk is
      // valid, instead of copying it to read at the end.
      this.read = true
      this.readJson(chunk)
    } else this.keep(chunk)
  }

  /** The request's usage, from what was seen so far (complete or aborted). */
  finish (requestBytes: number): TokenUsage {
    if (!this.ok) return { input: 0, output: 0, total: 0, estimated: false }
    if (this.mode === 'sse' && this.encoding === null) {
      if (this.partial !== null && !this.skippingLine) this.line(this.partial.toString('utf8'))
      this.partial = null
      this.dispatch()
    } else if (!this.read) {
      this.readKept()
    }
    return this.result(requestBytes)
  }

  private result (requestBytes: number): TokenUsage {
    let estimated = false
    let input = this.input
    let output = this.output
    if (input < 0) {
      input = Math.ceil(requestBytes / 4)
      if (input > 0) estimated = true
    }
    if (output < 0) {
      if (this.total >= 0 && this.input >= 0) output = Math.max(0, this.total - this.input)
      else {
        output = Math.ceil(this.chars / 4)
        if (output > 0) estimated = true
      }
    }
    const total = this.total >= 0 && this.input >= 0 && this.output >= 0 ? Math.max(this.total, input + output) : input + output
    return { input, output, total, estimated }
  }

  // Event streams ---------------------------------------------------------------------

  private scanSse (chunk: Buffer): void {
    let from = 0
    for (;;) {
      const nl = chunk.indexOf(LF, from)
      if (nl < 0) break
      if (this.partial !== null) {
        if (!this.skippingLine) {
          const whole = Buffer.concat([this.partial, chunk.subarray(from, nl)])
          this.lineOf(whole, 0, whole.length)
        }
        this.partial = null
        this.skippingLine = false
      } else {
        this.lineOf(chunk, from, nl)
      }
      from = nl + 1
    }
    if (from < chunk.length) {
      if (this.skippingLine) return
      const rest = chunk.subarray(from)
      const size = (this.partial?.length ?? 0) + rest.length
      if (size > MAX_EVENT_BYTES) {
        // A line this long is not an event we read; drop it without keeping its bytes.
        this.partial = null
        this.skippingLine = true
        this.dataOverflow = true
        return
      }
      // Copy: the chunk's memory belongs to the socket layer once written.
      this.partial = this.partial === null ? Buffer.from(rest) : Buffer.concat([this.partial, rest])
    }
  }

  private lineOf (buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--
    if (end === start) { this.dispatch(); return }
    // Only data lines matter; skip event:, id:, retry: and comments without decoding them.
    if (buf[start] !== 0x64 /* d */) return
    this.line(buf.toString('utf8', start, end))
  }

  private line (text: string): void {
    if (text === '') { this.dispatch(); return }
    if (!text.startsWith('data:')) return
    const value = text.charCodeAt(5) === 32 ? text.slice(6) : text.slice(5)
    if (this.dataOverflow) return
    if (this.data.length + value.length > MAX_EVENT_BYTES) { this.dataOverflow = true; this.data = ''; return }
    this.data = this.data === '' ? value : this.data + '\n' + value
  }

  private dispatch (): void {
    const data = this.data
    this.data = ''
    this.dataOverflow = false
    if (data.length === 0 || data.charCodeAt(0) !== 123 /* { */) return
    let event: unknown
    try { event = JSON.parse(data) } catch { return }
    if (isRecord(event)) this.event(event)
  }

  // Whole bodies ----------------------------------------------------------------------

  private keep (chunk: Buffer): void {
    const chunks = this.chunks ??= []
    chunks.push(Buffer.from(chunk))
    this.kept += chunk.length
    if (this.kept <= MAX_BODY_BYTES) return
    // Too big to keep whole: keep only the tail, where usage objects sit.
    this.truncated = true
    while (chunks.length > 1) {
      const first = chunks[0]
      if (first === undefined || this.kept - first.length < TAIL_BYTES) break
      chunks.shift()
      this.kept -= first.length
    }
  }

  private readKept (): void {
    const chunks = this.chunks
    if (chunks === null) return
    this.chunks = null
    const only = chunks.length === 1 ? chunks[0] : undefined
    let body = only ?? Buffer.concat(chunks)
    if (this.encoding !== null) {
      if (this.truncated) { this.chars += this.seen; return } // a compressed tail cannot be decoded
      const decoded = decode(body, this.encoding)
      if (decoded === null) { this.chars += this.seen; return }
      body = decoded
    }
    if (this.mode === 'sse') {
      this.scanSse(body)
      if (this.partial !== null && !this.skippingLine) this.line(this.partial.toString('utf8'))
      this.partial = null
      this.dispatch()
      return
    }
    this.readJson(body)
  }

  private readJson (body: Buffer): void {
    // Usage objects are small and found by a scan of the bytes; decoding and parsing the whole
    // body (which may be a large completion or embedding) is only needed to estimate when the
    // provider reported nothing.
    scanUsageObjects(body, this)
    if (this.input >= 0 && (this.output >= 0 || this.total >= 0)) return
    const text = body.toString('utf8')
    if (!this.truncated) {
      let parsed: unknown
      try { parsed = JSON.parse(text) } catch { parsed = undefined }
      if (parsed !== undefined) {
        if (Array.isArray(parsed)) { for (const el of parsed) if (isRecord(el)) this.event(el) } else if (isRecord(parsed)) this.whole(parsed)
        return
      }
    }
    // Truncated or cut short (aborted): only the usage objects found by the scan count.
    if (this.output < 0 && this.total < 0) this.chars += this.truncated ? this.seen : text.length
  }
}

function decode (body: Buffer, encoding: string): Buffer | null {
  // Sync flush: an aborted body still yields what arrived.
  const opts = { maxOutputLength: MAX_DECODED_BYTES, finishFlush: constants.Z_SYNC_FLUSH }
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(body, opts)
    if (encoding === 'br') return brotliDecompressSync(body, { maxOutputLength: MAX_DECODED_BYTES, finishFlush: constants.BROTLI_OPERATION_FLUSH })
    if (encoding === 'deflate') {
      try { return inflateSync(body, opts) } catch { return inflateRawSync(body, opts) }
    }
  } catch {}
  return null
}

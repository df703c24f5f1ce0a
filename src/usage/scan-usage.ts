// Finds the usage objects of a JSON answer in its bytes, without decoding or parsing the
// whole body: providers put a small `"usage": {...}` (OpenAI, Anthropic, Cohere) or
// `"usageMetadata": {...}` (Gemini) object in it, usually at the end, and the body around it
// may be a large completion or embedding, or only a tail of it.
import { isRecord } from '../core/json.js'

const USAGE = Buffer.from('"usage')
const METADATA = Buffer.from('Metadata"')
const QUOTE = 0x22
const COLON = 0x3a
const OPEN_BRACE = 0x7b

function isSpace (c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/**
 * Finds `"usage": {...}` and `"usageMetadata": {...}` objects in JSON bytes that may be cut
 * anywhere; hands them to the sink in order. Works on the bytes (UTF-8 never puts an ASCII byte inside a
 * multi-byte character), so only the objects found are decoded.
 */
export function scanUsageObjects (body: Buffer, sink: { onUsageObject: (key: string, obj: Record<string, unknown>) => void }): void {
  let from = 0
  for (;;) {
    const at = findUsage(body, from)
    if (at < 0) return
    let i = at + USAGE.length
    let key: string
    if (body[i] === QUOTE) {
      key = 'usage'
      i++
    } else if (i + METADATA.length <= body.length && body.compare(METADATA, 0, METADATA.length, i, i + METADATA.length) === 0) {
      key = 'usageMetadata'
      i += METADATA.length
    } else {
      from = i
      continue
    }
    while (isSpace(body[i])) i++
    if (body[i] !== COLON) { from = i; continue }
    i++
    while (isSpace(body[i])) i++
    if (body[i] !== OPEN_BRACE) { from = i; continue }
    const close = balancedEnd(body, i)
    if (close < 0) return
    try {
      const obj: unknown = JSON.parse(body.toString('utf8', i, close + 1))
      if (isRecord(obj)) sink.onUsageObject(key, obj)
    } catch {}
    from = close + 1
  }
}

/**
 * Index of the next `"usage` at or after `from`, or -1. A plain loop: bodies here are mostly a
 * few hundred bytes, where the native indexOf costs more in its call than in its search.
 */
function findUsage (body: Buffer, from: number): number {
  const last = body.length - USAGE.length
  for (let i = from; i <= last; i++) {
    if (body[i] !== QUOTE || body[i + 1] !== 0x75 /* u */) continue
    if (body[i + 2] === 0x73 && body[i + 3] === 0x61 && body[i + 4] === 0x67 && body[i + 5] === 0x65) return i
  }
  return -1
}

/** Index of the brace closing the object opened at `open`, or -1; aware of strings. */
function balancedEnd (body: Buffer, open: number): number {
  let depth = 0
  let inString = false
  const end = Math.min(body.length, open + 16 * 1024)
  for (let i = open; i < end; i++) {
    const c = body[i]
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 || c === 91) depth++
    else if (c === 125 || c === 93) { depth--; if (depth === 0) return i }
  }
  return -1
}

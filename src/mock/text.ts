// Deterministic fake text and token accounting for the mock providers.
//
// A "token" here is a whitespace-separated word. That is not how real
// tokenizers work, but it lets tests compute exact expected usage by hand
// (`'a b c'` is 3 tokens) and keeps the mock free of tokenizer dependencies.
import { createHash } from 'node:crypto'

/** Hard cap on generated words, whatever the knobs ask. */
export const MAX_OUTPUT_WORDS = 4096
/** Length of an answer (a short chat reply) unless the x-mock-answer-words knob sets another. */
export const DEFAULT_OUTPUT_WORDS = 16

// Short, whitespace-free words; order is irrelevant as long as it is fixed.
const VOCAB: readonly string[] = [
  'the', 'quick', 'agent', 'routes', 'tokens', 'across', 'regions', 'while',
  'latency', 'stays', 'low', 'and', 'every', 'edge', 'answers', 'fast',
  'models', 'stream', 'words', 'through', 'gateway', 'network', 'under', 'load',
  'with', 'steady', 'throughput', 'from', 'mock', 'upstream', 'servers', 'today'
]

/** Number of whitespace-separated words in `text`. */
export function countWords (text: string): number {
  let n = 0
  for (const w of text.split(/\s+/)) if (w.length > 0) n++
  return n
}

/** `n` deterministic words. Depends only on `n`, so replies are reproducible. */
export function generateWords (n: number): string[] {
  const words: string[] = []
  for (let i = 0; i < n; i++) words.push(VOCAB[(i * 7 + 3) % VOCAB.length] ?? 'word')
  return words
}

/** Stream deltas: one word each, with a leading space on all but the first, so
 *  concatenating the deltas yields exactly `words.join(' ')`. */
export function wordDeltas (words: readonly string[]): string[] {
  return words.map((w, i) => (i === 0 ? w : ` ${w}`))
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Collects every piece of prompt text inside a provider request fragment.
 * Handles the shapes all providers share: plain strings, arrays of parts,
 * parts carrying `text`, messages carrying `content` (OpenAI, Anthropic,
 * Cohere, Responses input items) and Gemini's `parts`. Non-text parts
 * (images, tool inputs) contribute nothing.
 */
export function textPieces (value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value)
  } else if (Array.isArray(value)) {
    for (const v of value) textPieces(v, out)
  } else if (isRecord(value)) {
    if (typeof value['text'] === 'string') out.push(value['text'])
    if (value['content'] !== undefined) textPieces(value['content'], out)
    if (value['parts'] !== undefined) textPieces(value['parts'], out)
  }
  return out
}

/** Token count of all text inside the given request fragments. Pieces are
 *  counted separately so words never merge across part boundaries. */
export function countPromptTokens (...fragments: unknown[]): number {
  let n = 0
  for (const f of fragments) for (const piece of textPieces(f)) n += countWords(piece)
  return n
}

function positiveInt (v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : undefined
}

/**
 * The output ceiling the request sets, read from whichever field the provider uses
 * (OpenAI, Anthropic and Cohere `max_tokens`, OpenAI `max_completion_tokens` and
 * `max_output_tokens`, Gemini `maxOutputTokens`, Hugging Face `max_new_tokens`); null when
 * absent or invalid.
 */
export function maxOutputTokens (body: Record<string, unknown>): number | null {
  const gen = isRecord(body['generationConfig'])
    ? body['generationConfig']
    : isRecord(body['generation_config']) ? body['generation_config'] : {}
  const params = isRecord(body['parameters']) ? body['parameters'] : {}
  const candidates: unknown[] = [
    body['max_completion_tokens'], body['max_tokens'], body['max_output_tokens'],
    body['maxOutputTokens'], gen['maxOutputTokens'], gen['max_output_tokens'],
    params['max_new_tokens'], params['max_tokens']
  ]
  for (const c of candidates) {
    const n = positiveInt(c)
    if (n !== undefined) return n
  }
  return null
}

/** A reply for a request: its words, full text and token count. */
export interface Reply {
  words: string[]
  text: string
  outputTokens: number
  /** The answer was cut at the request's max tokens (finish reason "length" and its kin). */
  truncated: boolean
}

/**
 * The answer a provider would give: `answerWords` long (DEFAULT_OUTPUT_WORDS unless a knob
 * says otherwise), cut at the request's max tokens like a real model, which stops there and
 * says so. A ceiling is a ceiling: a large max_tokens never makes the answer longer.
 */
export function makeReply (body: Record<string, unknown>, answerWords = DEFAULT_OUTPUT_WORDS): Reply {
  const natural = Math.min(Math.max(1, Math.floor(answerWords)), MAX_OUTPUT_WORDS)
  const ceiling = maxOutputTokens(body)
  const n = ceiling !== null && ceiling < natural ? ceiling : natural
  const words = generateWords(n)
  return { words, text: words.join(' '), outputTokens: words.length, truncated: n < natural }
}

/** mulberry32: tiny seeded PRNG returning floats in [0, 1). Used wherever the
 *  mock needs randomness that tests can reproduce. */
export function mulberry32 (seed: number): () => number {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Deterministic unit-length embedding for `input`: the same text always maps
 * to the same vector, different texts to different ones.
 */
export function embed (input: string, dims: number): number[] {
  // Seeded from the text hash so the vector is stable across runs and platforms.
  const next = mulberry32(createHash('sha256').update(input).digest().readUInt32LE(0))
  const v: number[] = []
  let norm = 0
  for (let i = 0; i < dims; i++) {
    const x = next() * 2 - 1
    v.push(x)
    norm += x * x
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0
  // Round through float32 so JSON and base64 encodings carry identical values.
  return v.map((x) => Math.fround(x * scale))
}

/** OpenAI's `encoding_format: "base64"`: float32 little-endian, base64. */
export function embeddingToBase64 (v: readonly number[]): string {
  const buf = Buffer.alloc(v.length * 4)
  v.forEach((x, i) => buf.writeFloatLE(x, i * 4))
  return buf.toString('base64')
}

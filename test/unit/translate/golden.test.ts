// The translation functions against documented provider examples (test/fixtures/mk3): each
// native request, answer, error and stream from the providers' API references, and the
// OpenAI form agnet must produce. Streams are fed in pieces of every size, so SSE framing
// across chunk boundaries is exercised.
import { describe, expect, it } from 'vitest'
import { ANTHROPIC, COHERE, GEMINI } from '../../../src/translate/registry.js'
import { SseTranslatingReader } from '../../../src/translate/sse.js'
import type { ChatTranslator } from '../../../src/translate/types.js'
import { PROVIDERS, RUNTIME_MODEL, fixtures, readOpenAIStream } from '../../helpers/mk3-fixtures.js'

const TRANSLATORS: Record<string, ChatTranslator> = { anthropic: ANTHROPIC, gemini: GEMINI, cohere: COHERE }

describe.each(PROVIDERS)('%s golden fixtures', (provider) => {
  const t = TRANSLATORS[provider] as ChatTranslator
  const f = fixtures(provider)

  it.each(f.requests.map(c => [c.name, c] as const))('request: %s', (_name, c) => {
    const up = t.request(c.openai, RUNTIME_MODEL[provider])
    expect(JSON.parse(up.body.toString())).toEqual(c.native)
    if (c.path !== undefined) expect(up.rest).toBe(c.path)
    expect(up.stream).toBe(c.openai.stream === true)
  })

  it.each(f.responses.map(c => [c.name, c] as const))('response: %s', (_name, c) => {
    const out = t.response(c.native, 1700000000, RUNTIME_MODEL[provider])
    expect(out).toMatchObject(c.openai)
    expect(out.created).toBe(1700000000)
  })

  it.each(f.errors.map(c => [c.name, c] as const))('error: %s', (_name, c) => {
    expect(t.error(c.status, JSON.stringify(c.native))).toEqual(c.openai)
  })

  it.each(f.streams.map(c => [c.name, c] as const))('stream: %s, in pieces of 1, 7, 64 bytes and whole', (_name, c) => {
    const bytes = Buffer.from(c.native)
    for (const size of [1, 7, 64, bytes.length]) {
      const reader = new SseTranslatingReader(t.stream({ rest: '', body: Buffer.alloc(0), stream: true, includeUsage: true }, 1700000000, RUNTIME_MODEL[provider]))
      let sse = ''
      for (let i = 0; i < bytes.length; i += size) sse += reader.push(bytes.subarray(i, i + size))
      sse += reader.end()
      const read = readOpenAIStream(sse)
      expect(read.text).toBe(c.text)
      expect(read.toolCalls).toEqual(c.toolCalls)
      if (c.error !== undefined) {
        expect(read.error).toMatchObject(c.error)
        expect(read.done).toBe(false)
      } else {
        expect(read.finish).toBe(c.finish)
        expect(read.usage).toMatchObject(c.usage ?? {})
        expect(read.done).toBe(true)
        expect(sse.endsWith('data: [DONE]\n\n')).toBe(true)
      }
    }
  })
})

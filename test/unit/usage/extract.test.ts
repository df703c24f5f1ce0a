import { describe, expect, it } from 'vitest'
import { gzipSync } from 'node:zlib'
import { MAX_EVENT_BYTES, UsageMeter } from '../../../src/usage/extract.js'

const SSE = 'text/event-stream; charset=utf-8'
const JSON_CT = 'application/json'

/**
 * Meters `body` as the gateway does: chunk by chunk, each chunk's memory overwritten once it
 * was written (the socket layer reuses it), with the Content-Length a plain JSON upstream sends
 * (-1: none, as with chunked or compressed answers).
 */
function meter (body: string | Buffer, ct: string, opts: { split?: number; status?: number; encoding?: string; requestBytes?: number; length?: number } = {}): ReturnType<UsageMeter['finish']> {
  const buf = Buffer.from(typeof body === 'string' ? Buffer.from(body) : body)
  const m = new UsageMeter(opts.status ?? 200, ct, opts.encoding, opts.length ?? (opts.encoding === undefined ? buf.length : -1))
  const step = opts.split ?? buf.length
  for (let i = 0; i < buf.length; i += step) {
    const chunk = buf.subarray(i, i + step)
    m.write(chunk)
    chunk.fill(0x7e)
  }
  return m.finish(opts.requestBytes ?? 0)
}

/** Every way to cut the body in two must give the same answer as the whole body, with and without Content-Length. */
function everySplit (body: string, ct: string, requestBytes = 0): ReturnType<UsageMeter['finish']> {
  const whole = meter(body, ct, { requestBytes })
  expect(meter(body, ct, { requestBytes, length: -1 }), 'without Content-Length').toEqual(whole)
  const len = Buffer.byteLength(body)
  for (let cut = 1; cut < len; cut++) {
    expect(meter(body, ct, { requestBytes, split: cut }), `cut at ${cut}`).toEqual(whole)
  }
  expect(meter(body, ct, { split: 1, requestBytes })).toEqual(whole)
  return whole
}

const ev = (o: unknown, event?: string): string => `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(o)}\n\n`

describe('usage extraction: event streams', () => {
  it('OpenAI chat: the final usage chunk', () => {
    const body = ev({ choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' } }], usage: null }) +
      ev({ choices: [{ index: 0, delta: { content: ' there' } }], usage: null }) +
      ev({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 } }) + 'data: [DONE]\n\n'
    expect(everySplit(body, SSE)).toEqual({ input: 11, output: 2, total: 13, estimated: false })
  })

  it('OpenAI chat without usage: estimated from the streamed text and the request size', () => {
    const body = ev({ choices: [{ index: 0, delta: { content: 'abcdefgh' } }] }) + ev({ choices: [{ index: 0, delta: { content: 'ijkl' } }] }) + 'data: [DONE]\n\n'
    expect(everySplit(body, SSE, 40)).toEqual({ input: 10, output: 3, total: 13, estimated: true })
  })

  it('OpenAI Responses: response.completed, not the repeated text of done events', () => {
    const body = ev({ type: 'response.created', response: { usage: null } }, 'response.created') +
      ev({ type: 'response.output_text.delta', delta: 'hello' }, 'response.output_text.delta') +
      ev({ type: 'response.output_text.done', text: 'hello' }, 'response.output_text.done') +
      ev({ type: 'response.completed', response: { usage: { input_tokens: 7, output_tokens: 1, total_tokens: 8 } } }, 'response.completed')
    expect(everySplit(body, SSE)).toEqual({ input: 7, output: 1, total: 8, estimated: false })
  })

  it('Anthropic: input from message_start, output from message_delta (not the placeholder)', () => {
    const body = ev({ type: 'message_start', message: { usage: { input_tokens: 25, cache_read_input_tokens: 5, output_tokens: 1 } } }, 'message_start') +
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }, 'content_block_delta') +
      ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } }, 'message_delta') +
      ev({ type: 'message_stop' }, 'message_stop')
    expect(everySplit(body, SSE)).toEqual({ input: 30, output: 15, total: 45, estimated: false })
  })

  it('Anthropic cut before message_delta: exact input, estimated output from what was delivered', () => {
    const body = ev({ type: 'message_start', message: { usage: { input_tokens: 25, output_tokens: 1 } } }, 'message_start') +
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'abcdefghijklmnop' } }, 'content_block_delta')
    expect(meter(body, SSE)).toEqual({ input: 25, output: 4, total: 29, estimated: true })
  })

  it('Gemini SSE with CRLF: the last cumulative usageMetadata, thoughts counted as output', () => {
    const chunk = (text: string, u: Record<string, number>): string => `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text }] } }], usageMetadata: u })}\r\n\r\n`
    const body = chunk('a', { promptTokenCount: 4, candidatesTokenCount: 1, totalTokenCount: 5 }) +
      chunk(' b', { promptTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 3, totalTokenCount: 9 })
    expect(everySplit(body, SSE)).toEqual({ input: 4, output: 5, total: 9, estimated: false })
  })

  it('Cohere v2: message-end usage.tokens, not billed_units', () => {
    const body = ev({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'yo' } } } }, 'content-delta') +
      ev({ type: 'message-end', delta: { finish_reason: 'COMPLETE', usage: { billed_units: { input_tokens: 1, output_tokens: 1 }, tokens: { input_tokens: 9, output_tokens: 4 } } } }, 'message-end')
    expect(everySplit(body, SSE)).toEqual({ input: 9, output: 4, total: 13, estimated: false })
  })

  it('skips an event larger than the bound without keeping it, and reads the next one', () => {
    const huge = ev({ choices: [{ delta: { content: 'x'.repeat(MAX_EVENT_BYTES + 10) } }] })
    const body = huge + ev({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } })
    expect(meter(body, SSE, { split: 4096 })).toEqual({ input: 1, output: 2, total: 3, estimated: false })
  })

  it('does not count error answers', () => {
    expect(meter(JSON.stringify({ error: { message: 'rate limited' } }), JSON_CT, { status: 429, requestBytes: 400 })).toEqual({ input: 0, output: 0, total: 0, estimated: false })
  })
})

describe('usage extraction: JSON bodies', () => {
  it('OpenAI chat completion', () => {
    const body = JSON.stringify({ choices: [{ message: { content: 'x' } }], usage: { prompt_tokens: 3, completion_tokens: 16, total_tokens: 19 } })
    expect(meter(body, JSON_CT, { split: 7 })).toEqual({ input: 3, output: 16, total: 19, estimated: false })
  })

  it('OpenAI embeddings: no output tokens, not estimated', () => {
    const body = JSON.stringify({ data: [{ embedding: [0.1, 0.2] }], usage: { prompt_tokens: 8, total_tokens: 8 } })
    expect(meter(body, JSON_CT)).toEqual({ input: 8, output: 0, total: 8, estimated: false })
  })

  it('Anthropic message, Gemini generateContent, Cohere chat, Responses', () => {
    expect(meter(JSON.stringify({ content: [{ type: 'text', text: 'a' }], usage: { input_tokens: 5, output_tokens: 6 } }), JSON_CT)).toEqual({ input: 5, output: 6, total: 11, estimated: false })
    expect(meter(JSON.stringify({ candidates: [], usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 3, totalTokenCount: 5 } }), JSON_CT)).toEqual({ input: 2, output: 3, total: 5, estimated: false })
    expect(meter(JSON.stringify({ message: { content: [] }, usage: { billed_units: { input_tokens: 1, output_tokens: 1 }, tokens: { input_tokens: 7, output_tokens: 8 } } }), JSON_CT)).toEqual({ input: 7, output: 8, total: 15, estimated: false })
    expect(meter(JSON.stringify({ output: [], usage: { input_tokens: 4, output_tokens: 2, total_tokens: 6 } }), JSON_CT)).toEqual({ input: 4, output: 2, total: 6, estimated: false })
  })

  it('Gemini streamed JSON array: the last element', () => {
    const body = '[' + JSON.stringify({ usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 1, totalTokenCount: 3 } }) + ',\r\n' + JSON.stringify({ usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 9, totalTokenCount: 11 } }) + ']'
    expect(meter(body, JSON_CT, { split: 5 })).toEqual({ input: 2, output: 9, total: 11, estimated: false })
  })

  it('a body cut short still yields the usage objects it holds', () => {
    const body = '[' + JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ab' }] } }], usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 4, totalTokenCount: 6 } }) + ',\r\n{"candid'
    expect(meter(body, JSON_CT)).toEqual({ input: 2, output: 4, total: 6, estimated: false })
  })

  it('a body over the bound keeps only its tail, where usage is', () => {
    const big = JSON.stringify({ data: [{ embedding: new Array(200_000).fill(0.123456) }], usage: { prompt_tokens: 42, total_tokens: 42 } })
    expect(big.length).toBeGreaterThan(1024 * 1024)
    expect(meter(big, JSON_CT, { split: 65536 })).toEqual({ input: 42, output: 0, total: 42, estimated: false })
  })

  it('a gzip-encoded body is decoded at the end', () => {
    const body = gzipSync(JSON.stringify({ usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }))
    expect(meter(body, JSON_CT, { encoding: 'gzip', split: 3 })).toEqual({ input: 3, output: 4, total: 7, estimated: false })
  })
})

// The incremental SSE reader: line endings, multi-line data, comments, characters split
// across chunks, bounds.
import { describe, expect, it } from 'vitest'
import { MAX_EVENT_BYTES, SseProtocolError, SseTranslatingReader } from '../../../src/translate/sse.js'
import type { StreamTranslator } from '../../../src/translate/types.js'
import { ANTHROPIC } from '../../../src/translate/registry.js'

class Recorder implements StreamTranslator {
  events: Array<[string, string]> = []
  event (name: string, data: string): string { this.events.push([name, data]); return '' }
  end (): string { return 'END' }
}

function read (chunks: Array<string | Buffer>): { events: Array<[string, string]>; tail: string } {
  const rec = new Recorder()
  const r = new SseTranslatingReader(rec)
  for (const c of chunks) r.push(typeof c === 'string' ? Buffer.from(c) : c)
  const tail = r.end()
  return { events: rec.events, tail }
}

describe('SseTranslatingReader', () => {
  it.each([
    ['LF', ['event: a\ndata: 1\n\n'], [['a', '1']]],
    ['CRLF', ['event: a\r\ndata: 1\r\n\r\n'], [['a', '1']]],
    ['CR', ['event: a\rdata: 1\r\r'], [['a', '1']]],
    ['CRLF split between chunks', ['data: 1\r', '\n\r', '\ndata: 2\r\n\r\n'], [['', '1'], ['', '2']]],
    ['multi-line data joined by LF', ['data: a\ndata: b\n\n'], [['', 'a\nb']]],
    ['comments and unknown fields skipped', [': ping\nid: 4\nretry: 10\ndata: x\n\n'], [['', 'x']]],
    ['no space after the colon', ['data:x\n\n'], [['', 'x']]],
    ['blank lines without data dispatch nothing', ['\n\n\ndata: y\n\n'], [['', 'y']]],
    ['a last event without its blank line still counts', ['data: z'], [['', 'z']]],
    ['every byte its own chunk', [...'event: e\ndata: {"k":1}\n\n'], [['e', '{"k":1}']]]
  ])('%s', (_name, chunks, events) => {
    const out = read(chunks)
    expect(out.events).toEqual(events)
    expect(out.tail).toBe('END')
  })

  it('a character split across chunks decodes whole', () => {
    const bytes = Buffer.from('data: é€😀\n\n')
    const chunks: Buffer[] = []
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1))
    expect(read(chunks).events).toEqual([['', 'é€😀']])
  })

  it('an oversized line or event is a protocol error, not a silent cut', () => {
    const r = new SseTranslatingReader(new Recorder())
    expect(() => r.push(Buffer.from('data: ' + 'x'.repeat(MAX_EVENT_BYTES + 1)))).toThrow(SseProtocolError)
    const r2 = new SseTranslatingReader(new Recorder())
    const line = 'data: ' + 'x'.repeat(1024) + '\n'
    expect(() => { for (let i = 0; i < 1100; i++) r2.push(Buffer.from(line)) }).toThrow(SseProtocolError)
  })
})

describe('a translated stream\'s first chunk goes out alone', () => {
  const ev = (type: string, data: Record<string, unknown>): string => `event: ${type}\r\ndata: ${JSON.stringify({ type, ...data })}\r\n\r\n`
  const START = ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-latest', content: [], usage: { input_tokens: 3, output_tokens: 1 } } })
  const BLOCK = ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) + ev('ping', {})
  const delta = (text: string): string => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })
  const reader = (): SseTranslatingReader => new SseTranslatingReader(ANTHROPIC.stream({ rest: '', body: Buffer.alloc(0), stream: true, includeUsage: false }, 1700000000, 'm'))
  const deltas = (sse: string): unknown[] => sse.split('\n\n').filter(e => e !== '').map(e => (JSON.parse(e.slice(6)) as { choices: Array<{ delta: unknown }> }).choices[0]?.delta)

  it('the role chunk of message_start, before the rest of a provider chunk is even translated', () => {
    const r = reader()
    const first = r.push(Buffer.from(START + BLOCK + delta('Hello') + delta(' world')))
    expect(deltas(first)).toEqual([{ role: 'assistant', content: '' }])
    expect(deltas(r.rest())).toEqual([{ content: 'Hello' }, { content: ' world' }])
    expect(r.rest()).toBe('')
    // From then on a chunk is translated whole.
    expect(deltas(r.push(Buffer.from(delta('!') + delta('?'))))).toEqual([{ content: '!' }, { content: '?' }])
    expect(r.rest()).toBe('')
  })

  it('holds nothing when the first event ends its chunk, and end() reads what rest() was not asked for', () => {
    const r = reader()
    expect(deltas(r.push(Buffer.from(START)))).toEqual([{ role: 'assistant', content: '' }])
    expect(r.rest()).toBe('')
    const s = reader()
    s.push(Buffer.from(START + delta('Hi')))
    const tail = s.end()
    expect(tail.endsWith('data: [DONE]\n\n')).toBe(true)
    expect(deltas(tail.slice(0, -'data: [DONE]\n\n'.length))).toEqual([{ content: 'Hi' }])
  })
})

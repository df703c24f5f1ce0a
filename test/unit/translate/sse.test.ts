// The incremental SSE reader: line endings, multi-line data, comments, characters split
// across chunks, bounds.
import { describe, expect, it } from 'vitest'
import { MAX_EVENT_BYTES, SseProtocolError, SseTranslatingReader } from '../../../src/translate/sse.js'
import type { StreamTranslator } from '../../../src/translate/types.js'

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

// When a provider's first stream write holds more than its first event, the translated first
// chunk must be on the client's socket before the rest of that write is translated: Node holds
// a chunked response's writes until the end of the turn, so without a flush the client's first
// byte would wait for the whole write's translation. An Exchange is driven by hand (as undici
// drives it) on a real server response, with the real Anthropic stream translation.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Exchange, type AttemptInput, type ExchangeOwner } from '../../../src/proxy/forward.js'
import { TranslatedAnswer } from '../../../src/translate/answer.js'
import { ANTHROPIC } from '../../../src/translate/registry.js'

const ev = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
const START = ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-latest', content: [], stop_reason: null, usage: { input_tokens: 2, output_tokens: 1 } } })
const BLOCK = ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
const delta = (text: string): string => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })
const END = ev('content_block_stop', { index: 0 }) + ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }) + ev('message_stop', {})

/** Records how many bytes the client's socket had been handed when the rest of the write was translated. */
class Recording extends TranslatedAnswer {
  socketBytesAtRest = -1
  firstChunk = ''
  res: http.ServerResponse | null = null

  override data (chunk: Buffer): Buffer | string {
    const out = super.data(chunk)
    if (this.firstChunk === '' && typeof out === 'string') this.firstChunk = out
    return out
  }

  override rest (): string {
    this.socketBytesAtRest = this.res?.socket?.bytesWritten ?? -1
    return super.rest()
  }
}

let server: http.Server
let url = ''
let answer: Recording | null = null

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume()
    const tx = new Recording(ANTHROPIC, { rest: '/v1/messages', body: Buffer.alloc(0), stream: true, includeUsage: false }, 'claude-3-5-haiku-latest')
    tx.res = res
    answer = tx
    const input: AttemptInput = { req, res, id: 'req-1', rest: '/v1/chat/completions', body: null, translation: tx }
    const owner: ExchangeOwner<AttemptInput> = {
      onUpstreamHeaders: () => true,
      onResponseHead: () => {},
      onUpstreamData: () => {},
      onExchangeEnd: () => {}
    }
    const ex = new Exchange(input, owner)
    ex.onConnect(() => {})
    ex.onHeaders(200, [Buffer.from('content-type'), Buffer.from('text/event-stream')], () => {})
    // One provider write: message_start, the block start and many deltas.
    let write = START + BLOCK
    for (let i = 0; i < 200; i++) write += delta(` w${i}`)
    ex.onData(Buffer.from(write))
    ex.onData(Buffer.from(END))
    ex.onComplete()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(() => { server.close() })

describe('a translated stream whose first provider write holds many events', () => {
  it('hands the first chunk to the socket before translating the rest of the write, and sends all of it in order', async () => {
    const res = await fetch(url)
    const text = await res.text()
    const tx = answer
    if (tx === null) throw new Error('no exchange ran')
    expect(tx.firstChunk).toContain('"role":"assistant"')
    // The head and the first chunk were on the socket when rest() began.
    expect(tx.socketBytesAtRest).toBeGreaterThan(Buffer.byteLength(tx.firstChunk))
    const data = text.split('\n\n').filter(e => e.startsWith('data: ')).map(e => e.slice(6))
    expect(data[0]).toBe(tx.firstChunk.trim().slice(6))
    const contents = data.slice(1, -2).map(d => JSON.parse(d).choices[0].delta.content).join('')
    expect(contents).toBe(Array.from({ length: 200 }, (_, i) => ` w${i}`).join(''))
    expect(JSON.parse(data[data.length - 2] ?? 'null').choices[0].finish_reason).toBe('stop')
    expect(data[data.length - 1]).toBe('[DONE]')
  })
})

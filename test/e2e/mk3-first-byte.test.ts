// A translated stream's first byte: the OpenAI role chunk reaches the client as soon as the
// provider's message_start does, before any content exists, and when the provider sends
// message_start and its first deltas in one write, the client gets the role chunk and those
// deltas without waiting for the provider's next write. The upstream is a hand-written
// Anthropic that writes only when the test says so.
import type { ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type Upstream } from '../helpers/net.js'

const ev = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
const START = ev('message_start', { message: { id: 'msg_ctl', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-latest', content: [], stop_reason: null, usage: { input_tokens: 2, output_tokens: 1 } } })
const BLOCK = ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) + ev('ping', {})
const delta = (text: string): string => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })
const END = ev('content_block_stop', { index: 0 }) + ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }) + ev('message_stop', {})

let upstream: Upstream
let gw: TestGateway
/** The answer in progress upstream, and the first write the current test wants. */
let current: ServerResponse | null = null
let firstWrite = START
let opened: (() => void) | null = null

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(firstWrite)
      current = res
      opened?.()
    })
  })
  gw = await startGateway(`
workspaces:
  - name: acme
    models:
      - { name: claude, runtime: { type: anthropic, model: claude-3-5-haiku-latest, generation: mk3 }, deployments: [{ region: us-pdx-1, url: "${upstream.url}" }] }
`)
})
afterAll(async () => {
  await gw.close()
  upstream.close()
})

/** Reads the client's stream event by event. */
class Events {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly decoder = new TextDecoder()
  private buf = ''
  constructor (body: ReadableStream<Uint8Array>) { this.reader = body.getReader() }
  /** The next `data:` payload, or null at the end of the stream. */
  async next (): Promise<string | null> {
    for (;;) {
      const i = this.buf.indexOf('\n\n')
      if (i >= 0) {
        const event = this.buf.slice(0, i)
        this.buf = this.buf.slice(i + 2)
        return event.slice('data: '.length)
      }
      const { value, done } = await this.reader.read()
      if (done) return null
      this.buf += this.decoder.decode(value, { stream: true })
    }
  }
}

async function open (): Promise<Events> {
  const upstreamOpened = new Promise<void>(resolve => { opened = resolve })
  const res = await fetch(`${gw.url}/acme/models/claude/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/event-stream')
  await upstreamOpened
  if (res.body === null) throw new Error('no body')
  return new Events(res.body)
}

const deltaOf = (data: string | null): unknown => (JSON.parse(data ?? 'null') as { choices: Array<{ delta: unknown }> }).choices[0]?.delta

describe('mk3 stream, first byte', () => {
  it('the role chunk arrives when message_start does, before any content event', async () => {
    firstWrite = START
    const events = await open()
    // The provider has sent message_start only: the client already has the role chunk.
    const first = await events.next()
    expect(JSON.parse(first ?? 'null')).toMatchObject({ id: 'msg_ctl', object: 'chat.completion.chunk', model: 'claude-3-5-haiku-latest' })
    expect(deltaOf(first)).toEqual({ role: 'assistant', content: '' })
    current?.end(BLOCK + delta('Hello') + END)
    expect(deltaOf(await events.next())).toEqual({ content: 'Hello' })
    expect(JSON.parse(await events.next() ?? 'null')).toMatchObject({ choices: [{ finish_reason: 'stop' }] })
    expect(await events.next()).toBe('[DONE]')
    expect(await events.next()).toBeNull()
  })

  it('message_start and the first deltas in one provider write all reach the client before its next write', async () => {
    firstWrite = START + BLOCK + delta('Hello') + delta(' world')
    const events = await open()
    expect(deltaOf(await events.next())).toEqual({ role: 'assistant', content: '' })
    // The rest of that write is not held until the provider writes again.
    expect(deltaOf(await events.next())).toEqual({ content: 'Hello' })
    expect(deltaOf(await events.next())).toEqual({ content: ' world' })
    current?.end(END)
    expect(JSON.parse(await events.next() ?? 'null')).toMatchObject({ choices: [{ finish_reason: 'stop' }] })
    expect(await events.next()).toBe('[DONE]')
  })
})

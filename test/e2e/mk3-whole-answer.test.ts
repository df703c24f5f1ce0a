// A translated answer that is not a stream is read whole, translated, and only then sent: the
// client gets it with its Content-Length in one piece, and a provider answer that breaks or
// cannot be translated before its end is a clean 502 in the edge shape, never a truncated
// body. The upstream is a hand-written Anthropic that answers as each test says.
import type { IncomingMessage, ServerResponse } from 'node:http'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type Upstream } from '../helpers/net.js'

const TEXT = 'Frankfurt, the lowest round trip from Germany. '.repeat(20).trim()
const ANSWER = JSON.stringify({
  id: 'msg_whole',
  type: 'message',
  role: 'assistant',
  model: 'claude-3-5-haiku-latest',
  content: [{ type: 'text', text: TEXT }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 180 }
})

/** What the upstream does, by the request's x-case header. */
const CASES: Record<string, (res: ServerResponse) => void> = {
  // The answer in three writes, a turn apart: agnet must wait for all of it.
  pieces: res => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) })
    const third = Math.floor(ANSWER.length / 3)
    res.write(ANSWER.slice(0, third))
    setImmediate(() => {
      res.write(ANSWER.slice(third, 2 * third))
      setImmediate(() => { res.end(ANSWER.slice(2 * third)) })
    })
  },
  'not-json': res => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('<html>upstream proxy error</html>')
  },
  // Headers and part of the body, then the connection dies.
  cut: res => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) })
    res.write(ANSWER.slice(0, 100), () => { res.socket?.destroy() })
  }
}

let upstream: Upstream
let gw: TestGateway

beforeAll(async () => {
  upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => {
      const play = CASES[String(req.headers['x-case'])]
      if (play === undefined) {
        res.writeHead(500)
        res.end()
        return
      }
      play(res)
    })
  })
  gw = await startGateway(`
defaults:
  routing: { ejectAfter: 100 }
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

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One chat request over a raw node:http client, so framing headers are seen as sent. */
async function ask (kase: string): Promise<Answer> {
  const body = JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'Which region?' }] })
  const url = new URL(`${gw.url}/acme/models/claude/v1/chat/completions`)
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-case': kase } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('mk3 answer read whole', () => {
  it('is sent once complete, with its Content-Length and no chunked framing', async () => {
    const a = await ask('pieces')
    expect(a.status).toBe(200)
    expect(a.headers['transfer-encoding']).toBeUndefined()
    expect(Number(a.headers['content-length'])).toBe(Buffer.byteLength(a.body))
    expect(a.headers['content-type']).toBe('application/json')
    const json = JSON.parse(a.body)
    expect(json).toMatchObject({ id: 'msg_whole', object: 'chat.completion', choices: [{ message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 180 } })
    // The decision headers are on the held head too.
    expect(a.headers['x-agnet-deployment']).toBeDefined()
  })

  it('a 200 answer that is not JSON is a clean 502 in the edge shape, not a broken connection', async () => {
    const a = await ask('not-json')
    expect(a.status).toBe(502)
    expect(a.headers['x-blaxel-error-code']).toBe('UPSTREAM_UNREACHABLE')
    expect(JSON.parse(a.body).error).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', status: 502 })
    expect(a.body).not.toContain('upstream proxy error')
  })

  it('an answer cut before its end is a 502, never a truncated body', async () => {
    const a = await ask('cut')
    expect(a.status).toBe(502)
    expect(JSON.parse(a.body).error).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', status: 502 })
    expect(a.body).not.toContain('msg_whole')
  })
})

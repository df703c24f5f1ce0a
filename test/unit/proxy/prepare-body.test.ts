// How a request body travels when there is nothing to fail over to: kept as one Buffer when
// its first chunk is all of it (sent with the headers in one write), streamed otherwise, with
// no byte lost either way. Real sockets: the chunking is the kernel's and Node's, as in use.
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepareBody } from '../../../src/proxy/failover.js'

interface Seen { body: Buffer | 'stream' | null, rest: Buffer }
interface Hooks { onVerdict?: () => void, onFirstData?: () => void }
let server: http.Server
let port = 0
let onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => {}

beforeAll(async () => {
  server = http.createServer((req, res) => { onRequest(req, res) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  port = (server.address() as net.AddressInfo).port
})
afterAll(() => { server.closeAllConnections(); server.close() })

/** Runs prepareBody as the run plane does for a model with `candidates` deployments. */
function nextRequest (candidates: number, hooks: Hooks = {}): Promise<Seen> {
  return new Promise(resolve => {
    onRequest = (req, res) => {
      if (hooks.onFirstData !== undefined) req.once('data', hooks.onFirstData)
      prepareBody({
        req,
        length: Number(req.headers['content-length']),
        bodyLimit: 1 << 20,
        replayBodyLimit: 1 << 16,
        // As the run plane decides it: a body is kept for replay only with another deployment to try.
        replayable: candidates > 1
      }, null, (_token, plan) => {
        hooks.onVerdict?.()
        // What the forwarder would send after a 'stream' verdict: whatever the request still holds.
        const chunks: Buffer[] = []
        if (plan !== 'stream') { resolve({ body: plan, rest: Buffer.alloc(0) }); res.end(); return }
        req.on('data', c => chunks.push(c as Buffer))
        req.on('end', () => { resolve({ body: 'stream', rest: Buffer.concat(chunks) }); res.end() })
        req.resume()
      })
    }
  })
}

function send (parts: Array<string | (() => Promise<void>)>): Promise<void> {
  const socket = net.connect(port, '127.0.0.1')
  return (async () => {
    await once(socket, 'connect')
    for (const p of parts) {
      if (typeof p === 'string') socket.write(p)
      else await p()
    }
    socket.end()
  })()
}

const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`

/** Sends the headers and 10 body bytes, and the rest only once `after` happened at the gateway. */
async function inTwoPieces (candidates: number, after: keyof Hooks): Promise<Seen> {
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  const seen = nextRequest(candidates, { [after]: () => { release() } })
  const sending = send([head + body.slice(0, 10), async () => { await gate }, body.slice(10)])
  const s = await seen
  await sending
  return s
}

describe('prepareBody with one deployment', () => {
  it('keeps a body that came whole in its first chunk as one Buffer', async () => {
    const seen = nextRequest(1)
    await send([head + body])
    const s = await seen
    expect(Buffer.isBuffer(s.body)).toBe(true)
    expect((s.body as Buffer).toString()).toBe(body)
  })

  it('streams a body still arriving, first bytes included', async () => {
    // The rest of the body is sent only once the verdict came: it cannot wait for the whole body.
    const s = await inTwoPieces(1, 'onVerdict')
    expect(s.body).toBe('stream')
    expect(s.rest.toString()).toBe(body)
  })
})

describe('prepareBody with several deployments', () => {
  it('keeps the whole body for replay even when it arrives in pieces', async () => {
    // The rest is sent once the first piece was read: the body surely comes in two chunks.
    const s = await inTwoPieces(3, 'onFirstData')
    expect(Buffer.isBuffer(s.body)).toBe(true)
    expect((s.body as Buffer).toString()).toBe(body)
  })
})

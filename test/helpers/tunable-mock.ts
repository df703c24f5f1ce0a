// A real mock provider (src/mock createMockHandler) whose knobs can be changed while it runs
// and which can be killed mid-request: per-server request headers (x-mock-latency-ms,
// x-mock-status, x-mock-fail, ...) are injected before the mock sees the request, and every
// arrival is counted and announced so tests await events instead of sleeping.
import http from 'node:http'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createMockHandler } from '../../src/mock/server.js'

export interface TunableMock {
  readonly url: string
  readonly port: number
  readonly region: string
  /** Requests received (health probes excluded). */
  requests: number
  /** Request bodies received, in order (health probes excluded). */
  readonly bodies: string[]
  /** Knobs applied to every following request, as mock headers. */
  knobs: Record<string, string>
  /** When set, answers requests itself instead of the mock (e.g. a status with custom headers). */
  answer: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null
  /** Emits 'request' on every arrival (after counting). */
  readonly events: EventEmitter
  /** Resolves once `n` requests in total have arrived. */
  waitForRequests (n: number): Promise<void>
  /** Stops listening and resets every open connection (an upstream killed). */
  kill (): Promise<void>
}

export async function startTunableMock (region: string, port = 0): Promise<TunableMock> {
  const handler = createMockHandler({ region })
  const events = new EventEmitter()
  const mock: TunableMock = {
    url: '',
    port: 0,
    region,
    requests: 0,
    bodies: [],
    knobs: {},
    answer: null,
    events,
    async waitForRequests (n: number): Promise<void> {
      while (mock.requests < n) await new Promise(resolve => { events.once('request', resolve) })
    },
    async kill (): Promise<void> {
      const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
      server.closeAllConnections()
      handler.closeAll()
      await closed
    }
  }
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.url?.startsWith('/__health') !== true) {
      for (const [k, v] of Object.entries(mock.knobs)) req.headers[k] = v
      // Bodies are recorded from a copy of the stream: the mock reads the original.
      const chunks: Buffer[] = []
      const push = req.push.bind(req)
      req.push = (chunk: Buffer | null, enc?: BufferEncoding): boolean => {
        if (chunk === null) mock.bodies.push(Buffer.concat(chunks).toString())
        else chunks.push(Buffer.from(chunk))
        return push(chunk, enc)
      }
      mock.requests++
      events.emit('request', req)
      if (mock.answer !== null) {
        const answer = mock.answer
        req.resume()
        req.once('end', () => { answer(req, res) })
        return
      }
    }
    handler(req, res)
  })
  await new Promise<void>(resolve => { server.listen(port, '127.0.0.1', resolve) })
  const addr = server.address() as AddressInfo
  Object.assign(mock, { url: `http://127.0.0.1:${addr.port}`, port: addr.port })
  return mock
}

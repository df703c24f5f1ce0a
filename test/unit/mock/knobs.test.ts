import { once } from 'node:events'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startMockFleet } from '../../../src/mock/fleet.js'
import { type MockServer, createMockHandler, startMockServer } from '../../../src/mock/server.js'

interface SseEvent { id?: string; event?: string; data: string }

/** Incremental SSE reader over a live response: events are handed out as
 *  they arrive, so tests can act between events without sleeping. */
function sseReader (res: http.IncomingMessage): {
  next(): Promise<SseEvent | null>
  readonly buffered: number
  readonly failed: Promise<Error>
} {
  const queue: SseEvent[] = []
  const waiters: Array<(e: SseEvent | null) => void> = []
  let done = false
  let buf = ''
  let fail: (err: Error) => void = () => undefined
  const failed = new Promise<Error>((resolve) => { fail = resolve })
  const push = (e: SseEvent | null): void => {
    const w = waiters.shift()
    if (w) w(e)
    else if (e) queue.push(e)
  }
  const finish = (): void => {
    done = true
    while (waiters.length) push(null)
  }
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => {
    buf += chunk
    for (let m = /\r?\n\r?\n/.exec(buf); m; m = /\r?\n\r?\n/.exec(buf)) {
      const ev: SseEvent = { data: '' }
      for (const line of buf.slice(0, m.index).split(/\r?\n/)) {
        if (line.startsWith('id: ')) ev.id = line.slice(4)
        else if (line.startsWith('event: ')) ev.event = line.slice(7)
        else if (line.startsWith('data: ')) ev.data += line.slice(6)
      }
      buf = buf.slice(m.index + m[0].length)
      push(ev)
    }
  })
  res.on('end', finish)
  res.on('error', (err) => fail(err))
  res.on('close', () => {
    if (!res.complete) fail(new Error('response closed before completion'))
    finish()
  })
  return {
    next: () => {
      const e = queue.shift()
      if (e) return Promise.resolve(e)
      if (done) return Promise.resolve(null)
      return new Promise((resolve) => waiters.push(resolve))
    },
    get buffered () { return queue.length },
    failed
  }
}

function request (base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): {
  req: http.ClientRequest
  response: Promise<http.IncomingMessage>
} {
  const req = http.request(base + path, {
    method: opts.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers }
  })
  const response = once(req, 'response').then(([res]) => res as http.IncomingMessage)
  // Failure tests never get a response; keep that rejection from going unhandled.
  response.catch(() => undefined)
  req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body))
  return { req, response }
}

async function readAll (res: http.IncomingMessage): Promise<string> {
  let s = ''
  for await (const c of res) s += String(c)
  return s
}

const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }

let mock: MockServer
beforeAll(async () => {
  mock = await startMockServer({ region: 'ap-south-1', name: 'knobby' })
})
afterAll(async () => {
  await mock.close()
})

describe('status injection', () => {
  it('answers the injected status with each provider error shape', async () => {
    const cases: Array<[string, number, unknown]> = [
      ['/v1/chat/completions', 500, { error: { type: 'server_error', param: null } }],
      ['/v1/messages', 429, { type: 'error', error: { type: 'rate_limit_error' } }],
      ['/v1beta/models/gemini-2.0-flash:generateContent', 503, { error: { code: 503, status: 'UNAVAILABLE' } }],
      ['/v2/chat', 400, { message: expect.any(String) }]
    ]
    for (const [path, status, shape] of cases) {
      const { response } = request(mock.url, path, { headers: { 'x-mock-status': String(status) }, body: chat })
      const res = await response
      expect(res.statusCode).toBe(status)
      expect(res.headers['x-mock-region']).toBe('ap-south-1')
      expect(res.headers['x-mock-name']).toBe('knobby')
      expect(JSON.parse(await readAll(res))).toMatchObject(shape as object)
    }
  })

  it('429 carries retry-after: 1', async () => {
    const res = await request(mock.url, '/v1/chat/completions', { headers: { 'x-mock-status': '429' }, body: chat }).response
    expect(res.statusCode).toBe(429)
    expect(res.headers['retry-after']).toBe('1')
    expect(JSON.parse(await readAll(res))).toMatchObject({ error: { code: 'rate_limit_exceeded' } })
  })

  it('seeded error and 429 rates are reproducible', async () => {
    const run = async (): Promise<number[]> => {
      const s = await startMockServer({ region: 'r', seed: 42, errorRate: 0.3, rateLimitRate: 0.3 })
      const codes: number[] = []
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat) })
        await res.arrayBuffer()
        codes.push(res.status)
      }
      await s.close()
      return codes
    }
    const a = await run()
    expect(await run()).toEqual(a)
    expect(new Set(a)).toEqual(new Set([200, 429, 500]))
  })

  it('header rates override options (rate 1 always fails, rate 0 never)', async () => {
    const always = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-mock-error-rate': '1' }, body: '{}' })
    expect(always.status).toBe(500)
    const s = await startMockServer({ region: 'r', rateLimitRate: 1 })
    const never = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-mock-429-rate': '0' }, body: '{}' })
    expect(never.status).toBe(200)
    await s.close()
  })
})

describe('timing knobs', () => {
  it('x-mock-latency-ms delays the response headers', async () => {
    const t0 = performance.now()
    const res = await request(mock.url, '/v1/chat/completions', { headers: { 'x-mock-latency-ms': '120' }, body: chat }).response
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110)
    await readAll(res)
  })

  it('ttft and tps pace the stream: the first event no sooner than ttft, the last no sooner than ttft plus the gaps', async () => {
    const t0 = performance.now()
    const res = await request(mock.url, '/v1/messages', {
      headers: { 'x-mock-ttft-ms': '100', 'x-mock-tps': '20' },
      body: { ...chat, max_tokens: 4, stream: true }
    }).response
    const r = sseReader(res)
    await r.next()
    // Lower bounds counted from the request only: a busy test process may read an event late,
    // which shortens any gap measured between two reads, never the time since the request.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90)
    const events: SseEvent[] = []
    for (let e = await r.next(); e; e = await r.next()) events.push(e)
    // ttft 100 ms, then 4 deltas at 20/s: three 50 ms gaps between them.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240)
    expect(events.filter((e) => e.event === 'content_block_delta')).toHaveLength(4)
  })
})

describe('failure injection', () => {
  it('reset-before-headers destroys the socket without an answer', async () => {
    const { req } = request(mock.url, '/v1/chat/completions', { headers: { 'x-mock-fail': 'reset-before-headers' }, body: chat })
    let gotResponse = false
    req.on('response', () => { gotResponse = true })
    const [err] = (await once(req, 'error')) as [NodeJS.ErrnoException]
    expect(['ECONNRESET', 'EPIPE']).toContain(err.code)
    expect(gotResponse).toBe(false)
  })

  it('reset-mid-stream sends headers and exactly 2 events, then resets', async () => {
    const { req, response } = request(mock.url, '/v1/chat/completions', {
      headers: { 'x-mock-fail': 'reset-mid-stream' },
      body: { ...chat, stream: true, max_tokens: 10 }
    })
    req.on('error', () => undefined)
    const res = await response
    expect(res.statusCode).toBe(200)
    const r = sseReader(res)
    const events: SseEvent[] = []
    for (let e = await r.next(); e; e = await r.next()) events.push(e)
    expect(events).toHaveLength(2)
    await expect(r.failed).resolves.toBeInstanceOf(Error)
  })

  it('hang never answers and is cleaned up when the client goes away', async () => {
    const before = mock.stats()
    expect(before.inFlight).toBe(0)
    const { req } = request(mock.url, '/v1/chat/completions', { headers: { 'x-mock-fail': 'hang' }, body: chat })
    req.on('error', () => undefined)
    await vi.waitFor(() => expect(mock.stats().requests).toBe(before.requests + 1))
    expect(mock.stats().inFlight).toBe(1)
    req.destroy()
    await vi.waitFor(() => expect(mock.stats().inFlight).toBe(0))
  })

  it('client disconnect stops a slow stream and clears its timers', async () => {
    const { req, response } = request(mock.url, '/v1/chat/completions', {
      headers: { 'x-mock-tps': '2', 'x-mock-answer-words': '1000' }, // 1000 words at 2/s would take ~8 minutes
      body: { ...chat, stream: true, max_tokens: 1000 }
    })
    req.on('error', () => undefined)
    const r = sseReader(await response)
    expect(await r.next()).not.toBeNull()
    expect(mock.stats().openStreams).toBe(1)
    req.destroy()
    await vi.waitFor(() => expect(mock.stats()).toMatchObject({ openStreams: 0, inFlight: 0 }))
  })

  it('chunked bodies over 64 MiB get 413 without a reset', async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull (controller) {
        if (sent++ < 65) controller.enqueue(chunk)
        else controller.close()
      }
    })
    const res = await fetch(`${mock.url}/v1/messages`, { method: 'POST', body, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } })
  })
})

describe('controlled SSE', () => {
  it('releases each event only after the previous one is acked', async () => {
    const res = await request(mock.url, '/__sse/controlled?n=3').response
    expect(res.headers['content-type']).toBe('text/event-stream')
    const id = String(res.headers['x-mock-stream-id'])
    const r = sseReader(res)
    const ack = async (i: number): Promise<number> => {
      const a = await fetch(`${mock.url}/__sse/ack?stream=${id}&i=${i}`, { method: 'POST' })
      await a.arrayBuffer()
      return a.status
    }

    expect(await r.next()).toEqual({ id: '0', data: '{"i":0}' })
    // An out-of-order ack is refused and releases nothing.
    expect(await ack(1)).toBe(409)
    expect(r.buffered).toBe(0)
    expect(await ack(0)).toBe(200)
    expect(await r.next()).toEqual({ id: '1', data: '{"i":1}' })
    expect(r.buffered).toBe(0)
    expect(await ack(1)).toBe(200)
    expect(await r.next()).toEqual({ id: '2', data: '{"i":2}' })
    expect(await r.next()).toBeNull() // stream ends after n events
    expect(await ack(2)).toBe(404)
  })
})

describe('fleet and handler', () => {
  it('starts one server per region, each tagging its responses', async () => {
    const fleet = await startMockFleet(['us-east-1', 'eu-west-1'], { latencyMs: 0 })
    try {
      expect([...fleet.urls.keys()]).toEqual(['us-east-1', 'eu-west-1'])
      for (const [region, url] of fleet.urls) {
        const res = await fetch(`${url}/__health`)
        expect(res.headers.get('x-mock-region')).toBe(region)
        expect(res.headers.get('x-mock-name')).toBe(`mock-${region}`)
        expect(await res.json()).toMatchObject({ ok: true, region })
        expect(fleet.servers.get(region)?.stats().requests).toBe(0) // probes are not counted
      }
    } finally {
      await fleet.close()
    }
  })

  it('createMockHandler plugs into any http server', async () => {
    const handler = createMockHandler({ region: 'local' })
    const server = http.createServer(handler)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{"inputs":"a b"}' })
    expect(await res.json()).toMatchObject({ usage: { prompt_tokens: 2 } })
    expect(handler.stats().requests).toBe(1)
    server.close()
    server.closeAllConnections()
  })

  it('close() does not wait for hanging requests', async () => {
    const s = await startMockServer({ region: 'x' })
    const { req } = request(s.url, '/v1/chat/completions', { headers: { 'x-mock-fail': 'hang' }, body: chat })
    req.on('error', () => undefined)
    await vi.waitFor(() => expect(s.stats().inFlight).toBe(1))
    await s.close()
    expect(s.stats().inFlight).toBe(0)
  })
})

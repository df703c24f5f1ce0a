// Upstreams that refuse, reset, stall or outlive the client, with real sockets.
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { freePort } from '../helpers/net.js'

let mock: MockServer
let gw: TestGateway
let closedPort: number

beforeAll(async () => {
  mock = await startMockServer({ region: 'test' })
  closedPort = await freePort()
  gw = await startGateway(`
# Each test injects a failure on purpose: passive ejection (routing.ejectAfter) would take
# the one deployment out of rotation and turn later tests into WORKLOAD_UNAVAILABLE.
defaults:
  routing: { ejectAfter: 100 }
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, baseUrl: "${mock.url}", apiKey: "sk-x" }
    models:
      - name: gpt
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        deployments: [{ region: eu-lon-1 }]
        timeouts: { firstByte: 300ms, idle: 300ms, total: 5s }
      - name: short
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        deployments: [{ region: eu-lon-1 }]
        timeouts: { total: 400ms }
      - name: dead
        runtime: { type: openai, model: m }
        deployments: [{ region: us-pdx-1, url: "http://127.0.0.1:${closedPort}" }]
`)
})
afterAll(async () => {
  await gw.close()
  await mock.close()
})

const chat = (stream: boolean): string => JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 })

describe('upstream failures', () => {
  it('a refused connection is a 502 UPSTREAM_UNREACHABLE in the edge shape, with decision headers', async () => {
    const res = await fetch(`${gw.url}/acme/models/dead/v1/chat/completions`, { method: 'POST', body: chat(false), headers: { authorization: 'Bearer tok-canary' } })
    expect(res.status).toBe(502)
    expect(res.headers.get('x-blaxel-error-code')).toBe('UPSTREAM_UNREACHABLE')
    expect(res.headers.get('x-agnet-region')).toBe('us-pdx-1')
    const body = await res.text()
    expect(JSON.parse(body).error).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', status: 502, retryable: true, origin: 'platform' })
    expect(body).not.toContain('127.0.0.1')
    expect(body).not.toContain('tok-canary')
  })

  it('a reset before headers is a 502', async () => {
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(false), headers: { 'x-mock-fail': 'reset-before-headers' } })
    expect(res.status).toBe(502)
  })

  it('a slow first byte is a 504 UPSTREAM_TIMEOUT', async () => {
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(false), headers: { 'x-mock-latency-ms': '3000' } })
    expect(res.status).toBe(504)
    expect(res.headers.get('x-blaxel-error-code')).toBe('UPSTREAM_TIMEOUT')
  })

  it('a stream that dies after headers ends with an error for the client, not a clean end', async () => {
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(true), headers: { 'x-mock-fail': 'reset-mid-stream' } })
    expect(res.status).toBe(200)
    await expect(res.text()).rejects.toThrow()
  })

  it('a stream silent for longer than the idle timeout is cut with an error', async () => {
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(true), headers: { 'x-mock-tps': '1', 'x-mock-answer-words': '50' } })
    expect(res.status).toBe(200)
    await expect(res.text()).rejects.toThrow()
  })

  it('the total timeout ends a stream that keeps producing', async () => {
    const res = await fetch(`${gw.url}/acme/models/short/v1/chat/completions`, { method: 'POST', body: chat(true), headers: { 'x-mock-tps': '20', 'x-mock-answer-words': '50' } })
    expect(res.status).toBe(200)
    await expect(res.text()).rejects.toThrow()
  })

  it('a client that goes away cancels the upstream stream', async () => {
    const before = mock.stats()
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, path: '/acme/models/gpt/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-mock-tps': '5', 'x-mock-answer-words': '50' } }, res => {
        res.once('data', () => {
          // First event received: the upstream stream is open. Now vanish.
          expect(mock.stats().openStreams).toBe(before.openStreams + 1)
          req.destroy()
          resolve()
        })
      })
      req.on('error', () => {})
      req.end(chat(true))
      setTimeout(() => { reject(new Error('no first event')) }, 10_000).unref()
    })
    await vi.waitFor(() => { expect(mock.stats().openStreams).toBe(before.openStreams) }, { timeout: 5000, interval: 20 })
    await vi.waitFor(() => { expect(gw.app.runPlane.inFlight).toBe(0) }, { timeout: 5000, interval: 20 })
  })

  it('an upstream status Node cannot relay is a 502, not a crash', async () => {
    const odd = net.createServer(sock => {
      sock.once('data', () => { sock.end('HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n') })
    })
    await new Promise<void>(resolve => odd.listen(0, '127.0.0.1', () => { resolve() }))
    const port = (odd.address() as net.AddressInfo).port
    const r = await gw.rewrite(`
workspaces:
  - name: acme
    models:
      - { name: odd, runtime: { type: openai }, deployments: [{ region: us-pdx-1, url: "http://127.0.0.1:${port}" }], timeouts: { firstByte: 2s } }
`)
    expect(r.ok).toBe(true)
    const res = await fetch(`${gw.url}/acme/models/odd/x`)
    expect([502, 504]).toContain(res.status)
    odd.close()
  })
})

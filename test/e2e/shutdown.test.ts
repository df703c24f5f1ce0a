// Graceful shutdown drains in-flight streams within a bound, then closes what is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway } from '../helpers/gateway.js'

let mock: MockServer
beforeAll(async () => { mock = await startMockServer({ region: 'a' }) })
afterAll(async () => { await mock.close() })

const cfg = (url: string): string => `
workspaces:
  - name: acme
    models:
      - { name: gpt, runtime: { type: openai }, deployments: [{ region: us-pdx-1, url: "${url}" }] }
`
const body = JSON.stringify({ model: 'm', stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'x' }] })

describe('graceful shutdown', () => {
  it('lets an open stream finish, then closes', async () => {
    const gw = await startGateway(cfg(mock.url))
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body, headers: { 'x-mock-tps': '100', 'x-mock-answer-words': '20' } })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    const closing = gw.app.close(10_000)
    let text = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    await closing
    expect(text.trim().endsWith('data: [DONE]')).toBe(true)
    expect(gw.app.server.listening).toBe(false)
    await gw.mocks.close()
  })

  it('cuts streams that outlive the grace period', async () => {
    const gw = await startGateway(cfg(mock.url))
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body, headers: { 'x-mock-tps': '2', 'x-mock-answer-words': '20' } })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    await gw.app.close(100)
    await expect((async () => { for (;;) { const r = await reader.read(); if (r.done) return 'clean end' } })()).rejects.toThrow()
    await gw.mocks.close()
  })
})

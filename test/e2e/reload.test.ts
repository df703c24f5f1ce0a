// Hot reload: a valid change is swapped in atomically while an open stream finishes on the
// snapshot it started with; an invalid change is refused and the last good config serves.
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

let a: MockServer
let b: MockServer
let gw: TestGateway

const cfg = (url: string, region: string): string => `
workspaces:
  - name: acme
    models:
      - name: gpt
        runtime: { type: openai, model: m }
        deployments: [{ region: ${region}, url: "${url}" }]
`

beforeAll(async () => {
  a = await startMockServer({ region: 'a' })
  b = await startMockServer({ region: 'b' })
  gw = await startGateway(cfg(a.url, 'us-pdx-1'))
})
afterAll(async () => {
  await gw.close()
  await a.close()
  await b.close()
})

const chat = (n: number, stream: boolean): string => JSON.stringify({ model: 'm', stream, max_tokens: n, messages: [{ role: 'user', content: 'x' }] })

describe('hot reload', () => {
  it('keeps an open stream alive on its snapshot while new requests use the new config', async () => {
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(30, true), headers: { 'x-mock-tps': '100', 'x-mock-answer-words': '30' } })
    expect(res.headers.get('x-mock-region')).toBe('a')
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)

    const result = await gw.rewrite(cfg(b.url, 'eu-fra-1'))
    expect(result.ok).toBe(true)
    const fresh = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(3, false) })
    expect(fresh.headers.get('x-mock-region')).toBe('b')
    expect(fresh.headers.get('x-agnet-region')).toBe('eu-fra-1')

    let text = new TextDecoder().decode(first.value)
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    expect(text.trim().endsWith('data: [DONE]')).toBe(true)
    expect((text.match(/"content":"/g) ?? []).length).toBeGreaterThanOrEqual(30)
  })

  it('refuses an invalid change and keeps serving the last good config', async () => {
    const before = gw.app.store.current.generation
    const bad = await gw.rewrite('workspaces:\n  - name: acme\n    models:\n      - { name: gpt, runtime: { type: openai }, deployments: [{ region: nowhere }] }\n')
    expect(bad.ok).toBe(false)
    const broken = await gw.rewrite('workspaces: [ {')
    expect(broken.ok).toBe(false)
    expect(gw.app.store.current.generation).toBe(before)
    expect(gw.app.store.reloads.failed).toBeGreaterThanOrEqual(2)
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(3, false) })
    expect(res.status).toBe(200)
  })

  it('picks up a file change by watching the config', async () => {
    gw.app.store.watch(20)
    const reloaded = new Promise(resolve => gw.app.store.once('reloaded', resolve))
    writeFileSync(gw.configPath, cfg(a.url, 'eu-lon-1'))
    await reloaded
    const res = await fetch(`${gw.url}/acme/models/gpt/v1/chat/completions`, { method: 'POST', body: chat(3, false) })
    expect(res.headers.get('x-agnet-region')).toBe('eu-lon-1')
    expect(res.headers.get('x-mock-region')).toBe('a')
  })
})

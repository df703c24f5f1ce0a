// A stream whose first event is long in coming (reasoning models) must show its headers to
// the client at once, and the first event must still follow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type Upstream } from '../helpers/net.js'

let upstream: Upstream
let gw: TestGateway
let release: (() => void) | null = null

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.flushHeaders()
    // The first event waits until the test has seen the headers through the gateway.
    release = () => { res.end('data: {"first":true}\n\n') }
  })
  gw = await startGateway(`
workspaces:
  - name: acme
    models:
      - { name: slow, runtime: { type: openai }, deployments: [{ region: us-pdx-1, url: "${upstream.url}" }] }
`)
})
afterAll(async () => {
  await gw.close()
  upstream.close()
})

describe('event-stream headers', () => {
  it('reach the client before the first event exists', async () => {
    const res = await fetch(`${gw.url}/acme/models/slow/v1/chat/completions`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('x-agnet-region')).toBe('us-pdx-1')
    expect(release).not.toBeNull()
    release?.()
    expect(await res.text()).toBe('data: {"first":true}\n\n')
  })
})

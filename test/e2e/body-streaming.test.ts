// A model with one deployment has nothing to fail over to: a request body still arriving is
// streamed to the upstream as it comes, not collected first.
import http from 'node:http'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type Upstream } from '../helpers/net.js'

let upstream: Upstream
let gw: TestGateway

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c as Buffer))
    req.on('end', () => { res.end(Buffer.concat(chunks)) })
  })
  gw = await startGateway(`
workspaces:
  - name: acme
    models:
      - { name: one, runtime: { type: openai }, deployments: [{ region: us-pdx-1, url: "${upstream.url}" }] }
`)
})
afterAll(async () => {
  await gw.close()
  upstream.close()
})

describe('request body of a single-deployment model', () => {
  it('reaches the upstream before the client has finished sending it', async () => {
    const arrived = once(upstream.server, 'request')
    const req = http.request(`${gw.url}/acme/models/one/upload`, { method: 'POST', headers: { 'content-length': '10' } })
    const answered = once(req, 'response') as Promise<[http.IncomingMessage]>
    req.write('01234')
    // If the gateway collected the body first, the upstream would never see the request here.
    await arrived
    req.end('56789')
    const [res] = await answered
    let body = ''
    for await (const c of res) body += String(c)
    expect(res.statusCode).toBe(200)
    expect(body).toBe('0123456789')
  })
})

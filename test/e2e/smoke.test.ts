import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

const CONFIG = `
workspaces:
  - name: demo
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    models:
      - name: gpt
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
`

describe('run plane smoke', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(CONFIG) })
  afterAll(async () => { await gw.close() })

  it('forwards a chat completion to the deployment and adds decision headers', async () => {
    const res = await fetch(`${gw.url}/demo/models/gpt/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three' }] })
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-agnet-region')).toBe('eu-fra-1')
    expect(res.headers.get('x-mock-region')).toBe('eu-fra-1')
    expect(res.headers.get('server-timing')).toMatch(/auth;dur=.*route;dur=.*upstream;dur=/)
    const body = await res.json() as { usage: { prompt_tokens: number } }
    expect(body.usage.prompt_tokens).toBe(3)
  })
})

// The embedded default config's mk3 models, used as Blaxel's TypeScript integrations use them:
// read the Model resource, then call {metadata.url}/v1/chat/completions with the OpenAI SDK
// and the Blaxel model name.
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { serve, type Served } from '../../src/server.js'
import { createLogger } from '../../src/observability/logger.js'

let served: Served
const env: NodeJS.ProcessEnv = { AGNET_DEMO_KEY: 'agnet_demo_key_for_mk3_tests_01234', AGNET_DEMO_CLIENT_ID: 'demo-client', AGNET_DEMO_CLIENT_SECRET: 'demo-secret-0123456789' }
const key = env.AGNET_DEMO_KEY as string

beforeAll(async () => {
  const logger = createLogger({ level: 'warn', destination: new Writable({ write (_c, _e, cb) { cb() } }) })
  served = await serve({ port: 0, host: '127.0.0.1', env, banner: false, watch: false, handleSignals: false, logger })
})
afterAll(async () => { await served.close() })

interface ModelJson { metadata: { name: string; url: string }; spec: { runtime: { type: string; model: string; generation?: string } } }

describe.each([
  ['claude-haiku-mk3', 'anthropic', 'claude-3-5-haiku-latest'],
  ['gemini-flash-mk3', 'gemini', 'gemini-2.0-flash']
])('default config: %s', (name, type, providerModel) => {
  let model: ModelJson
  beforeAll(async () => {
    const res = await fetch(`http://127.0.0.1:${served.port}/v0/models/${name}`, { headers: { authorization: `Bearer ${key}`, 'x-blaxel-workspace': 'demo' } })
    expect(res.status).toBe(200)
    model = await res.json() as ModelJson
  })

  it('the control plane shows generation mk3 and the metadata.url the SDKs call', () => {
    expect(model.spec.runtime).toEqual({ type, model: providerModel, generation: 'mk3' })
    expect(model.metadata.url).toBe(`http://127.0.0.1:${served.port}/demo/models/${name}`)
  })

  it('the OpenAI SDK at {metadata.url}/v1 gets a translated answer, plain and streamed', async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${model.metadata.url}/v1`, maxRetries: 0 })
    const plain = await client.chat.completions.create({ model: name, messages: [{ role: 'user', content: 'Hello' }] })
    expect(plain.choices[0]?.finish_reason).toBe('stop')
    expect(plain.model).toBe(providerModel)
    expect(plain.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 16, total_tokens: 17 })
    const stream = await client.chat.completions.create({ model: name, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] })
    let text = ''
    let total = 0
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      total = chunk.usage?.total_tokens ?? total
    }
    expect(text).toBe(plain.choices[0]?.message.content)
    expect(total).toBe(17)
  })
})

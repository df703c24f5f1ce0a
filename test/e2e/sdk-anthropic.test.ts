// The real `@anthropic-ai/sdk` pointed at agnet with base URL http://host/{ws}/models/{model}
// and the Blaxel headers as defaultHeaders (its own x-api-key is a dummy agnet must ignore).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { SDK_CONFIG, USER_KEY } from './sdk-config.js'

describe('anthropic SDK through agnet', () => {
  let gw: TestGateway
  let client: Anthropic

  beforeAll(async () => {
    gw = await startGateway(SDK_CONFIG)
    client = new Anthropic({
      apiKey: 'replaced',
      baseURL: `${gw.url}/demo/models/claude-haiku`,
      maxRetries: 0,
      defaultHeaders: { 'X-Blaxel-Authorization': `Bearer ${USER_KEY}`, 'X-Blaxel-Workspace': 'demo' }
    })
  })
  afterAll(async () => { await gw.close() })

  it('creates a message', async () => {
    const { data, response } = await client.messages.create({
      model: 'claude-3-5-haiku-latest',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello Claude' }]
    }).withResponse()
    expect(response.headers.get('x-agnet-region')).toBe('us-pdx-1')
    expect(data.type).toBe('message')
    expect(data.role).toBe('assistant')
    const block = data.content[0]
    expect(block?.type).toBe('text')
    expect(block?.type === 'text' ? block.text.length : 0).toBeGreaterThan(0)
    expect(data.usage.input_tokens).toBe(2)
    expect(data.stop_reason).toBe('end_turn')
  })

  it('streams a message event by event and accumulates it', async () => {
    const stream = client.messages.stream({
      model: 'claude-3-5-haiku-latest',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Stream to me' }]
    })
    const deltas: string[] = []
    stream.on('text', t => { deltas.push(t) })
    const final = await stream.finalMessage()
    expect(deltas.length).toBeGreaterThan(1)
    const block = final.content[0]
    expect(block?.type === 'text' ? block.text : '').toBe(deltas.join(''))
    expect(final.usage.input_tokens).toBe(3)
    expect(final.usage.output_tokens).toBeGreaterThan(0)
  })

  it('streams raw events with stream: true', async () => {
    const stream = await client.messages.create({
      model: 'claude-3-5-haiku-latest',
      max_tokens: 32,
      stream: true,
      messages: [{ role: 'user', content: 'raw events' }]
    })
    const types: string[] = []
    for await (const ev of stream) types.push(ev.type)
    expect(types[0]).toBe('message_start')
    expect(types).toContain('content_block_delta')
    expect(types.at(-1)).toBe('message_stop')
  })

  it('takes the agnet key as the SDK\'s own apiKey too (Anthropic SDK 1.x sends it as Authorization: Bearer)', async () => {
    const direct = new Anthropic({ apiKey: USER_KEY, baseURL: `${gw.url}/demo/models/claude-haiku`, maxRetries: 0 })
    const msg = await direct.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
    expect(msg.type).toBe('message')
  })

  it('is refused with the dummy apiKey and no Blaxel credential', async () => {
    const anon = new Anthropic({ apiKey: 'replaced', baseURL: `${gw.url}/demo/models/claude-haiku`, maxRetries: 0 })
    const err = await anon.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(401)
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get('x-blaxel-error-code')).toBe('AUTHENTICATION_FAILED')
  })
})

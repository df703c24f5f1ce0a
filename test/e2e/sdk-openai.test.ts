// The real `openai` SDK pointed at agnet with base URL http://host/{ws}/models/{model}/v1 and an
// agnet API key as its apiKey: chat (plain and streamed with usage), responses, embeddings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { SDK_CONFIG, USER_KEY } from './sdk-config.js'

describe('openai SDK through agnet', () => {
  let gw: TestGateway
  let client: OpenAI

  beforeAll(async () => {
    gw = await startGateway(SDK_CONFIG)
    client = new OpenAI({ apiKey: USER_KEY, baseURL: `${gw.url}/demo/models/gpt-4o-mini/v1`, maxRetries: 0 })
  })
  afterAll(async () => { await gw.close() })

  it('creates a chat completion', async () => {
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say three words' }]
    }).withResponse()
    expect(response.headers.get('x-agnet-region')).toBe('eu-fra-1')
    expect(data.object).toBe('chat.completion')
    expect(data.choices[0]?.message.role).toBe('assistant')
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0)
    expect(data.usage?.prompt_tokens).toBe(3)
  })

  it('streams a chat completion with usage in the last chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream something' }],
      stream: true,
      stream_options: { include_usage: true }
    })
    let text = ''
    let chunks = 0
    let usage: OpenAI.CompletionUsage | null | undefined = null
    for await (const chunk of stream) {
      chunks++
      text += chunk.choices[0]?.delta.content ?? ''
      if (chunk.usage !== null && chunk.usage !== undefined) usage = chunk.usage
    }
    expect(chunks).toBeGreaterThan(2)
    expect(text.length).toBeGreaterThan(0)
    expect(usage?.prompt_tokens).toBe(2)
    expect(usage?.completion_tokens).toBeGreaterThan(0)
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0))
  })

  it('runs the chat stream helper to a final message', async () => {
    const runner = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] })
    const final = await runner.finalChatCompletion()
    expect(final.choices[0]?.message.content?.length).toBeGreaterThan(0)
  })

  it('creates a response (Responses API), plain and streamed', async () => {
    const res = await client.responses.create({ model: 'gpt-4o-mini', input: 'Write a haiku' })
    expect(res.object).toBe('response')
    expect(res.status).toBe('completed')
    expect(res.output_text.length).toBeGreaterThan(0)
    expect(res.usage?.input_tokens).toBe(3)

    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Write a haiku' })
    const deltas: string[] = []
    stream.on('response.output_text.delta', e => { deltas.push(e.delta) })
    const final = await stream.finalResponse()
    expect(deltas.length).toBeGreaterThan(1)
    expect(final.status).toBe('completed')
    // The stream helper's final object has no output_text unless it parses: read the message item.
    const message = final.output.find(o => o.type === 'message')
    const part = message?.type === 'message' ? message.content[0] : undefined
    expect(part?.type === 'output_text' ? part.text : null).toBe(deltas.join(''))
    expect(final.usage?.output_tokens).toBe(deltas.length)
  })

  it('creates embeddings (float and the SDK default base64)', async () => {
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['one', 'two'], encoding_format: 'float', dimensions: 8 })
    expect(floats.data).toHaveLength(2)
    expect(floats.data[0]?.embedding).toHaveLength(8)
    // Without encoding_format the SDK asks for base64 and decodes it itself.
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'one', dimensions: 8 })
    expect(decoded.data[0]?.embedding).toHaveLength(8)
    expect(decoded.data[0]?.embedding[0]).toBeCloseTo(floats.data[0]?.embedding[0] as number, 5)
  })

  it('lists the provider models with GET through the same base URL', async () => {
    const page = await client.models.list()
    expect(page.data.map(m => m.id)).toContain('gpt-4o-mini')
  })

  it('surfaces agnet\'s own error as an OpenAI APIError with the edge body', async () => {
    const bad = new OpenAI({ apiKey: 'agnet_wrong_key_000000000000000', baseURL: `${gw.url}/demo/models/gpt-4o-mini/v1`, maxRetries: 0 })
    const unknown = new OpenAI({ apiKey: USER_KEY, baseURL: `${gw.url}/demo/models/nope/v1`, maxRetries: 0 })
    await expect(unknown.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404 })
    const err = await bad.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    // agnet's edge error, parsed by the SDK like a provider error, with Blaxel's headers.
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(401)
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-blaxel-error-code')).toBe('AUTHENTICATION_FAILED')
  })
})

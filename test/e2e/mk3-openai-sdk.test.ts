// The OpenAI SDK calling mk3 models of the Anthropic, Gemini and Cohere types through agnet,
// the way Blaxel's TypeScript integrations do: base URL {metadata.url}/v1, `model` set to the
// Blaxel model name. agnet translates to each provider's native API (served by the native
// mocks) and back; plain, streamed with usage, tool-call round trips, cuts, refusals,
// provider errors, broken streams and token caps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { generateWords } from '../../src/mock/text.js'

const KEY = 'agnet_mk3_key_0123456789abcdef'
const CONFIG = `
users:
  - name: dev
    apiKeys: [{ name: k, value: "${KEY}" }]
workspaces:
  - name: demo
    members: [{ user: dev, role: member }]
    integrations:
      - { name: ant, provider: anthropic, baseUrl: "mock://", apiKey: "sk-ant-upstream" }
      - { name: gem, provider: gemini, baseUrl: "mock://", apiKey: "gem-upstream" }
      - { name: coh, provider: cohere, baseUrl: "mock://", apiKey: "coh-upstream" }
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    policies:
      - { name: cap, type: maxToken, maxTokens: { granularity: minute, step: 1, total: 30 } }
    models:
      - { name: claude-mk3, runtime: { type: anthropic, model: claude-3-5-haiku-latest, generation: mk3 }, integrationConnections: [ant], deployments: [{ region: us-pdx-1 }] }
      - { name: gemini-mk3, runtime: { type: gemini, model: gemini-2.0-flash, generation: mk3 }, integrationConnections: [gem], deployments: [{ region: us-pdx-1 }] }
      - { name: cohere-mk3, runtime: { type: cohere, model: command-r, generation: mk3 }, integrationConnections: [coh], deployments: [{ region: us-pdx-1 }] }
      - { name: gpt-mk3, runtime: { type: openai, model: gpt-4o-mini, generation: mk3 }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
      - { name: claude-mk3-small, runtime: { type: anthropic, model: claude-3-5-haiku-latest, generation: mk3 }, integrationConnections: [ant], deployments: [{ region: us-pdx-1 }], bodyLimit: 2KiB }
      - { name: claude-mk3-capped, runtime: { type: anthropic, model: claude-3-5-haiku-latest, generation: mk3 }, integrationConnections: [ant], deployments: [{ region: us-pdx-1 }], policies: [cap] }
`
const PROVIDER_MODEL: Record<string, string> = { 'claude-mk3': 'claude-3-5-haiku-latest', 'gemini-mk3': 'gemini-2.0-flash', 'cohere-mk3': 'command-r', 'gpt-mk3': 'gpt-4o-mini' }
const SIXTEEN = generateWords(16).join(' ')
const WEATHER = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } }
}

let gw: TestGateway
const clients = new Map<string, OpenAI>()
function client (model: string): OpenAI {
  let c = clients.get(model)
  if (c === undefined) {
    c = new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/demo/models/${model}/v1`, maxRetries: 0 })
    clients.set(model, c)
  }
  return c
}

beforeAll(async () => { gw = await startGateway(CONFIG) })
afterAll(async () => { await gw.close() })

describe.each(['claude-mk3', 'gemini-mk3', 'cohere-mk3'])('OpenAI SDK → %s (translated)', (model) => {
  it('answers a plain chat completion, with the provider model and usage', async () => {
    const { data, response } = await client(model).chat.completions.create({
      model,
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }]
    }).withResponse()
    expect(response.headers.get('x-agnet-region')).toBe('us-pdx-1')
    expect(data.object).toBe('chat.completion')
    expect(data.choices[0]?.message).toMatchObject({ role: 'assistant', content: SIXTEEN })
    expect(data.choices[0]?.finish_reason).toBe('stop')
    // The mock counts the system prompt as input, as providers do: 2 + 2 words.
    expect(data.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 16, total_tokens: 20 })
    if (model !== 'cohere-mk3') expect(data.model).toBe(PROVIDER_MODEL[model])
  })

  it('streams chunk by chunk with a final usage chunk and [DONE]', async () => {
    const stream = await client(model).chat.completions.create({
      model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }]
    })
    const deltas: string[] = []
    let finish: string | null = null
    let usage: OpenAI.CompletionUsage | null | undefined
    for await (const chunk of stream) {
      const c = chunk.choices[0]
      if (c?.delta.content) deltas.push(c.delta.content)
      if (c?.finish_reason) finish = c.finish_reason
      if (chunk.usage) usage = chunk.usage
    }
    expect(deltas.length).toBe(16)
    expect(deltas.join('')).toBe(SIXTEEN)
    expect(finish).toBe('stop')
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 })
  })

  it('a max_tokens cut is finish_reason length, plain and streamed', async () => {
    const plain = await client(model).chat.completions.create({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    expect(plain.choices[0]?.finish_reason).toBe('length')
    expect(plain.usage?.completion_tokens).toBe(5)
    const final = await client(model).chat.completions.stream({ model, max_completion_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }).finalChatCompletion()
    expect(final.choices[0]?.finish_reason).toBe('length')
    expect(final.choices[0]?.message.content).toBe(generateWords(3).join(' '))
  })

  it('runs a tool-call round trip, plain and streamed', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'weather in Paris?' }]
    const first = await client(model).chat.completions.create({ model, messages, tools: [WEATHER] })
    expect(first.choices[0]?.finish_reason).toBe('tool_calls')
    const call = first.choices[0]?.message.tool_calls?.[0]
    expect(call?.type).toBe('function')
    expect(call?.type === 'function' ? call.function.name : '').toBe('get_weather')
    expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '')).toEqual({ city: 'agnet', days: 1 })

    const streamed = await client(model).chat.completions.stream({ model, messages, tools: [WEATHER] }).finalChatCompletion()
    const sc = streamed.choices[0]?.message.tool_calls?.[0]
    expect(streamed.choices[0]?.finish_reason).toBe('tool_calls')
    expect(JSON.parse(sc?.type === 'function' ? sc.function.arguments : '')).toEqual({ city: 'agnet', days: 1 })

    const answer = await client(model).chat.completions.create({
      model,
      tools: [WEATHER],
      messages: [...messages, first.choices[0]?.message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call?.id ?? '', content: '{"sky":"clear"}' }]
    })
    expect(answer.choices[0]?.finish_reason).toBe('stop')
    expect(answer.choices[0]?.message.content).toBe(SIXTEEN)
  })

  it('relays a provider error in OpenAI\'s shape with the provider status', async () => {
    const err = await client(model).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-status': '401' } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
    const e = err as InstanceType<typeof OpenAI.APIError>
    expect(e.status).toBe(401)
    expect(e.error).toMatchObject({ message: expect.stringContaining('Mock injected status 401'), type: 'authentication_error' })
  })

  it('a provider stream cut mid-way is a broken stream for the client, never a clean end', async () => {
    const res = await fetch(`${gw.url}/demo/models/${model}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-mock-fail': 'reset-mid-stream' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] })
    })
    expect(res.status).toBe(200)
    let text = ''
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const dec = new TextDecoder()
    const failed = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return false
          text += dec.decode(value)
        }
      } catch { return true }
    })()
    expect(failed).toBe(true)
    expect(text).not.toContain('[DONE]')
  })
})

describe('raw streams', () => {
  async function rawStream (model: string, body: Record<string, unknown>): Promise<string[]> {
    const res = await fetch(`${gw.url}/demo/models/${model}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'weather?' }], ...body })
    })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    return (await res.text()).split('\n\n').filter(Boolean)
  }

  it.each(['claude-mk3', 'cohere-mk3'])('%s: tool-call arguments arrive in many deltas with one stable index, then [DONE]', async (model) => {
    const events = await rawStream(model, { tools: [WEATHER] })
    expect(events.at(-1)).toBe('data: [DONE]')
    const chunks = events.slice(0, -1).map(e => JSON.parse(e.slice('data: '.length)) as { choices: Array<{ delta: { tool_calls?: Array<{ index: number; id?: string; function: { name?: string; arguments: string } }> } }> })
    const calls = chunks.flatMap(c => c.choices[0]?.delta.tool_calls ?? [])
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } })
    const pieces = calls.slice(1).map(c => c.function.arguments)
    expect(pieces.length).toBeGreaterThan(2)
    expect(calls.every(c => c.index === 0)).toBe(true)
    expect(JSON.parse(pieces.join(''))).toEqual({ city: 'agnet', days: 1 })
  })

  it('without include_usage no chunk carries usage', async () => {
    const events = await rawStream('claude-mk3', {})
    expect(events.join('')).not.toContain('usage')
    expect(events.at(-1)).toBe('data: [DONE]')
  })
})

describe('mk3 rules', () => {
  async function post (model: string, body: Record<string, unknown>): Promise<Response> {
    return await fetch(`${gw.url}/demo/models/${model}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...body })
    })
  }

  it.each([
    ['claude-mk3', { n: 2 }, 'n'],
    ['claude-mk3', { logprobs: true }, 'logprobs'],
    ['gemini-mk3', { logprobs: true, top_logprobs: 2 }, 'logprobs'],
    ['cohere-mk3', { n: 3 }, 'n'],
    ['claude-mk3', { response_format: { type: 'json_object' } }, 'response_format'],
    ['claude-mk3', { frobnicate: 1 }, 'frobnicate']
  ])('%s refuses %j with a 400 naming %s', async (model, body, param) => {
    const res = await post(model, body)
    expect(res.status).toBe(400)
    expect(res.headers.get('x-request-id')).toBeTruthy()
    const err = await res.json() as { error: { param: string; type: string; message: string } }
    expect(err.error).toMatchObject({ param, type: 'invalid_request_error' })
    expect(err.error.message).toContain(param)
  })

  /** A chunked upload (no Content-Length) in pieces of `size` bytes. */
  async function postChunked (model: string, body: string, size: number): Promise<Response> {
    const bytes = new TextEncoder().encode(body)
    let at = 0
    const stream = new ReadableStream<Uint8Array>({
      pull (controller) {
        if (at >= bytes.length) { controller.close(); return }
        controller.enqueue(bytes.subarray(at, at + size))
        at += size
      }
    })
    return await fetch(`${gw.url}/demo/models/${model}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: stream, duplex: 'half'
    } as RequestInit)
  }

  it('a body uploaded in pieces is read whole, then translated', async () => {
    const res = await postChunked('claude-mk3', JSON.stringify({ model: 'claude-mk3', messages: [{ role: 'system', content: 'x '.repeat(300) }, { role: 'user', content: 'hello there' }] }), 100)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ object: 'chat.completion', choices: [{ finish_reason: 'stop' }], usage: { prompt_tokens: 302 } })
  })

  it('a body over the model\'s limit is refused with 413, chunked or not', async () => {
    const big = JSON.stringify({ model: 'claude-mk3-small', messages: [{ role: 'user', content: 'x '.repeat(2000) }] })
    const chunked = await postChunked('claude-mk3-small', big, 500)
    expect(chunked.status).toBe(413)
    expect(chunked.headers.get('x-blaxel-error-code')).toBe('REQUEST_ENTITY_TOO_LARGE')
    const whole = await post('claude-mk3-small', { messages: [{ role: 'user', content: 'x '.repeat(2000) }] })
    expect(whole.status).toBe(413)
  })

  it('the OpenAI SDK surfaces a refusal as BadRequestError', async () => {
    const err = await client('claude-mk3').chat.completions.create({ model: 'claude-mk3', n: 2, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n')
  })

  it('an OpenAI-type mk3 model is passed through with runtime.model in place of the Blaxel name', async () => {
    const r = await client('gpt-mk3').chat.completions.create({ model: 'gpt-mk3', messages: [{ role: 'user', content: 'hi' }] })
    expect(r.model).toBe('gpt-4o-mini')
    expect(r.choices[0]?.message.content).toBe(SIXTEEN)
  })

  it('token caps count the usage the provider reported in its native answer', async () => {
    // 1 input + 16 output tokens per call against a 30-token window: the second call crosses
    // the limit and is served, the third is refused.
    const c = client('claude-mk3-capped')
    const first = await c.chat.completions.create({ model: 'claude-mk3-capped', messages: [{ role: 'user', content: 'hi' }] })
    expect(first.usage?.total_tokens).toBe(17)
    const second = await c.chat.completions.create({ model: 'claude-mk3-capped', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    for await (const _ of second) { /* drain */ }
    const res = await post('claude-mk3-capped', {})
    expect(res.status).toBe(429)
    expect(res.headers.get('x-blaxel-error-code')).toBe('POLICY_VIOLATION')
  })
})

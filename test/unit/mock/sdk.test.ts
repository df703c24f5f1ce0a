import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockServer, startMockServer } from '../../../src/mock/server.js'
import { embed, generateWords } from '../../../src/mock/text.js'

let mock: MockServer
let openai: OpenAI
let anthropic: Anthropic
beforeAll(async () => {
  mock = await startMockServer({ region: 'us-east-1' })
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'x', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'x', maxRetries: 0 })
})
afterAll(async () => {
  await mock.close()
})

const text = (n: number): string => generateWords(n).join(' ')

describe('openai SDK against the mock', () => {
  const messages = [
    { role: 'system' as const, content: 'be short' },
    { role: 'user' as const, content: 'count these four words' }
  ]

  it('parses a chat completion', async () => {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 6 })
    expect(r.choices[0]?.message.content).toBe(text(6))
    expect(r.usage).toEqual({ prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 })
  })

  it('parses a streamed chat completion with include_usage', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini', messages, max_tokens: 7, stream: true, stream_options: { include_usage: true }
    })
    const deltas: string[] = []
    let usage: OpenAI.CompletionUsage | null | undefined
    let finish: string | null | undefined
    for await (const chunk of stream) {
      const c = chunk.choices[0]
      if (c?.delta.content) deltas.push(c.delta.content)
      if (c?.finish_reason) finish = c.finish_reason
      if (chunk.usage) usage = chunk.usage
    }
    expect(deltas).toHaveLength(7)
    expect(deltas.join('')).toBe(text(7))
    // Cut at max_tokens (7 of the 16 words the mock answers): reported as such.
    expect(finish).toBe('length')
    expect(usage).toEqual({ prompt_tokens: 6, completion_tokens: 7, total_tokens: 13 })
  })

  it('the chat stream helper accumulates a final completion', async () => {
    const final = await openai.chat.completions
      .stream({ model: 'gpt-4o-mini', messages, max_tokens: 3, stream_options: { include_usage: true } })
      .finalChatCompletion()
    expect(final.choices[0]?.message.content).toBe(text(3))
    expect(final.usage?.total_tokens).toBe(9)
  })

  it('parses a Responses API answer', async () => {
    const r = await openai.responses.create({ model: 'gpt-4o-mini', instructions: 'one', input: 'two three', max_output_tokens: 4 })
    expect(r.output_text).toBe(text(4))
    expect(r.usage).toMatchObject({ input_tokens: 3, output_tokens: 4, total_tokens: 7 })
  })

  it('parses a streamed Responses API answer (raw events and the stream helper)', async () => {
    const events = await openai.responses.create({ model: 'm', input: 'a b', max_output_tokens: 5, stream: true })
    const types: string[] = []
    const deltas: string[] = []
    for await (const ev of events) {
      types.push(ev.type)
      if (ev.type === 'response.output_text.delta') deltas.push(ev.delta)
    }
    expect(types[0]).toBe('response.created')
    expect(types.at(-1)).toBe('response.incomplete')
    expect(deltas.join('')).toBe(text(5))

    // An uncut five-word answer: the helper's final response comes from response.completed.
    const final = await openai.responses.stream({ model: 'm', input: 'a b', max_output_tokens: 50 }, { headers: { 'x-mock-answer-words': '5' } }).finalResponse()
    expect(final.status).toBe('completed')
    // This SDK version's stream helper does not add the output_text shortcut
    // unless a parseable text format was requested, so read the content part.
    const item = final.output[0]
    expect(item?.type === 'message' ? item.content[0] : undefined).toMatchObject({ type: 'output_text', text: text(5) })
    expect(final.usage).toMatchObject({ input_tokens: 2, output_tokens: 5, total_tokens: 7 })
  })

  it('parses embeddings (SDK default base64 and explicit float)', async () => {
    const b64 = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['x y', 'z'] })
    expect(b64.data).toHaveLength(2)
    expect(b64.data[0]?.embedding).toHaveLength(1536)
    expect(b64.data[0]?.embedding.slice(0, 4)).toEqual(embed('x y', 1536).slice(0, 4))
    expect(b64.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 })
    const floats = await openai.embeddings.create({ model: 'e', input: 'x y', dimensions: 16, encoding_format: 'float' })
    expect(floats.data[0]?.embedding).toEqual(embed('x y', 16))
  })

  it('lists models and surfaces injected errors as APIError', async () => {
    const page = await openai.models.list()
    expect(page.data.map((m) => m.id)).toContain('gpt-4o-mini')
    const err = await openai.chat.completions
      .create({ model: 'm', messages }, { headers: { 'x-mock-status': '429' } })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('1')
  })
})

describe('anthropic SDK against the mock', () => {
  const params = {
    model: 'claude-sonnet-4-20250514',
    max_tokens: 4,
    system: 'you are a mock',
    messages: [{ role: 'user' as const, content: 'hello anthropic mock' }]
  }

  it('parses a message', async () => {
    const m = await anthropic.messages.create(params)
    expect(m.content).toEqual([{ type: 'text', text: text(4) }])
    expect(m.usage).toMatchObject({ input_tokens: 7, output_tokens: 4 })
    expect(m.stop_reason).toBe('max_tokens')
  })

  it('streams a message; finalMessage carries usage', async () => {
    const stream = anthropic.messages.stream(params)
    const deltas: string[] = []
    stream.on('text', (t) => deltas.push(t))
    const final = await stream.finalMessage()
    expect(deltas).toEqual(generateWords(4).map((w, i) => (i ? ` ${w}` : w)))
    expect(final.content).toEqual([{ type: 'text', text: text(4) }])
    expect(final.usage).toMatchObject({ input_tokens: 7, output_tokens: 4 })
  })

  it('surfaces injected errors with the anthropic error type', async () => {
    const err = await anthropic.messages.create(params, { headers: { 'x-mock-status': '529' } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529)
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
  })
})

describe('answers like a provider: short, cut at max tokens, tools called (provider SDKs reading the result)', () => {
  const weather = { name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } }

  it('anthropic: a 1024 ceiling answers 16 words and end_turn; a 5 ceiling cuts at 5 with max_tokens', async () => {
    const full = await anthropic.messages.create({ model: 'claude-x', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] })
    expect(full.stop_reason).toBe('end_turn')
    expect(full.usage.output_tokens).toBe(16)
    const stream = anthropic.messages.stream({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    const cut = await stream.finalMessage()
    expect(cut.stop_reason).toBe('max_tokens')
    expect(cut.content).toEqual([{ type: 'text', text: text(5) }])
    expect(cut.usage.output_tokens).toBe(5)
  })

  it('anthropic: the stream helper assembles a tool_use whose JSON input came in many deltas', async () => {
    const stream = anthropic.messages.stream({ model: 'claude-x', max_tokens: 1024, tools: [weather], messages: [{ role: 'user', content: 'weather in Paris?' }] })
    const partials: string[] = []
    stream.on('inputJson', (partial) => partials.push(partial))
    const final = await stream.finalMessage()
    expect(final.stop_reason).toBe('tool_use')
    expect(final.content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input: { city: 'agnet', days: 1 } }])
    expect(partials.length).toBeGreaterThan(2)
    // Answering the tool gets text back.
    const tool = final.content[0] as Anthropic.ToolUseBlock
    const answer = await anthropic.messages.create({
      model: 'claude-x', max_tokens: 1024, tools: [weather],
      messages: [{ role: 'user', content: 'weather in Paris?' }, { role: 'assistant', content: final.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: tool.id, content: 'sunny' }] }]
    })
    expect(answer.stop_reason).toBe('end_turn')
    expect(answer.content[0]?.type).toBe('text')
  })

  it('openai: a cut answer is length, an uncut one stop, tools come back as tool_calls', async () => {
    const messages = [{ role: 'user' as const, content: 'hi' }]
    const full = await openai.chat.completions.create({ model: 'm', messages, max_completion_tokens: 4096 })
    expect(full.choices[0]?.finish_reason).toBe('stop')
    expect(full.usage?.completion_tokens).toBe(16)
    const tools = [{ type: 'function' as const, function: { name: weather.name, parameters: weather.input_schema } }]
    const final = await openai.chat.completions.stream({ model: 'm', messages, tools }).finalChatCompletion()
    expect(final.choices[0]?.finish_reason).toBe('tool_calls')
    expect(JSON.parse(final.choices[0]?.message.tool_calls?.[0]?.function.arguments ?? '')).toEqual({ city: 'agnet', days: 1 })
  })
})

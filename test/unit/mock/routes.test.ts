import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockServer, startMockServer } from '../../../src/mock/server.js'
import { embed, embeddingToBase64, generateWords } from '../../../src/mock/text.js'

interface SseEvent { event: string | undefined; data: string }

/** Splits an SSE body into events (accepts LF and CRLF framing). */
function parseSse (text: string): SseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined
      const data: string[] = []
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event: ')) event = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
      }
      return { event, data: data.join('\n') }
    })
}

const json = (e: SseEvent): unknown => JSON.parse(e.data) as unknown

/** Property-path lookup on parsed JSON ('choices.0.delta.content'); the
 *  shape is checked by expect() at runtime rather than by the compiler. */
function get (v: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>(
    (o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
    v
  )
}

let mock: MockServer
beforeAll(async () => {
  mock = await startMockServer({ region: 'eu-west-1' })
})
afterAll(async () => {
  await mock.close()
})

async function post (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(mock.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
}

// 3 (system) + 6 (user string) + 2 (text part; the image part has no text) = 11
const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the mock world' },
  { role: 'user', content: [{ type: 'text', text: 'two words' }, { type: 'image_url', image_url: { url: 'x' } }] }
]
const text = (n: number): string => generateWords(n).join(' ')

describe('openai routes', () => {
  it('chat completion shape, ids and exact usage', async () => {
    const res = await post('/v1/chat/completions', { model: 'gpt-x', messages: MESSAGES, max_tokens: 5 })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-mock-region')).toBe('eu-west-1')
    expect(res.headers.get('x-mock-provider')).toBe('openai')
    expect(res.headers.get('x-mock-name')).toBe('mock-eu-west-1')
    const body: unknown = await res.json()
    expect(get(body, 'id')).toMatch(/^chatcmpl-eu-west-1-\d+$/)
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-x',
      choices: [{ index: 0, message: { role: 'assistant', content: text(5) }, finish_reason: 'length', logprobs: null }],
      usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 }
    })
    expect(typeof get(body, 'created')).toBe('number')
  })

  it('answers 16 words (a ceiling never lengthens it), x-mock-answer-words caps at 4096, serves /chat/completions', async () => {
    const a = (await (await post('/chat/completions', { messages: MESSAGES })).json()) as unknown
    expect(get(a, 'usage.completion_tokens')).toBe(16)
    expect(get(a, 'choices.0.finish_reason')).toBe('stop')
    const high = (await (await post('/v1/chat/completions', { messages: MESSAGES, max_completion_tokens: 100000 })).json()) as unknown
    expect(get(high, 'usage.completion_tokens')).toBe(16)
    expect(get(high, 'choices.0.finish_reason')).toBe('stop')
    const b = (await (await post('/v1/chat/completions', { messages: [], max_completion_tokens: 100000 }, { 'x-mock-answer-words': '100000' })).json()) as unknown
    expect(get(b, 'usage')).toEqual({ prompt_tokens: 0, completion_tokens: 4096, total_tokens: 4096 })
  })

  it('streams one word per delta, then stop, usage and [DONE]', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'gpt-x', messages: MESSAGES, max_tokens: 4, stream: true, stream_options: { include_usage: true }
    })
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const events = parseSse(await res.text())
    expect(events.at(-1)?.data).toBe('[DONE]')
    const chunks = events.slice(0, -1).map(json)
    expect(chunks.map((c) => get(c, 'object'))).toEqual(Array(6).fill('chat.completion.chunk'))
    const deltas = chunks.slice(0, 4).map((c) => get(c, 'choices.0.delta.content'))
    expect(deltas).toEqual(generateWords(4).map((w, i) => (i ? ` ${w}` : w)))
    expect(get(chunks[0], 'choices.0.delta.role')).toBe('assistant')
    expect(get(chunks[4], 'choices.0')).toMatchObject({ finish_reason: 'length', delta: {} })
    expect(chunks[5]).toMatchObject({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 } })
  })

  it('stream without include_usage has no usage chunk; x-mock-stream-usage: omit strips it', async () => {
    for (const [body, headers] of [
      [{ messages: MESSAGES, max_tokens: 2, stream: true }, {}],
      [{ messages: MESSAGES, max_tokens: 2, stream: true, stream_options: { include_usage: true } }, { 'x-mock-stream-usage': 'omit' }]
    ] as const) {
      const raw = await (await post('/v1/chat/completions', body, headers)).text()
      expect(raw).not.toContain('usage')
      expect(parseSse(raw)).toHaveLength(4) // 2 deltas + stop + [DONE]
    }
  })

  it('responses non-stream and stream event sequence', async () => {
    const input = [{ role: 'user', content: [{ type: 'input_text', text: 'hello there mock' }] }]
    const plain = (await (await post('/v1/responses', { model: 'gpt-r', instructions: 'be brief', input, max_output_tokens: 3 })).json()) as unknown
    expect(plain).toMatchObject({
      object: 'response', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, model: 'gpt-r',
      output: [{ type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: text(3), annotations: [] }] }],
      usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } }
    })
    expect(get(plain, 'id')).toMatch(/^resp_/)

    const events = parseSse(await (await post('/v1/responses', { input: 'hi you', max_output_tokens: 3, stream: true })).text())
    expect(events.map((e) => e.event)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.delta', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.incomplete'
    ])
    const data = events.map(json)
    expect(data.map((d) => get(d, 'sequence_number'))).toEqual(data.map((_, i) => i))
    expect(data.every((d, i) => get(d, 'type') === events[i]?.event)).toBe(true)
    expect(get(data.at(-1), 'response.usage')).toMatchObject({ input_tokens: 2, output_tokens: 3, total_tokens: 5 })
  })

  it('embeddings: float and base64, arrays, usage', async () => {
    const body = (await (await post('/v1/embeddings', { model: 'e', input: ['a b c', 'd'], dimensions: 8 })).json()) as unknown
    expect(body).toMatchObject({ object: 'list', model: 'e', usage: { prompt_tokens: 4, total_tokens: 4 } })
    expect(get(body, 'data')).toHaveLength(2)
    expect(get(body, 'data.0')).toMatchObject({ object: 'embedding', index: 0, embedding: embed('a b c', 8) })
    const b64 = (await (await post('/v1/embeddings', { input: 'a b c', dimensions: 8, encoding_format: 'base64' })).json()) as unknown
    expect(get(b64, 'data.0.embedding')).toBe(embeddingToBase64(embed('a b c', 8)))
  })

  it('models list and provider-shaped 404', async () => {
    const models = (await (await fetch(`${mock.url}/v1/models`)).json()) as unknown
    expect(get(models, 'object')).toBe('list')
    expect(get(models, 'data.0')).toMatchObject({ object: 'model', owned_by: 'system' })
    const res = await post('/v1/nope', {})
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null, code: null } })
  })

  it('invalid JSON gives a provider-shaped 400', async () => {
    const res = await post('/v1/chat/completions', '{nope')
    expect(res.status).toBe(400)
    expect(get(await res.json(), 'error.type')).toBe('invalid_request_error')
    const ant = await post('/v1/messages', '{nope')
    expect(ant.status).toBe(400)
    expect(await ant.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
  })
})

describe('anthropic routes', () => {
  const body = { model: 'claude-x', max_tokens: 3, system: [{ type: 'text', text: 'sys prompt' }], messages: [{ role: 'user', content: 'one two three' }] }

  it('message shape and usage (system counted)', async () => {
    const res = await post('/v1/messages', body)
    expect(res.headers.get('x-mock-provider')).toBe('anthropic')
    expect(await res.json()).toMatchObject({
      type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: text(3) }],
      stop_reason: 'max_tokens', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 3 }
    })
  })

  it('stream has the exact event sequence', async () => {
    const events = parseSse(await (await post('/v1/messages', { ...body, stream: true })).text())
    expect(events.map((e) => e.event)).toEqual([
      'message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta',
      'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'
    ])
    const d = events.map(json)
    expect(get(d[0], 'message.usage')).toEqual({ input_tokens: 5, output_tokens: 1 })
    expect(d.slice(3, 6).map((x) => get(x, 'delta'))).toEqual(generateWords(3).map((w, i) => ({ type: 'text_delta', text: i ? ` ${w}` : w })))
    expect(d[7]).toEqual({ type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 3 } })
  })

  it('404 is anthropic-shaped', async () => {
    const res = await post('/v1/messages/nope', {})
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
  })
})

describe('gemini routes', () => {
  const body = {
    systemInstruction: { parts: [{ text: 'be nice' }] },
    contents: [{ role: 'user', parts: [{ text: 'hello gemini friend' }] }],
    generationConfig: { maxOutputTokens: 3 }
  }
  const model = 'gemini-2.5-flash-lite'

  it('generateContent (model with dots and hyphens)', async () => {
    const res = await post(`/v1beta/models/${model}:generateContent`, body)
    expect(res.headers.get('x-mock-provider')).toBe('gemini')
    expect(await res.json()).toMatchObject({
      candidates: [{ content: { parts: [{ text: text(3) }], role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 }],
      usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
      modelVersion: model
    })
  })

  it('streamGenerateContent?alt=sse: CRLF events, one word each, final totals last', async () => {
    const res = await post(`/v1beta/models/${model}:streamGenerateContent?alt=sse`, body)
    const raw = await res.text()
    expect(raw.endsWith('\r\n\r\n')).toBe(true)
    const chunks = parseSse(raw).map(json)
    expect(chunks).toHaveLength(3)
    expect(chunks.map((c) => get(c, 'candidates.0.content.parts.0.text')).join('')).toBe(text(3))
    expect(get(chunks.at(-1), 'candidates.0.finishReason')).toBe('MAX_TOKENS')
    expect(get(chunks.at(-1), 'usageMetadata')).toEqual({ promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 })
  })

  it('streamGenerateContent without alt=sse is a JSON array', async () => {
    const arr = (await (await post(`/v1beta/models/${model}:streamGenerateContent`, body)).json()) as unknown[]
    expect(arr).toHaveLength(3)
    expect(get(arr.at(-1), 'usageMetadata.totalTokenCount')).toBe(8)
  })

  it('404 is gemini-shaped', async () => {
    const res = await post('/v1beta/models/x:nope', body)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } })
  })
})

describe('cohere routes', () => {
  const body = { model: 'command-r', max_tokens: 2, messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: [{ type: 'text', text: 'hi cohere' }] }] }
  const usage = { billed_units: { input_tokens: 3, output_tokens: 2 }, tokens: { input_tokens: 3, output_tokens: 2 } }

  it('v2 chat and v1 alias', async () => {
    for (const path of ['/v2/chat', '/v1/chat']) {
      const res = await post(path, body)
      expect(res.headers.get('x-mock-provider')).toBe('cohere')
      expect(await res.json()).toMatchObject({
        finish_reason: 'MAX_TOKENS', message: { role: 'assistant', content: [{ type: 'text', text: text(2) }] }, usage
      })
    }
  })

  it('stream events', async () => {
    const events = parseSse(await (await post('/v2/chat', { ...body, stream: true })).text())
    expect(events.map((e) => e.event)).toEqual(['message-start', 'content-start', 'content-delta', 'content-delta', 'content-end', 'message-end'])
    const d = events.map(json)
    expect(d[2]).toEqual({ type: 'content-delta', index: 0, delta: { message: { content: { text: generateWords(2)[0] } } } })
    expect(d[5]).toEqual({ type: 'message-end', delta: { finish_reason: 'MAX_TOKENS', usage } })
  })
})

describe('base and control routes', () => {
  it('POST / answers generated_text with usage', async () => {
    const res = await post('/', { inputs: 'a b c d', parameters: { max_new_tokens: 2 } })
    expect(res.headers.get('x-mock-provider')).toBe('base')
    expect(await res.json()).toEqual({ generated_text: text(2), usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } })
  })

  it('health and stats', async () => {
    const health = await fetch(`${mock.url}/__health`)
    expect(health.headers.get('x-mock-region')).toBe('eu-west-1')
    expect(await health.json()).toMatchObject({ ok: true, region: 'eu-west-1' })
    const before = mock.stats().requests
    await post('/', {})
    const stats = (await (await fetch(`${mock.url}/__stats`)).json()) as Record<string, number>
    expect(stats.requests).toBe(before + 1)
  })

  it('echo reports method, raw url, headers and body digest', async () => {
    const payload = '{"hello":"world"}'
    const res = await fetch(`${mock.url}/__echo/some/path?x=1&y=%20`, {
      method: 'PUT', headers: { 'X-Custom': 'Value', 'content-type': 'application/json' }, body: payload
    })
    expect(res.status).toBe(200)
    const echo: unknown = await res.json()
    expect(echo).toMatchObject({
      method: 'PUT', url: '/__echo/some/path?x=1&y=%20', bodyBytes: payload.length,
      bodySha256: createHash('sha256').update(payload).digest('hex')
    })
    expect(get(echo, 'headers.x-custom')).toBe('Value')
    const head = await fetch(`${mock.url}/__echo/h`, { method: 'HEAD' })
    expect(head.status).toBe(200)
  })

  it('raw echo streams the body back with its content-type', async () => {
    const payload = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256))
    const res = await fetch(`${mock.url}/__echo/raw/x`, { method: 'POST', headers: { 'content-type': 'application/x-bin' }, body: payload })
    expect(res.headers.get('content-type')).toBe('application/x-bin')
    expect(Buffer.from(await res.arrayBuffer()).equals(payload)).toBe(true)
  })

  it('unknown paths get an openai-shaped 404 with mock headers', async () => {
    const res = await fetch(`${mock.url}/does/not/exist`)
    expect(res.status).toBe(404)
    expect(res.headers.get('x-mock-region')).toBe('eu-west-1')
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null, code: null } })
  })

  it('bodies over 64 MiB are refused with 413', async () => {
    const res = await post('/v1/chat/completions', Buffer.alloc(64 * 1024 * 1024 + 1, 0x20).toString())
    expect(res.status).toBe(413)
  })
})

describe('tool calls of the OpenAI-shaped mocks (OpenAI, Cohere v2)', () => {
  const tools = [
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }
  ]
  const user = { role: 'user', content: 'Weather in Paris?' }
  const toolResult = [user, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'sunny' }]
  const openai = async (extra: Record<string, unknown>): Promise<unknown> => {
    const r = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [user], tools, ...extra })
    const m = get(await r.json(), 'choices.0.message')
    return get(m, 'tool_calls.0.function.name') ?? null
  }
  const cohere = async (extra: Record<string, unknown>): Promise<unknown> => {
    const r = await post('/v2/chat', { model: 'command-r', messages: [user], tools, ...extra })
    return get(await r.json(), 'message.tool_calls.0.function.name') ?? null
  }

  it('call the first offered tool, or the one OpenAI forces by name', async () => {
    expect(await openai({})).toBe('get_weather')
    expect(await openai({ tool_choice: { type: 'function', function: { name: 'get_time' } } })).toBe('get_time')
    expect(await cohere({})).toBe('get_weather')
  })

  it('call nothing when told none, or when the conversation ends with a tool result', async () => {
    expect(await openai({ tool_choice: 'none' })).toBeNull()
    expect(await openai({ messages: toolResult })).toBeNull()
    expect(await cohere({ tool_choice: 'NONE' })).toBeNull()
    expect(await cohere({ messages: toolResult })).toBeNull()
  })
})

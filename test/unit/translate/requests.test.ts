// Tables of what each provider translation refuses (OpenAI's 400 naming the parameter) and of
// request details the golden fixtures do not show.
import { describe, expect, it } from 'vitest'
import { ANTHROPIC, COHERE, GEMINI, passthroughRequest } from '../../../src/translate/registry.js'
import { ANTHROPIC_DEFAULT_MAX_TOKENS } from '../../../src/translate/anthropic-request.js'
import { TranslationRefusal } from '../../../src/translate/common.js'
import { isChatCompletions, translateChatBody } from '../../../src/translate/plane.js'
import type { ChatTranslator } from '../../../src/translate/types.js'

const T: Record<string, ChatTranslator> = { anthropic: ANTHROPIC, gemini: GEMINI, cohere: COHERE }
const base = { model: 'blaxel-name', messages: [{ role: 'user', content: 'hi' }] }

function refusal (provider: string, body: Record<string, unknown>): TranslationRefusal {
  try {
    (T[provider] as ChatTranslator).request(body, 'm')
  } catch (err) {
    if (err instanceof TranslationRefusal) return err
    throw err
  }
  throw new Error('not refused')
}

describe('refusals name the parameter', () => {
  it.each([
    ['anthropic', { n: 2 }, 'n', 'unsupported_parameter'],
    ['anthropic', { logprobs: true }, 'logprobs', 'unsupported_parameter'],
    ['anthropic', { top_logprobs: 3 }, 'top_logprobs', 'unsupported_parameter'],
    ['anthropic', { presence_penalty: 0.5 }, 'presence_penalty', 'unsupported_parameter'],
    ['anthropic', { seed: 1 }, 'seed', 'unsupported_parameter'],
    ['anthropic', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, 'response_format', 'unsupported_parameter'],
    ['anthropic', { audio: { voice: 'x' } }, 'audio', 'unsupported_parameter'],
    ['anthropic', { max_tokens: 0 }, 'max_tokens', 'invalid_value'],
    ['anthropic', { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, 'messages[0].content[0].type', 'unsupported_parameter'],
    ['anthropic', { messages: [{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{bad' } }] }] }, 'messages[0].tool_calls[0].function.arguments', 'invalid_value'],
    ['anthropic', { messages: [] }, 'messages', 'invalid_value'],
    ['anthropic', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
    ['anthropic', { messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'invalid_value'],
    ['anthropic', { messages: [{ role: 'user', content: 'a' }, { role: 'user', content: ['x'] }] }, 'messages[1].content[0]', 'invalid_value'],
    ['anthropic', { messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }, { role: 'user', content: 'hi' }] }, 'messages[0].content[0]', 'invalid_value'],
    ['anthropic', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', 'invalid_value'],
    ['anthropic', { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', tool_calls: 'x' }] }, 'messages[1].tool_calls', 'invalid_value'],
    ['gemini', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
    ['gemini', { messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'invalid_value'],
    ['cohere', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
    ['cohere', { messages: [{ role: 'system', content: 5 }] }, 'messages[0].content', 'invalid_value'],
    ['gemini', { logprobs: true }, 'logprobs', 'unsupported_parameter'],
    ['gemini', { logit_bias: { 1: 2 } }, 'logit_bias', 'unsupported_parameter'],
    ['gemini', { n: 9 }, 'n', 'invalid_value'],
    ['gemini', { messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }, 'messages[0].tool_call_id', 'invalid_value'],
    ['cohere', { n: 2 }, 'n', 'unsupported_parameter'],
    ['cohere', { logprobs: true }, 'logprobs', 'unsupported_parameter'],
    ['cohere', { tool_choice: { type: 'function', function: { name: 'f' } } }, 'tool_choice', 'unsupported_parameter'],
    ['cohere', { stop: 3 }, 'stop', 'invalid_value']
  ])('%s refuses %j → param %s', (provider, extra, param, code) => {
    const r = refusal(provider, { ...base, ...extra })
    expect(r.param).toBe(param)
    expect(r.code).toBe(code)
    expect(r.message).toContain(param)
  })

  it('n: 1, logprobs: false and the OpenAI-only switches are accepted and left out', () => {
    const up = ANTHROPIC.request({ ...base, n: 1, logprobs: false, store: true, service_tier: 'auto', stream_options: { include_usage: true } }, 'claude')
    expect(JSON.parse(up.body.toString())).toEqual({ model: 'claude', max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] })
    expect(up.includeUsage).toBe(false)
  })
})

describe('request details', () => {
  it('anthropic: consecutive tool results join one user turn; parallel_tool_calls false disables parallel use', () => {
    const up = ANTHROPIC.request({
      ...base,
      parallel_tool_calls: false,
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: 'calling', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'b', type: 'function', function: { name: 'g', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'a', content: 'A' },
        { role: 'tool', tool_call_id: 'b', content: [{ type: 'text', text: 'B' }] }
      ]
    }, 'claude')
    const body = JSON.parse(up.body.toString()) as Record<string, unknown>
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'calling' }, { type: 'tool_use', id: 'a', name: 'f', input: {} }, { type: 'tool_use', id: 'b', name: 'g', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'a', content: 'A' }, { type: 'tool_result', tool_use_id: 'b', content: 'B' }] }
    ])
    expect(body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true })
    expect(body.stream).toBe(true)
    expect(up).toMatchObject({ rest: '/v1/messages', stream: true, includeUsage: true })
  })

  it('gemini: n becomes candidateCount; penalties and seed are kept; the model id is escaped in the path', () => {
    const up = GEMINI.request({ ...base, n: 2, presence_penalty: 0.1, frequency_penalty: 0.2, seed: 3 }, 'tuned/model one')
    expect(up.rest).toBe('/v1beta/models/tuned%2Fmodel%20one:generateContent')
    expect((JSON.parse(up.body.toString()) as { generationConfig: unknown }).generationConfig).toEqual({ candidateCount: 2, presencePenalty: 0.1, frequencyPenalty: 0.2, seed: 3 })
  })

  it('openai-type mk3: the body is kept, model replaced', () => {
    const up = passthroughRequest({ ...base, logprobs: true, n: 2 }, 'gpt-4o-mini', '/v1/chat/completions')
    expect(JSON.parse(up.body.toString())).toEqual({ model: 'gpt-4o-mini', messages: base.messages, logprobs: true, n: 2 })
    expect(up.rest).toBe('/v1/chat/completions')
  })

  it('bad JSON and non-objects are refused before any translation', () => {
    const plan = { translator: ANTHROPIC, runtimeModel: 'c' }
    expect(() => translateChatBody(Buffer.from('{nope'), plan, '/v1/chat/completions')).toThrow(TranslationRefusal)
    expect(() => translateChatBody(Buffer.from('[1]'), plan, '/v1/chat/completions')).toThrow('JSON object')
  })

  it.each([
    ['POST', '/v1/chat/completions', true],
    ['POST', '/chat/completions', true],
    ['POST', '/v1/chat/completions/', true],
    ['POST', '/v1/chat/completions?x=1', true],
    ['GET', '/v1/chat/completions', false],
    ['POST', '/v1/messages', false],
    ['POST', '/v1/embeddings', false]
  ])('%s %s is translated: %s', (method, rest, yes) => {
    expect(isChatCompletions(method, rest)).toBe(yes)
  })
})

import { describe, expect, it } from 'vitest'
import { MAX_HINT, outputHintOf } from '../../../src/usage/output-hint.js'

const cases: Array<[string, string, number]> = [
  ['OpenAI chat max_tokens', '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":256}', 256],
  ['OpenAI chat max_completion_tokens', '{"messages":[],"max_completion_tokens":1000}', 1000],
  ['OpenAI Responses max_output_tokens', '{"input":"a b c d","max_output_tokens":6}', 6],
  ['Anthropic max_tokens first', '{"max_tokens":7,"system":"be brief","messages":[]}', 7],
  ['Gemini generationConfig.maxOutputTokens', '{"contents":[{"parts":[{"text":"a b"}]}],"generationConfig":{"maxOutputTokens":3}}', 3],
  ['Cohere v2 max_tokens', '{"messages":[{"role":"user","content":"a b c"}],"max_tokens":4,"stream":true}', 4],
  ['spaces and new lines around the colon', '{\n  "max_tokens" :\n  42\n}', 42],
  ['leading white space before the object', '  \n{"max_tokens":5}', 5],
  ['no bound named', '{"messages":[{"role":"user","content":"hi"}]}', -1],
  ['the key as quoted text inside a message is not a key', '{"messages":[{"role":"user","content":"set \\"max_tokens\\": 99999 please"}],"max_tokens":8}', 8],
  ['the key as a string value', '{"note":"max_tokens","x":1}', -1],
  ['a schema object under the key is not a number', '{"tools":[{"parameters":{"properties":{"max_tokens":{"type":"integer"}}}}]}', -1],
  ['the largest of several wins', '{"max_tokens":100,"max_completion_tokens":300}', 300],
  ['a longer key that only begins alike', '{"max_tokens_per_call":500,"max_tokensX":9}', -1],
  ['maxOutputTokens spelled in another case is another key', '{"maxoutputtokens":9}', -1],
  ['negative and null are ignored', '{"max_tokens":-5,"max_output_tokens":null}', -1],
  ['a fraction is rounded up', '{"max_tokens":10.2}', 11],
  ['an exponent', '{"max_tokens":1e3}', 1000],
  ['a huge number is capped', '{"max_tokens":1e300}', MAX_HINT],
  ['not a JSON object', '[{"max_tokens":5}]', -1],
  ['not JSON at all', 'max_tokens=5', -1],
  ['empty body', '', -1],
  ['truncated after the colon', '{"max_tokens":', -1],
  ['unicode escapes in the key are not read', '{"max\\u005ftokens":5}', -1]
]

describe('outputHintOf', () => {
  it.each(cases)('%s', (_name, body, expected) => {
    expect(outputHintOf(Buffer.from(body))).toBe(expected)
  })

  it('reads a bound past a large prompt', () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'x '.repeat(100_000) }], max_tokens: 77 })
    expect(outputHintOf(Buffer.from(body))).toBe(77)
  })
})

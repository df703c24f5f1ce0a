// Google's @google/genai and Cohere's cohere-ai SDKs against the native mocks: the answers
// parse, a max-tokens cut is reported as the provider reports it, usage counts what was
// produced, and tools come back as the SDKs expect.
import { GoogleGenAI, FinishReason } from '@google/genai'
import { CohereClientV2 } from 'cohere-ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockServer, startMockServer } from '../../../src/mock/server.js'
import { generateWords } from '../../../src/mock/text.js'

let mock: MockServer
let gemini: GoogleGenAI
let cohere: CohereClientV2
beforeAll(async () => {
  mock = await startMockServer({ region: 'eu-fra-1' })
  gemini = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: mock.url } })
  cohere = new CohereClientV2({ token: 'x', environment: mock.url })
})
afterAll(async () => { await mock.close() })

const text = (n: number): string => generateWords(n).join(' ')
const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }

describe('@google/genai against the Gemini mock', () => {
  it('a plain answer is 16 words and STOP; a maxOutputTokens cut is MAX_TOKENS with the cut usage', async () => {
    const full = await gemini.models.generateContent({ model: 'gemini-2.0-flash', contents: 'hello there' })
    expect(full.text).toBe(text(16))
    expect(full.candidates?.[0]?.finishReason).toBe(FinishReason.STOP)
    expect(full.usageMetadata).toMatchObject({ promptTokenCount: 2, candidatesTokenCount: 16, totalTokenCount: 18 })
    const cut = await gemini.models.generateContent({ model: 'gemini-2.0-flash', contents: 'hello there', config: { maxOutputTokens: 4 } })
    expect(cut.text).toBe(text(4))
    expect(cut.candidates?.[0]?.finishReason).toBe(FinishReason.MAX_TOKENS)
    expect(cut.usageMetadata?.candidatesTokenCount).toBe(4)
  })

  it('streams chunk by chunk and ends with the cut reported', async () => {
    const stream = await gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi', config: { maxOutputTokens: 3, systemInstruction: 'be brief' } })
    let out = ''
    let finish: FinishReason | undefined
    let total: number | undefined
    for await (const chunk of stream) {
      out += chunk.text ?? ''
      finish = chunk.candidates?.[0]?.finishReason ?? finish
      total = chunk.usageMetadata?.totalTokenCount ?? total
    }
    expect(out).toBe(text(3))
    expect(finish).toBe(FinishReason.MAX_TOKENS)
    expect(total).toBe(6)
  })

  it('calls a declared function; answering it gets text', async () => {
    const tools = [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weatherSchema }] }]
    const r = await gemini.models.generateContent({ model: 'gemini-2.0-flash', contents: 'weather in Paris?', config: { tools } })
    expect(r.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'agnet' } }])
    const answered = await gemini.models.generateContent({
      model: 'gemini-2.0-flash',
      config: { tools },
      contents: [
        { role: 'user', parts: [{ text: 'weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'clear' } } }] }
      ]
    })
    expect(answered.text).toBe(text(16))
    expect(answered.functionCalls).toBeUndefined()
  })
})

describe('cohere-ai (v2) against the Cohere mock', () => {
  it('a plain answer is COMPLETE; a maxTokens cut is MAX_TOKENS with the cut usage', async () => {
    const full = await cohere.chat({ model: 'command-r', messages: [{ role: 'user', content: 'hello there' }] })
    expect(full.finishReason).toBe('COMPLETE')
    expect(full.message.content?.[0]).toMatchObject({ type: 'text', text: text(16) })
    expect(full.usage?.tokens).toMatchObject({ inputTokens: 2, outputTokens: 16 })
    const cut = await cohere.chat({ model: 'command-r', maxTokens: 5, messages: [{ role: 'user', content: 'hello there' }] })
    expect(cut.finishReason).toBe('MAX_TOKENS')
    expect(cut.usage?.billedUnits).toMatchObject({ outputTokens: 5 })
  })

  it('streams events the SDK parses, ending with the finish reason and usage', async () => {
    const stream = await cohere.chatStream({ model: 'command-r', maxTokens: 3, messages: [{ role: 'user', content: 'hi' }] })
    let out = ''
    let finish: string | undefined
    for await (const ev of stream) {
      if (ev.type === 'content-delta') out += ev.delta?.message?.content?.text ?? ''
      if (ev.type === 'message-end') finish = ev.delta?.finishReason
    }
    expect(out).toBe(text(3))
    expect(finish).toBe('MAX_TOKENS')
  })

  it('calls a tool; the streamed arguments assemble to the full call', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: weatherSchema } }]
    const r = await cohere.chat({ model: 'command-r', tools, messages: [{ role: 'user', content: 'weather?' }] })
    expect(r.finishReason).toBe('TOOL_CALL')
    expect(r.message.toolCalls?.[0]?.function).toEqual({ name: 'get_weather', arguments: '{"city":"agnet"}' })
    const stream = await cohere.chatStream({ model: 'command-r', tools, messages: [{ role: 'user', content: 'weather?' }] })
    let args = ''
    let deltas = 0
    for await (const ev of stream) {
      if (ev.type === 'tool-call-delta') { deltas++; args += ev.delta?.message?.toolCalls?.function?.arguments ?? '' }
    }
    expect(deltas).toBeGreaterThan(1)
    expect(JSON.parse(args)).toEqual({ city: 'agnet' })
  })
})

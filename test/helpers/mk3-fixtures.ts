// Loads the provider fixtures (test/fixtures/mk3/*.json): documented native requests and
// answers with the OpenAI form agnet must turn them into.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface RequestCase { name: string; source: string; openai: Record<string, unknown>; native: Record<string, unknown>; path?: string }
export interface ResponseCase { name: string; source: string; native: unknown; openai: Record<string, unknown> }
export interface ErrorCase { name: string; source: string; status: number; native: unknown; openai: unknown }
export interface StreamToolCall { index: number; id: string; name: string; arguments: string; deltas: number }
export interface StreamCase {
  name: string
  source: string
  native: string
  text: string
  toolCalls: StreamToolCall[]
  finish?: string
  usage?: Record<string, number>
  error?: { message: string; code: string }
}
export interface ProviderFixtures { requests: RequestCase[]; responses: ResponseCase[]; errors: ErrorCase[]; streams: StreamCase[] }

export const PROVIDERS = ['anthropic', 'gemini', 'cohere'] as const
export type FixtureProvider = typeof PROVIDERS[number]

/** The provider model the request fixtures were written for. */
export const RUNTIME_MODEL: Record<FixtureProvider, string> = { anthropic: 'claude-opus-4-20250514', gemini: 'gemini-2.0-flash', cohere: 'command-a-03-2025' }

export function fixtures (provider: FixtureProvider): ProviderFixtures {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'mk3', `${provider}.json`), 'utf8')) as ProviderFixtures
}

interface Chunk { choices: Array<{ index: number; delta: { content?: string; tool_calls?: Array<{ index: number; id?: string; function: { name?: string; arguments: string } }> }; finish_reason: string | null }>; usage?: Record<string, number> | null; error?: unknown }

export interface ReadStream {
  text: string
  toolCalls: StreamToolCall[]
  finish: string | null
  usage: Record<string, number> | null
  done: boolean
  error: unknown
}

/** Reads OpenAI SSE text into what a client assembles from it. */
export function readOpenAIStream (sse: string): ReadStream {
  const out: ReadStream = { text: '', toolCalls: [], finish: null, usage: null, done: false, error: null }
  for (const block of sse.split('\n\n')) {
    if (block === '') continue
    expectPrefix(block)
    const data = block.slice('data: '.length)
    if (data === '[DONE]') { out.done = true; continue }
    const chunk = JSON.parse(data) as Chunk
    if (chunk.error !== undefined) { out.error = chunk.error; continue }
    if (chunk.usage) out.usage = chunk.usage
    for (const c of chunk.choices) {
      if (c.delta.content) out.text += c.delta.content
      for (const t of c.delta.tool_calls ?? []) {
        let call = out.toolCalls.find(x => x.index === t.index)
        if (call === undefined) {
          call = { index: t.index, id: t.id ?? '', name: t.function.name ?? '', arguments: '', deltas: 0 }
          out.toolCalls.push(call)
        } else call.deltas++
        call.arguments += t.function.arguments
      }
      if (c.finish_reason) out.finish = c.finish_reason
    }
  }
  return out
}

function expectPrefix (block: string): void {
  if (!block.startsWith('data: ')) throw new Error(`not an OpenAI SSE event: ${block}`)
}

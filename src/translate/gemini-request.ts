// OpenAI chat request → Gemini generateContent / streamGenerateContent?alt=sse.
import {
  CHAT_FIELDS, badRole, contentParts, includeUsage, invalid, isRecord, maxTokensOf, messagesOf, num,
  parseArguments, refuseUnknown, refuseUnsupported, stopList, textOf, type PartBuilder
} from './common.js'
import type { UpstreamRequest } from './types.js'

const UNSUPPORTED = ['logprobs', 'top_logprobs', 'logit_bias']

type Part = Record<string, unknown>

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif' }

const PARTS: PartBuilder<Part> = {
  provider: 'gemini',
  text: text => ({ text }),
  image: (url, data) => {
    if (data !== null) return { inlineData: { mimeType: data.mediaType, data: data.data } }
    const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase() ?? ''
    return { fileData: { mimeType: MIME_BY_EXTENSION[ext] ?? 'image/jpeg', fileUri: url } }
  }
}

function parts (content: unknown, message: number): Part[] {
  return contentParts(content, message, PARTS)
}

function pushTurn (turns: Array<{ role: string; parts: Part[] }>, role: string, p: Part[]): void {
  const last = turns[turns.length - 1]
  if (last !== undefined && last.role === role) last.parts.push(...p)
  else turns.push({ role, parts: p })
}

/** A tool result becomes a functionResponse; Gemini wants an object, so text is wrapped. */
function toolResponse (content: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(content)
    if (isRecord(v)) return v
  } catch {}
  return { result: content }
}

function toolConfig (choice: unknown): Record<string, unknown> | null {
  if (choice === undefined || choice === null) return null
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } }
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } }
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } }
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } }
  }
  throw invalid('tool_choice', "'tool_choice' must be 'none', 'auto', 'required' or a named function.")
}

function tools (list: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(list)) throw invalid('tools', "'tools' must be an array.")
  const declarations = list.map((t: unknown, i) => {
    if (!isRecord(t) || t.type !== 'function' || !isRecord(t.function) || typeof t.function.name !== 'string') throw invalid(`tools[${i}]`, `'tools[${i}]' must be a function tool with a name.`)
    const f = t.function
    const d: Record<string, unknown> = { name: f.name }
    if (typeof f.description === 'string') d.description = f.description
    if (isRecord(f.parameters)) d.parametersJsonSchema = f.parameters
    return d
  })
  return [{ functionDeclarations: declarations }]
}

export function geminiRequest (body: Record<string, unknown>, runtimeModel: string): UpstreamRequest {
  refuseUnknown(body, CHAT_FIELDS, 'gemini')
  refuseUnsupported(body, 'gemini', UNSUPPORTED)
  const system: Part[] = []
  const turns: Array<{ role: string; parts: Part[] }> = []
  // Gemini's functionResponse names the function; OpenAI's tool message only has the call id.
  const callNames = new Map<string, string>()
  const messages = messagesOf(body)
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    if (m === undefined) break
    const at = `messages[${i}]`
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push({ text: textOf(m.content, i) })
        break
      case 'user':
        pushTurn(turns, 'user', parts(m.content, i))
        break
      case 'assistant': {
        const p = parts(m.content, i)
        if (Array.isArray(m.tool_calls)) {
          m.tool_calls.forEach((c: unknown, j) => {
            const cat = `${at}.tool_calls[${j}]`
            if (!isRecord(c) || typeof c.id !== 'string' || !isRecord(c.function) || typeof c.function.name !== 'string') throw invalid(cat, `'${cat}' must have an id and a function name.`)
            callNames.set(c.id, c.function.name)
            p.push({ functionCall: { name: c.function.name, args: parseArguments(c.function.arguments, `${cat}.function.arguments`) } })
          })
        }
        pushTurn(turns, 'model', p)
        break
      }
      case 'tool': {
        const id = m.tool_call_id
        const name = typeof id === 'string' ? callNames.get(id) : undefined
        if (name === undefined) throw invalid(`${at}.tool_call_id`, `'${at}.tool_call_id' must name a tool call of an earlier assistant message.`)
        pushTurn(turns, 'user', [{ functionResponse: { name, response: toolResponse(textOf(m.content, i)) } }])
        break
      }
      default:
        throw badRole(i)
    }
  }
  const out: Record<string, unknown> = { contents: turns }
  if (system.length > 0) out.systemInstruction = { parts: system }
  const gen: Record<string, unknown> = {}
  const max = maxTokensOf(body)
  if (max !== null) gen.maxOutputTokens = max
  const temperature = num(body.temperature)
  if (temperature !== null) gen.temperature = temperature
  const topP = num(body.top_p)
  if (topP !== null) gen.topP = topP
  const stop = stopList(body.stop)
  if (stop !== null) gen.stopSequences = stop
  const n = num(body.n)
  if (n !== null && n !== 1) {
    if (!Number.isInteger(n) || n < 1 || n > 8) throw invalid('n', "'n' must be an integer from 1 to 8.")
    gen.candidateCount = n
  }
  const presence = num(body.presence_penalty)
  if (presence !== null) gen.presencePenalty = presence
  const frequency = num(body.frequency_penalty)
  if (frequency !== null) gen.frequencyPenalty = frequency
  const seed = num(body.seed)
  if (seed !== null) gen.seed = seed
  const rf = body.response_format
  if (rf !== undefined && rf !== null) {
    if (!isRecord(rf)) throw invalid('response_format', "'response_format' must be an object.")
    if (rf.type === 'json_object') gen.responseMimeType = 'application/json'
    else if (rf.type === 'json_schema' && isRecord(rf.json_schema) && isRecord(rf.json_schema.schema)) {
      gen.responseMimeType = 'application/json'
      gen.responseJsonSchema = rf.json_schema.schema
    } else if (rf.type !== 'text') throw invalid('response_format', "'response_format' must be text, json_object or json_schema with a schema.")
  }
  if (Object.keys(gen).length > 0) out.generationConfig = gen
  if (body.tools !== undefined && body.tools !== null) out.tools = tools(body.tools)
  const tc = toolConfig(body.tool_choice)
  if (tc !== null) out.toolConfig = tc
  const stream = body.stream === true
  const model = encodeURIComponent(runtimeModel)
  return {
    rest: stream ? `/v1beta/models/${model}:streamGenerateContent?alt=sse` : `/v1beta/models/${model}:generateContent`,
    body: Buffer.from(JSON.stringify(out)),
    stream,
    includeUsage: stream && includeUsage(body)
  }
}

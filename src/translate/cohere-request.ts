// OpenAI chat request → Cohere v2 chat (POST /v2/chat). Cohere v2 is close to OpenAI's shape:
// roles, tool calls and tool results map one to one; the parameters are renamed.
import {
  CHAT_FIELDS, badRole, includeUsage, invalid, isRecord, maxTokensOf, messagesOf, num, refuseUnknown, refuseUnsupported, stopList,
  textOf, unsupported
} from './common.js'
import type { UpstreamRequest } from './types.js'

const UNSUPPORTED = ['n', 'logprobs', 'top_logprobs', 'logit_bias']

function content (c: unknown, param: string): unknown {
  if (typeof c === 'string' || c === null || c === undefined) return c ?? ''
  if (!Array.isArray(c)) throw invalid(param, `'${param}' must be a string or an array of content parts.`)
  return c.map((p: unknown, i) => {
    const at = `${param}[${i}]`
    if (isRecord(p) && p.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text }
    if (isRecord(p) && p.type === 'image_url' && isRecord(p.image_url) && typeof p.image_url.url === 'string') return { type: 'image_url', image_url: { url: p.image_url.url } }
    throw unsupported(`${at}.type`, 'cohere')
  })
}

function toolCalls (calls: unknown, param: string): unknown[] {
  if (!Array.isArray(calls)) throw invalid(param, `'${param}' must be an array.`)
  return calls.map((c: unknown, j) => {
    const at = `${param}[${j}]`
    if (!isRecord(c) || typeof c.id !== 'string' || !isRecord(c.function) || typeof c.function.name !== 'string' || typeof c.function.arguments !== 'string') throw invalid(at, `'${at}' must have an id, a function name and arguments.`)
    return { id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }
  })
}

export function cohereRequest (body: Record<string, unknown>, runtimeModel: string): UpstreamRequest {
  refuseUnknown(body, CHAT_FIELDS, 'cohere')
  refuseUnsupported(body, 'cohere', UNSUPPORTED)
  const messages = messagesOf(body).map((m, i) => {
    const at = `messages[${i}]`
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(m.content, i) }
      case 'user':
        return { role: 'user', content: content(m.content, `${at}.content`) }
      case 'assistant': {
        const out: Record<string, unknown> = { role: 'assistant' }
        const text = m.content === null || m.content === undefined ? '' : textOf(m.content, i)
        if (text !== '') out.content = text
        if (m.tool_calls !== undefined && m.tool_calls !== null) out.tool_calls = toolCalls(m.tool_calls, `${at}.tool_calls`)
        return out
      }
      case 'tool':
        if (typeof m.tool_call_id !== 'string') throw invalid(`${at}.tool_call_id`, `'${at}.tool_call_id' is required.`)
        return { role: 'tool', tool_call_id: m.tool_call_id, content: textOf(m.content, i) }
      default:
        throw badRole(i)
    }
  })
  const out: Record<string, unknown> = { model: runtimeModel, messages }
  const max = maxTokensOf(body)
  if (max !== null) out.max_tokens = max
  const temperature = num(body.temperature)
  if (temperature !== null) out.temperature = temperature
  const topP = num(body.top_p)
  if (topP !== null) out.p = topP
  const stop = stopList(body.stop)
  if (stop !== null) out.stop_sequences = stop
  for (const name of ['presence_penalty', 'frequency_penalty', 'seed']) {
    const v = num(body[name])
    if (v !== null) out[name] = v
  }
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw invalid('tools', "'tools' must be an array.")
    out.tools = body.tools.map((t: unknown, i) => {
      if (!isRecord(t) || t.type !== 'function' || !isRecord(t.function) || typeof t.function.name !== 'string') throw invalid(`tools[${i}]`, `'tools[${i}]' must be a function tool with a name.`)
      const f: Record<string, unknown> = { name: t.function.name }
      if (typeof t.function.description === 'string') f.description = t.function.description
      if (isRecord(t.function.parameters)) f.parameters = t.function.parameters
      return { type: 'function', function: f }
    })
  }
  const choice = body.tool_choice
  if (choice === 'required') out.tool_choice = 'REQUIRED'
  else if (choice === 'none') out.tool_choice = 'NONE'
  else if (choice !== undefined && choice !== null && choice !== 'auto') throw unsupported('tool_choice', 'cohere')
  const rf = body.response_format
  if (rf !== undefined && rf !== null) {
    if (!isRecord(rf)) throw invalid('response_format', "'response_format' must be an object.")
    if (rf.type === 'json_object') out.response_format = { type: 'json_object' }
    else if (rf.type === 'json_schema' && isRecord(rf.json_schema) && isRecord(rf.json_schema.schema)) out.response_format = { type: 'json_object', json_schema: rf.json_schema.schema }
    else if (rf.type !== 'text') throw invalid('response_format', "'response_format' must be text, json_object or json_schema with a schema.")
  }
  const stream = body.stream === true
  if (stream) out.stream = true
  return { rest: '/v2/chat', body: Buffer.from(JSON.stringify(out)), stream, includeUsage: stream && includeUsage(body) }
}

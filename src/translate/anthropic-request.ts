// OpenAI chat request → Anthropic Messages request (POST /v1/messages).
import {
  CHAT_FIELDS, badRole, contentParts, includeUsage, invalid, isRecord, maxTokensOf, messageParam, messagesOf, num,
  parseArguments, refuseUnknown, refuseUnsupported, stopList, textOf, unsupported, type PartBuilder
} from './common.js'
import type { UpstreamRequest } from './types.js'

/** Anthropic requires max_tokens; this is sent when the client gives none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096

const UNSUPPORTED = ['n', 'logprobs', 'top_logprobs', 'presence_penalty', 'frequency_penalty', 'seed', 'logit_bias']

type Block = Record<string, unknown>
type Turn = { role: string; content: Block[] }

const BLOCKS: PartBuilder<Block> = {
  provider: 'anthropic',
  text: text => ({ type: 'text', text }),
  image: (url, data) => data !== null
    ? { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } }
    : { type: 'image', source: { type: 'url', url } }
}

function toolCallBlocks (calls: unknown, message: number, out: Block[]): void {
  if (calls === undefined || calls === null) return
  if (!Array.isArray(calls)) {
    const param = messageParam(message, 'tool_calls')
    throw invalid(param, `'${param}' must be an array.`)
  }
  for (let j = 0; j < calls.length; j++) {
    const c: unknown = calls[j]
    const at = `${messageParam(message, 'tool_calls')}[${j}]`
    if (!isRecord(c) || typeof c.id !== 'string' || !isRecord(c.function) || typeof c.function.name !== 'string') throw invalid(at, `'${at}' must have an id and a function name.`)
    out.push({ type: 'tool_use', id: c.id, name: c.function.name, input: parseArguments(c.function.arguments, `${at}.function.arguments`) })
  }
}

/**
 * Anthropic takes alternating turns: consecutive messages of one role become one turn. The
 * blocks of a message are appended to the open turn of its role, or to a new one.
 */
function turnFor (turns: Turn[], role: string): Block[] {
  const last = turns[turns.length - 1]
  if (last !== undefined && last.role === role) return last.content
  const content: Block[] = []
  turns.push({ role, content })
  return content
}

function toolChoice (choice: unknown, parallel: unknown): Block | null {
  let out: Block | null = null
  if (choice === undefined || choice === null || choice === 'auto') out = null
  else if (choice === 'none') out = { type: 'none' }
  else if (choice === 'required') out = { type: 'any' }
  else if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') out = { type: 'tool', name: choice.function.name }
  else throw invalid('tool_choice', "'tool_choice' must be 'none', 'auto', 'required' or a named function.")
  if (parallel === false) (out ??= { type: 'auto' }).disable_parallel_tool_use = true
  return out
}

function tools (list: unknown): Block[] {
  if (!Array.isArray(list)) throw invalid('tools', "'tools' must be an array.")
  return list.map((t: unknown, i): Block => {
    if (!isRecord(t) || t.type !== 'function' || !isRecord(t.function) || typeof t.function.name !== 'string') throw invalid(`tools[${i}]`, `'tools[${i}]' must be a function tool with a name.`)
    const f = t.function
    const tool: Block = { name: f.name, input_schema: isRecord(f.parameters) ? f.parameters : { type: 'object', properties: {} } }
    if (typeof f.description === 'string') tool.description = f.description
    return tool
  })
}

export function anthropicRequest (body: Record<string, unknown>, runtimeModel: string): UpstreamRequest {
  refuseUnknown(body, CHAT_FIELDS, 'anthropic')
  refuseUnsupported(body, 'anthropic', UNSUPPORTED)
  const rf = body.response_format
  if (rf !== undefined && rf !== null && !(isRecord(rf) && rf.type === 'text')) throw unsupported('response_format', 'anthropic')
  const system: Block[] = []
  const turns: Turn[] = []
  const messages = messagesOf(body)
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    if (m === undefined) break
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push({ type: 'text', text: textOf(m.content, i) })
        break
      case 'user':
        contentParts(m.content, i, BLOCKS, turnFor(turns, 'user'))
        break
      case 'assistant': {
        const blocks = contentParts(m.content, i, BLOCKS, turnFor(turns, 'assistant'))
        toolCallBlocks(m.tool_calls, i, blocks)
        break
      }
      case 'tool':
        if (typeof m.tool_call_id !== 'string') {
          const param = messageParam(i, 'tool_call_id')
          throw invalid(param, `'${param}' is required.`)
        }
        turnFor(turns, 'user').push({ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content, i) })
        break
      default:
        throw badRole(i)
    }
  }
  const out: Record<string, unknown> = { model: runtimeModel, max_tokens: maxTokensOf(body) ?? ANTHROPIC_DEFAULT_MAX_TOKENS }
  if (system.length > 0) out.system = system
  out.messages = turns
  const temperature = num(body.temperature)
  if (temperature !== null) out.temperature = temperature
  const topP = num(body.top_p)
  if (topP !== null) out.top_p = topP
  const stop = stopList(body.stop)
  if (stop !== null) out.stop_sequences = stop
  if (body.tools !== undefined && body.tools !== null) out.tools = tools(body.tools)
  const choice = toolChoice(body.tool_choice, body.parallel_tool_calls)
  if (choice !== null) out.tool_choice = choice
  if (typeof body.user === 'string') out.metadata = { user_id: body.user }
  const stream = body.stream === true
  if (stream) out.stream = true
  return { rest: '/v1/messages', body: Buffer.from(JSON.stringify(out)), stream, includeUsage: stream && includeUsage(body) }
}

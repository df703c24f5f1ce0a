// OpenAI chat request → Anthropic Messages request (POST /v1/messages).
import {
  CHAT_FIELDS, contentParts, includeUsage, invalid, isRecord, maxTokensOf, messagesOf, num,
  parseArguments, refuseUnknown, refuseUnsupported, stopList, textOf, unsupported, type PartBuilder
} from './common.js'
import type { UpstreamRequest } from './types.js'

/** Anthropic requires max_tokens; this is sent when the client gives none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096

const UNSUPPORTED = ['n', 'logprobs', 'top_logprobs', 'presence_penalty', 'frequency_penalty', 'seed', 'logit_bias']

type Block = Record<string, unknown>

const BLOCKS: PartBuilder<Block> = {
  provider: 'anthropic',
  text: text => ({ type: 'text', text }),
  image: (url, data) => data !== null
    ? { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } }
    : { type: 'image', source: { type: 'url', url } }
}

function contentBlocks (content: unknown, param: string): Block[] {
  return contentParts(content, param, BLOCKS)
}

function toolCallBlocks (calls: unknown, param: string): Block[] {
  if (calls === undefined || calls === null) return []
  if (!Array.isArray(calls)) throw invalid(param, `'${param}' must be an array.`)
  return calls.map((c: unknown, j): Block => {
    const at = `${param}[${j}]`
    if (!isRecord(c) || typeof c.id !== 'string' || !isRecord(c.function) || typeof c.function.name !== 'string') throw invalid(at, `'${at}' must have an id and a function name.`)
    return { type: 'tool_use', id: c.id, name: c.function.name, input: parseArguments(c.function.arguments, `${at}.function.arguments`) }
  })
}

/** Anthropic takes alternating turns: consecutive turns of one role become one. */
function pushTurn (turns: Array<{ role: string; content: Block[] }>, role: string, blocks: Block[]): void {
  const last = turns[turns.length - 1]
  if (last !== undefined && last.role === role) last.content.push(...blocks)
  else turns.push({ role, content: blocks })
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
  const turns: Array<{ role: string; content: Block[] }> = []
  const messages = messagesOf(body)
  for (const [i, m] of messages.entries()) {
    const at = `messages[${i}]`
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push({ type: 'text', text: textOf(m.content, `${at}.content`) })
        break
      case 'user':
        pushTurn(turns, 'user', contentBlocks(m.content, `${at}.content`))
        break
      case 'assistant':
        pushTurn(turns, 'assistant', [...contentBlocks(m.content, `${at}.content`), ...toolCallBlocks(m.tool_calls, `${at}.tool_calls`)])
        break
      case 'tool':
        if (typeof m.tool_call_id !== 'string') throw invalid(`${at}.tool_call_id`, `'${at}.tool_call_id' is required.`)
        pushTurn(turns, 'user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content, `${at}.content`) }])
        break
      default:
        throw invalid(`${at}.role`, `'${at}.role' must be system, developer, user, assistant or tool.`)
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

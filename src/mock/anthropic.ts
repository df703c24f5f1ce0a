// Anthropic Messages API (`POST /v1/messages`), plain and streaming, using the
// exact named-event sequence the real API sends.
import { type Frame, type MockContext, isRecord, sseEvent } from './context.js'
import { countPromptTokens, makeReply, wordDeltas } from './text.js'
import { type MockToolCall, type OfferedTool, argumentDeltas, chooseTool } from './tools.js'

function errorType (status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error'
    case 401: return 'authentication_error'
    case 403: return 'permission_error'
    case 404: return 'not_found_error'
    case 413: return 'request_too_large'
    case 429: return 'rate_limit_error'
    case 529: return 'overloaded_error'
    default: return status >= 500 ? 'api_error' : 'invalid_request_error'
  }
}

export function anthropicError (status: number, message: string): unknown {
  return { type: 'error', error: { type: errorType(status), message } }
}

export function handleAnthropic (ctx: MockContext): Promise<void> | void {
  const path = ctx.url.pathname.replace(/\/+$/, '')
  if (ctx.req.method === 'POST' && path === '/v1/messages') {
    return messages(ctx)
  } else if (ctx.req.method === 'POST' && path === '/v1/messages/count_tokens') {
    ctx.sendJson(200, { input_tokens: countPromptTokens(ctx.body['system'], ctx.body['messages']) })
  } else {
    ctx.notFound()
  }
}

/** The tool the answer calls, if the request offers tools and is not answering one. */
function toolCall (body: Record<string, unknown>): MockToolCall | null {
  const tools: OfferedTool[] = []
  if (Array.isArray(body['tools'])) {
    for (const t of body['tools']) if (isRecord(t) && typeof t['name'] === 'string') tools.push({ name: t['name'], schema: t['input_schema'] })
  }
  const choice = isRecord(body['tool_choice']) ? body['tool_choice'] : {}
  if (choice['type'] === 'none') return null
  const messages = Array.isArray(body['messages']) ? body['messages'] : []
  const last: unknown = messages[messages.length - 1]
  // A user turn carrying tool results gets a text answer: the model uses what the tools said.
  if (isRecord(last) && Array.isArray(last['content']) && last['content'].some(b => isRecord(b) && b['type'] === 'tool_result')) return null
  return chooseTool(tools, choice['type'] === 'tool' && typeof choice['name'] === 'string' ? choice['name'] : null)
}

async function messages (ctx: MockContext): Promise<void> {
  const { body } = ctx
  const model = ctx.model('claude-sonnet-4-20250514')
  // The system prompt (string or text blocks) is billed as input, as upstream.
  const inputTokens = countPromptTokens(body['system'], body['messages'])
  const call = toolCall(body)
  const reply = makeReply(body, ctx.knobs.answerWords)
  const id = `msg_${ctx.region}_${ctx.seq}`
  const toolId = `toolu_${ctx.region}_${ctx.seq}`
  const stopReason = call !== null ? 'tool_use' : reply.truncated ? 'max_tokens' : 'end_turn'
  const outputTokens = call !== null ? call.outputTokens : reply.outputTokens

  if (body['stream'] !== true) {
    ctx.sendJson(200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: call !== null ? [{ type: 'tool_use', id: toolId, name: call.name, input: call.args }] : [{ type: 'text', text: reply.text }],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens }
    })
    return
  }

  const omit = ctx.knobs.omitUsage
  const ev = (type: string, data: Record<string, unknown>, delta = false): Frame => ({
    delta,
    data: sseEvent(type, { type, ...data })
  })
  const frames: Frame[] = [
    ev('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // Real streams report 1 output token up front and the total at the end.
        ...(omit ? {} : { usage: { input_tokens: inputTokens, output_tokens: 1 } })
      }
    })
  ]
  if (call !== null) {
    // The tool's input arrives as partial JSON in many small deltas, as the real API streams it.
    frames.push(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: toolId, name: call.name, input: {} } }), ev('ping', {}))
    for (const partial of argumentDeltas(call.json)) {
      frames.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: partial } }, true))
    }
  } else {
    frames.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }), ev('ping', {}))
    for (const text of wordDeltas(reply.words)) {
      frames.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }, true))
    }
  }
  frames.push(
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      ...(omit ? {} : { usage: { output_tokens: outputTokens } })
    }),
    ev('message_stop', {})
  )
  await ctx.stream(frames)
}

// Cohere Chat v2 (`POST /v2/chat`, also answered on `/v1/chat` with v2 shapes),
// plain and streaming with Cohere's named SSE events.
import { type Frame, type MockContext, isRecord, sseEvent } from './context.js'
import { countPromptTokens, makeReply, wordDeltas } from './text.js'
import { type MockToolCall, answersTool, argumentDeltas, chooseTool, functionTools } from './tools.js'

export function cohereError (status: number, message: string): unknown {
  return { id: `err-${status}`, message }
}

export function handleCohere (ctx: MockContext): Promise<void> | void {
  const path = ctx.url.pathname.replace(/\/+$/, '')
  if (ctx.req.method === 'POST' && (path === '/v2/chat' || path === '/v1/chat')) {
    return chat(ctx)
  } else {
    ctx.notFound()
  }
}

function promptTokens (body: Record<string, unknown>): number {
  // v2 puts everything (system included) in `messages`; v1-style callers use
  // `message`, `preamble` and `chat_history[].message`.
  const history = Array.isArray(body['chat_history'])
    ? body['chat_history'].map((h: unknown) => (isRecord(h) ? h['message'] : undefined))
    : []
  return countPromptTokens(body['messages'], body['message'], body['preamble'], history)
}

/** The tool the answer calls, if the request offers tools and is not answering one. */
function toolCall (body: Record<string, unknown>): MockToolCall | null {
  if (body['tool_choice'] === 'NONE' || answersTool(body['messages'])) return null
  return chooseTool(functionTools(body['tools']), null)
}

async function chat (ctx: MockContext): Promise<void> {
  const { body } = ctx
  const inputTokens = promptTokens(body)
  const call = toolCall(body)
  const reply = makeReply(body, ctx.knobs.answerWords)
  const id = `cohere-${ctx.region}-${ctx.seq}`
  const callId = `call_${ctx.region}_${ctx.seq}`
  const finishReason = call !== null ? 'TOOL_CALL' : reply.truncated ? 'MAX_TOKENS' : 'COMPLETE'
  const counts = { input_tokens: inputTokens, output_tokens: call !== null ? call.outputTokens : reply.outputTokens }
  const usage = { billed_units: counts, tokens: counts }
  const toolPlan = call !== null ? `I will call ${call.name}.` : ''

  if (body['stream'] !== true) {
    const message: Record<string, unknown> = { role: 'assistant' }
    if (call !== null) {
      message['tool_plan'] = toolPlan
      message['tool_calls'] = [{ id: callId, type: 'function', function: { name: call.name, arguments: call.json } }]
    } else message['content'] = [{ type: 'text', text: reply.text }]
    ctx.sendJson(200, { id, finish_reason: finishReason, message, usage })
    return
  }

  const ev = (type: string, data: Record<string, unknown>, delta = false): Frame => ({
    delta,
    data: sseEvent(type, { type, ...data })
  })
  const frames: Frame[] = [
    ev('message-start', {
      id,
      delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } }
    })
  ]
  if (call !== null) {
    // The call opens with its name and empty arguments, which then arrive in many deltas.
    frames.push(ev('tool-plan-delta', { delta: { message: { tool_plan: toolPlan } } }))
    frames.push(ev('tool-call-start', { index: 0, delta: { message: { tool_calls: { id: callId, type: 'function', function: { name: call.name, arguments: '' } } } } }))
    for (const piece of argumentDeltas(call.json)) {
      frames.push(ev('tool-call-delta', { index: 0, delta: { message: { tool_calls: { function: { arguments: piece } } } } }, true))
    }
    frames.push(ev('tool-call-end', { index: 0 }))
  } else {
    frames.push(ev('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } }))
    for (const text of wordDeltas(reply.words)) {
      frames.push(ev('content-delta', { index: 0, delta: { message: { content: { text } } } }, true))
    }
    frames.push(ev('content-end', { index: 0 }))
  }
  frames.push(ev('message-end', {
    delta: { finish_reason: finishReason, ...(ctx.knobs.omitUsage ? {} : { usage }) }
  }))
  await ctx.stream(frames)
}

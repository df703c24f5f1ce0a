// Cohere Chat v2 (`POST /v2/chat`, also answered on `/v1/chat` with v2 shapes),
// plain and streaming with Cohere's named SSE events.
import { type Frame, type MockContext, isRecord, sseEvent } from './context.js'
import { countPromptTokens, makeReply, wordDeltas } from './text.js'

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

async function chat (ctx: MockContext): Promise<void> {
  const { body } = ctx
  const inputTokens = promptTokens(body)
  const reply = makeReply(body)
  const id = `cohere-${ctx.region}-${ctx.seq}`
  const counts = { input_tokens: inputTokens, output_tokens: reply.outputTokens }
  const usage = { billed_units: counts, tokens: counts }

  if (body['stream'] !== true) {
    ctx.sendJson(200, {
      id,
      finish_reason: 'COMPLETE',
      message: { role: 'assistant', content: [{ type: 'text', text: reply.text }] },
      usage
    })
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
    }),
    ev('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } })
  ]
  for (const text of wordDeltas(reply.words)) {
    frames.push(ev('content-delta', { index: 0, delta: { message: { content: { text } } } }, true))
  }
  frames.push(
    ev('content-end', { index: 0 }),
    ev('message-end', {
      delta: { finish_reason: 'COMPLETE', ...(ctx.knobs.omitUsage ? {} : { usage }) }
    })
  )
  await ctx.stream(frames)
}

// OpenAI Responses API (`POST /v1/responses`), plain and streaming, with the
// same event sequence the real API emits so the SDK's ResponseStream can
// accumulate it.
import { type Frame, type MockContext, sseEvent } from './context.js'
import { countPromptTokens, makeReply, wordDeltas } from './text.js'

export async function handleResponses (ctx: MockContext): Promise<void> {
  const { body } = ctx
  const model = ctx.model('gpt-4o-mini')
  // `instructions` is the Responses API's system prompt; it counts as input.
  const inputTokens = countPromptTokens(body['instructions'], body['input'])
  const reply = makeReply(body, ctx.knobs.answerWords)
  // Cut at max_output_tokens: the response is `incomplete`, and says why.
  const finalStatus = reply.truncated ? 'incomplete' : 'completed'
  const incomplete = reply.truncated ? { reason: 'max_output_tokens' } : null
  const id = `resp_${ctx.region}_${ctx.seq}`
  const itemId = `msg_${ctx.region}_${ctx.seq}`
  const createdAt = Math.floor(Date.now() / 1000)
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: reply.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + reply.outputTokens
  }
  const part = { type: 'output_text', text: reply.text, annotations: [], logprobs: [] }
  const doneItem = {
    type: 'message',
    id: itemId,
    status: finalStatus,
    role: 'assistant',
    content: [part]
  }

  // Fields beyond the brief's minimum mirror the real object so strict
  // consumers (and the SDK's type expectations) see a familiar shape.
  const envelope = (status: string, output: unknown[], withUsage: boolean): Record<string, unknown> => ({
    id,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: status === 'in_progress' ? null : incomplete,
    instructions: typeof body['instructions'] === 'string' ? body['instructions'] : null,
    max_output_tokens: typeof body['max_output_tokens'] === 'number' ? body['max_output_tokens'] : null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: body['store'] !== false,
    temperature: typeof body['temperature'] === 'number' ? body['temperature'] : 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: typeof body['top_p'] === 'number' ? body['top_p'] : 1,
    truncation: 'disabled',
    usage: withUsage ? usage : null,
    user: null,
    metadata: {}
  })

  if (body['stream'] !== true) {
    ctx.sendJson(200, envelope(finalStatus, [doneItem], true))
    return
  }

  const withUsage = !ctx.knobs.omitUsage
  let seq = 0
  const ev = (type: string, data: Record<string, unknown>, delta = false): Frame => ({
    delta,
    data: sseEvent(type, { type, sequence_number: seq++, ...data })
  })
  const strip = (o: Record<string, unknown>): Record<string, unknown> => {
    // omit mode: drop the `usage` key entirely, not just null it.
    if (withUsage) return o
    const { usage: _drop, ...rest } = o
    return rest
  }
  const loc = { item_id: itemId, output_index: 0, content_index: 0 }

  const frames: Frame[] = [
    ev('response.created', { response: strip(envelope('in_progress', [], false)) }),
    ev('response.in_progress', { response: strip(envelope('in_progress', [], false)) }),
    ev('response.output_item.added', {
      output_index: 0,
      item: { type: 'message', id: itemId, status: 'in_progress', role: 'assistant', content: [] }
    }),
    ev('response.content_part.added', {
      ...loc,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] }
    })
  ]
  for (const delta of wordDeltas(reply.words)) {
    frames.push(ev('response.output_text.delta', { ...loc, delta, logprobs: [] }, true))
  }
  frames.push(
    ev('response.output_text.done', { ...loc, text: reply.text, logprobs: [] }),
    ev('response.content_part.done', { ...loc, part }),
    ev('response.output_item.done', { output_index: 0, item: doneItem }),
    ev(reply.truncated ? 'response.incomplete' : 'response.completed', { response: strip(envelope(finalStatus, [doneItem], withUsage)) })
  )
  await ctx.stream(frames)
}

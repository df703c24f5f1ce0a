// OpenAI-compatible routes: chat completions (also groq-style without /v1),
// embeddings and models. The Responses API lives in openai-responses.ts.
import { type Frame, type MockContext, isRecord, sseEvent } from './context.js'
import { handleResponses } from './openai-responses.js'
import { countPromptTokens, embed, embeddingToBase64, makeReply, wordDeltas } from './text.js'
import { type MockToolCall, answersTool, argumentDeltas, chooseTool, functionTools } from './tools.js'

const DEFAULT_MODEL = 'gpt-4o-mini'
const DEFAULT_EMBEDDING_DIMS = 1536
const MAX_EMBEDDING_DIMS = 4096

// Fixed timestamps keep /v1/models byte-identical between runs.
const MODELS: ReadonlyArray<{ id: string; created: number; owned_by: string }> = [
  { id: 'gpt-4o', created: 1715367049, owned_by: 'system' },
  { id: 'gpt-4o-mini', created: 1721172741, owned_by: 'system' },
  { id: 'gpt-4.1', created: 1744316542, owned_by: 'system' },
  { id: 'o4-mini', created: 1744225351, owned_by: 'system' },
  { id: 'text-embedding-3-small', created: 1705948997, owned_by: 'system' },
  { id: 'text-embedding-3-large', created: 1705953180, owned_by: 'system' }
]

function errorType (status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' }
  if (status === 403) return { type: 'invalid_request_error', code: 'unsupported_country_region_territory' }
  if (status === 404) return { type: 'invalid_request_error', code: null }
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' }
  if (status >= 500) return { type: 'server_error', code: null }
  return { type: 'invalid_request_error', code: null }
}

export function openaiError (status: number, message: string): unknown {
  const { type, code } = errorType(status)
  return { error: { message, type, param: null, code } }
}

export function handleOpenAI (ctx: MockContext): Promise<void> | void {
  const method = ctx.req.method ?? 'GET'
  const path = ctx.url.pathname.replace(/\/+$/, '')
  if (method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions' || path === '/openai/v1/chat/completions')) {
    return chatCompletions(ctx)
  } else if (method === 'POST' && (path === '/v1/responses' || path === '/responses')) {
    return handleResponses(ctx)
  } else if (method === 'POST' && (path === '/v1/embeddings' || path === '/embeddings')) {
    embeddings(ctx)
  } else if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
    ctx.sendJson(200, { object: 'list', data: MODELS.map((m) => ({ ...m, object: 'model' })) })
  } else if (method === 'GET' && path.startsWith('/v1/models/')) {
    const id = decodeURIComponent(path.slice('/v1/models/'.length))
    const m = MODELS.find((x) => x.id === id)
    if (m) ctx.sendJson(200, { ...m, object: 'model' })
    else ctx.sendError(404, `The model '${id}' does not exist`)
  } else {
    ctx.notFound()
  }
}

/** The tool the answer calls, if the request offers tools and is not answering one. */
function toolCall (body: Record<string, unknown>): MockToolCall | null {
  const choice = body['tool_choice']
  if (choice === 'none' || answersTool(body['messages'])) return null
  const forced = isRecord(choice) && isRecord(choice['function']) && typeof choice['function']['name'] === 'string' ? choice['function']['name'] : null
  return chooseTool(functionTools(body['tools']), forced)
}

async function chatCompletions (ctx: MockContext): Promise<void> {
  const { body } = ctx
  const model = ctx.model(DEFAULT_MODEL)
  const promptTokens = countPromptTokens(body['messages'])
  const call = toolCall(body)
  const reply = makeReply(body, ctx.knobs.answerWords)
  const id = `chatcmpl-${ctx.region}-${ctx.seq}`
  const callId = `call_${ctx.region}_${ctx.seq}`
  const created = Math.floor(Date.now() / 1000)
  const completion = call !== null ? call.outputTokens : reply.outputTokens
  const finishReason = call !== null ? 'tool_calls' : reply.truncated ? 'length' : 'stop'
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion
  }

  if (body['stream'] !== true) {
    const message: Record<string, unknown> = call !== null
      ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: callId, type: 'function', function: { name: call.name, arguments: call.json } }] }
      : { role: 'assistant', content: reply.text, refusal: null }
    ctx.sendJson(200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
      usage,
      system_fingerprint: null
    })
    return
  }

  const opts = body['stream_options']
  const includeUsage = !ctx.knobs.omitUsage && isRecord(opts) && opts['include_usage'] === true
  // Real OpenAI puts `usage: null` on every chunk when usage was requested.
  const extra = includeUsage ? { usage: null } : {}
  const chunk = (choices: unknown[], more: Record<string, unknown> = extra): string =>
    sseEvent('', { id, object: 'chat.completion.chunk', created, model, choices, ...more })

  const deltas: Array<Record<string, unknown>> = call !== null
    ? [
      { tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: call.name, arguments: '' } }] },
      ...argumentDeltas(call.json).map(a => ({ tool_calls: [{ index: 0, function: { arguments: a } }] }))
    ]
    : wordDeltas(reply.words).map(content => ({ content }))
  const frames: Frame[] = deltas.map((delta, i) => ({
    delta: true,
    data: chunk([
      {
        index: 0,
        // The role rides on the first delta only, as in real streams.
        delta: i === 0 ? { role: 'assistant', ...delta } : delta,
        finish_reason: null,
        logprobs: null
      }
    ])
  }))
  frames.push({ data: chunk([{ index: 0, delta: {}, finish_reason: finishReason, logprobs: null }]) })
  if (includeUsage) frames.push({ data: chunk([], { usage }) })
  frames.push({ data: 'data: [DONE]\n\n' })
  await ctx.stream(frames)
}

/** Embedding inputs: a string, strings, a token array or token arrays. */
function embeddingInputs (input: unknown): { texts: string[]; tokens: number } {
  const items = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input : [input]
  const texts: string[] = []
  let tokens = 0
  for (const item of items) {
    if (typeof item === 'string') {
      texts.push(item)
      tokens += countPromptTokens(item)
    } else if (Array.isArray(item)) {
      // Pre-tokenized input: each number is one token.
      texts.push(item.join(','))
      tokens += item.length
    }
  }
  return { texts, tokens }
}

function embeddings (ctx: MockContext): void {
  const { body } = ctx
  const input = body['input']
  if (input === undefined || input === null || input === '') {
    ctx.sendError(400, "'input' is a required property")
    return
  }
  const { texts, tokens } = embeddingInputs(input)
  if (texts.length === 0) {
    ctx.sendError(400, "'input' must be a string or an array of strings or tokens")
    return
  }
  const requested = body['dimensions']
  const dims = typeof requested === 'number' && requested >= 1
    ? Math.min(Math.floor(requested), MAX_EMBEDDING_DIMS)
    : DEFAULT_EMBEDDING_DIMS
  const base64 = body['encoding_format'] === 'base64'
  ctx.sendJson(200, {
    object: 'list',
    data: texts.map((t, index) => {
      const v = embed(t, dims)
      return { object: 'embedding', index, embedding: base64 ? embeddingToBase64(v) : v }
    }),
    model: ctx.model('text-embedding-3-small'),
    usage: { prompt_tokens: tokens, total_tokens: tokens }
  })
}

// Google Gemini (Generative Language API): generateContent and
// streamGenerateContent, both SSE (`?alt=sse`) and the JSON-array form.
import type { Frame, MockContext } from './context.js'
import { countPromptTokens, makeReply, wordDeltas } from './text.js'

function errorStatus (status: number): string {
  switch (status) {
    case 400: return 'INVALID_ARGUMENT'
    case 401: return 'UNAUTHENTICATED'
    case 403: return 'PERMISSION_DENIED'
    case 404: return 'NOT_FOUND'
    case 413: return 'INVALID_ARGUMENT'
    case 429: return 'RESOURCE_EXHAUSTED'
    case 503: return 'UNAVAILABLE'
    case 504: return 'DEADLINE_EXCEEDED'
    default: return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'
  }
}

export function geminiError (status: number, message: string): unknown {
  return { error: { code: status, message, status: errorStatus(status) } }
}

// Model ids may contain dots and hyphens (gemini-2.5-flash-lite); the action
// follows the last ':'. Clients sometimes percent-encode that colon.
const ROUTE = /^\/(v1beta|v1|v1alpha)\/models\/([^/]+):(generateContent|streamGenerateContent|countTokens)$/

export function handleGemini (ctx: MockContext): Promise<void> | void {
  let path = ctx.url.pathname
  try {
    path = decodeURIComponent(path)
  } catch {
    // Malformed escapes: match against the raw path.
  }
  const m = ROUTE.exec(path)
  if (ctx.req.method !== 'POST' || !m) {
    ctx.notFound()
    return
  }
  const model = m[2] ?? 'gemini-2.0-flash'
  const action = m[3]
  if (action === 'countTokens') {
    ctx.sendJson(200, { totalTokens: promptTokens(ctx.body) })
  } else if (action === 'generateContent') {
    generate(ctx, model)
  } else {
    return streamGenerate(ctx, model, ctx.url.searchParams.get('alt') === 'sse')
  }
}

function promptTokens (body: Record<string, unknown>): number {
  const sys = body['systemInstruction'] ?? body['system_instruction']
  return countPromptTokens(sys, body['contents'])
}

function usage (prompt: number, out: number): Record<string, number> {
  return { promptTokenCount: prompt, candidatesTokenCount: out, totalTokenCount: prompt + out }
}

function generate (ctx: MockContext, model: string): void {
  const prompt = promptTokens(ctx.body)
  const reply = makeReply(ctx.body)
  ctx.sendJson(200, {
    candidates: [
      { content: { parts: [{ text: reply.text }], role: 'model' }, finishReason: 'STOP', index: 0 }
    ],
    usageMetadata: usage(prompt, reply.outputTokens),
    modelVersion: model,
    responseId: `gemini-${ctx.region}-${ctx.seq}`
  })
}

async function streamGenerate (ctx: MockContext, model: string, sse: boolean): Promise<void> {
  const prompt = promptTokens(ctx.body)
  const reply = makeReply(ctx.body)
  const deltas = wordDeltas(reply.words)
  const omit = ctx.knobs.omitUsage
  const responseId = `gemini-${ctx.region}-${ctx.seq}`
  // One chunk per word; the last carries finishReason. usageMetadata is
  // cumulative on every chunk (as upstream), so the last one holds the totals.
  const chunks = deltas.map((text, i) => {
    const last = i === deltas.length - 1
    const candidate: Record<string, unknown> = { content: { parts: [{ text }], role: 'model' }, index: 0 }
    if (last) candidate['finishReason'] = 'STOP'
    const chunk: Record<string, unknown> = { candidates: [candidate] }
    if (!omit) chunk['usageMetadata'] = usage(prompt, i + 1)
    chunk['modelVersion'] = model
    chunk['responseId'] = responseId
    return JSON.stringify(chunk)
  })

  if (sse) {
    // Gemini terminates SSE events with CRLF pairs; clients must cope.
    await ctx.stream(chunks.map((c): Frame => ({ delta: true, data: `data: ${c}\r\n\r\n` })))
    return
  }
  // Without alt=sse the API streams one JSON array, element by element.
  const frames: Frame[] = chunks.map((c, i) => ({ delta: true, data: `${i === 0 ? '[' : ',\r\n'}${c}` }))
  frames.push({ data: ']' })
  await ctx.stream(frames, 'application/json; charset=UTF-8')
}


// Google Gemini (Generative Language API): generateContent and
// streamGenerateContent, both SSE (`?alt=sse`) and the JSON-array form.
import { type Frame, type MockContext, isRecord } from './context.js'
import { countPromptTokens, makeReply, wordDeltas } from './text.js'
import { type MockToolCall, type OfferedTool, chooseTool } from './tools.js'

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

/** The function the answer calls, if the request declares functions and is not answering one. */
function toolCall (body: Record<string, unknown>): MockToolCall | null {
  const tools: OfferedTool[] = []
  if (Array.isArray(body['tools'])) {
    for (const t of body['tools']) {
      const decls = isRecord(t) ? t['functionDeclarations'] ?? t['function_declarations'] : undefined
      if (!Array.isArray(decls)) continue
      for (const d of decls) {
        if (isRecord(d) && typeof d['name'] === 'string') tools.push({ name: d['name'], schema: d['parametersJsonSchema'] ?? d['parameters'] })
      }
    }
  }
  const cfg = isRecord(body['toolConfig']) && isRecord(body['toolConfig']['functionCallingConfig']) ? body['toolConfig']['functionCallingConfig'] : {}
  if (cfg['mode'] === 'NONE') return null
  const contents = Array.isArray(body['contents']) ? body['contents'] : []
  const last: unknown = contents[contents.length - 1]
  if (isRecord(last) && Array.isArray(last['parts']) && last['parts'].some(p => isRecord(p) && p['functionResponse'] !== undefined)) return null
  const allowed = Array.isArray(cfg['allowedFunctionNames']) && typeof cfg['allowedFunctionNames'][0] === 'string' ? cfg['allowedFunctionNames'][0] : null
  return chooseTool(tools, allowed)
}

interface Answer {
  parts: Array<Array<Record<string, unknown>>>
  finishReason: string
  outputTokens: number
}

/** The answer's parts (one array per streamed chunk), finish reason and billed output. */
function answer (ctx: MockContext): Answer {
  const call = toolCall(ctx.body)
  // A function call arrives whole, in one chunk, as Gemini sends it.
  if (call !== null) return { parts: [[{ functionCall: { name: call.name, args: call.args } }]], finishReason: 'STOP', outputTokens: call.outputTokens }
  const reply = makeReply(ctx.body, ctx.knobs.answerWords)
  return { parts: wordDeltas(reply.words).map(text => [{ text }]), finishReason: reply.truncated ? 'MAX_TOKENS' : 'STOP', outputTokens: reply.outputTokens }
}

function generate (ctx: MockContext, model: string): void {
  const prompt = promptTokens(ctx.body)
  const a = answer(ctx)
  const parts = a.parts.flat()
  // A whole answer joins its text into one part, as the API returns it.
  const text = parts.every(p => typeof p['text'] === 'string') ? [{ text: parts.map(p => p['text']).join('') }] : parts
  ctx.sendJson(200, {
    candidates: [
      { content: { parts: text, role: 'model' }, finishReason: a.finishReason, index: 0 }
    ],
    usageMetadata: usage(prompt, a.outputTokens),
    modelVersion: model,
    responseId: `gemini-${ctx.region}-${ctx.seq}`
  })
}

async function streamGenerate (ctx: MockContext, model: string, sse: boolean): Promise<void> {
  const prompt = promptTokens(ctx.body)
  const a = answer(ctx)
  const omit = ctx.knobs.omitUsage
  const responseId = `gemini-${ctx.region}-${ctx.seq}`
  // One chunk per word; the last carries finishReason. usageMetadata is cumulative on every
  // chunk (as upstream), so the last one holds the totals.
  const n = a.parts.length
  const chunks = a.parts.map((parts, i) => {
    const last = i === n - 1
    const candidate: Record<string, unknown> = { content: { parts, role: 'model' }, index: 0 }
    if (last) candidate['finishReason'] = a.finishReason
    const chunk: Record<string, unknown> = { candidates: [candidate] }
    if (!omit) chunk['usageMetadata'] = usage(prompt, last ? a.outputTokens : Math.min(i + 1, a.outputTokens))
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

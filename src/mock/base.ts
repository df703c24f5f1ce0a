// "Base" endpoint: a bare `POST /` text-generation model (Hugging Face style
// `{"inputs": "..."}`), for upstreams that are not one of the big APIs.
import type { MockContext } from './context.js'
import { countPromptTokens, makeReply } from './text.js'

export function baseError (status: number, message: string): unknown {
  return { error: message, status }
}

export function handleBase (ctx: MockContext): void {
  if (ctx.req.method !== 'POST' || ctx.url.pathname !== '/') {
    ctx.notFound()
    return
  }
  const { body } = ctx
  // Accept the usual prompt fields; a bare JSON string body is the prompt too.
  const input = body['inputs'] ?? body['input'] ?? body['prompt'] ?? (typeof ctx.json === 'string' ? ctx.json : undefined)
  const prompt = countPromptTokens(input)
  const reply = makeReply(body, ctx.knobs.answerWords)
  ctx.sendJson(200, {
    generated_text: reply.text,
    usage: {
      prompt_tokens: prompt,
      completion_tokens: reply.outputTokens,
      total_tokens: prompt + reply.outputTokens
    }
  })
}

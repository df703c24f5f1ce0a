// What every provider translation shares: narrowing helpers, the refusal that names the
// parameter a provider cannot honour, and OpenAI's error body.
import { isRecord } from '../core/json.js'
export { isRecord }

export function num (v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/** A request agnet will not send: a 400 in OpenAI's error shape naming the parameter. */
export class TranslationRefusal extends Error {
  readonly param: string
  readonly code: string

  constructor (param: string, message: string, code = 'unsupported_parameter') {
    super(message)
    this.param = param
    this.code = code
  }
}

export function unsupported (param: string, provider: string): TranslationRefusal {
  return new TranslationRefusal(param, `'${param}' is not supported by this model's provider (${provider}); agnet refuses it rather than drop it.`)
}

export function invalid (param: string, message: string): TranslationRefusal {
  return new TranslationRefusal(param, message, 'invalid_value')
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export function openaiError (message: string, type: string, param: string | null, code: string | null): OpenAIErrorBody {
  return { error: { message, type, param, code } }
}

/** OpenAI's error `type` for a status, as its own API answers them. */
export function errorTypeFor (status: number): string {
  if (status === 400 || status === 404 || status === 409 || status === 413 || status === 422) return 'invalid_request_error'
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 429) return 'rate_limit_error'
  return status >= 500 ? 'server_error' : 'invalid_request_error'
}

/** Text of an OpenAI message `content`: a string, or the text parts of an array. */
export function textOf (content: unknown, param: string): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (!Array.isArray(content)) throw invalid(param, `'${param}' must be a string or an array of content parts.`)
  let out = ''
  for (let i = 0; i < content.length; i++) {
    const p: unknown = content[i]
    if (!isRecord(p) || p.type !== 'text' || typeof p.text !== 'string') throw invalid(`${param}[${i}]`, `'${param}[${i}]' must be a text part here.`)
    out += p.text
  }
  return out
}

/** `data:image/png;base64,AAAA` → its media type and data; null for any other URL. */
export function parseDataUrl (url: string): { mediaType: string; data: string } | null {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  const mediaType = m?.[1]
  const data = m?.[2]
  return mediaType === undefined || data === undefined ? null : { mediaType, data }
}

/** Parses a tool call's `arguments` string: providers other than OpenAI take an object. */
export function parseArguments (args: unknown, param: string): Record<string, unknown> {
  if (typeof args !== 'string') throw invalid(param, `'${param}' must be a JSON string.`)
  if (args.trim() === '') return {}
  let v: unknown
  try {
    v = JSON.parse(args)
  } catch {
    throw invalid(param, `'${param}' is not valid JSON.`)
  }
  if (!isRecord(v)) throw invalid(param, `'${param}' must encode a JSON object.`)
  return v
}

/** `stop` as a list of sequences. */
export function stopList (stop: unknown): string[] | null {
  if (stop === undefined || stop === null) return null
  if (typeof stop === 'string') return [stop]
  if (Array.isArray(stop) && stop.every((s): s is string => typeof s === 'string')) return stop
  throw invalid('stop', "'stop' must be a string or an array of strings.")
}

/** The output token ceiling the client asked for (max_completion_tokens wins, as on OpenAI). */
export function maxTokensOf (body: Record<string, unknown>): number | null {
  for (const name of ['max_completion_tokens', 'max_tokens']) {
    const v = body[name]
    if (v === undefined || v === null) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalid(name, `'${name}' must be a positive integer.`)
    return v
  }
  return null
}

/** Refuses `n` > 1, `logprobs` and the other parameters a provider has no equivalent for. */
export function refuseUnsupported (body: Record<string, unknown>, provider: string, names: readonly string[]): void {
  for (const name of names) {
    const v = body[name]
    if (v === undefined || v === null || v === false) continue
    if (name === 'n' && v === 1) continue
    throw unsupported(name, provider)
  }
}

/** Parameters OpenAI accepts that change nothing a provider answers: read and left. */
export const IGNORED = new Set(['stream', 'stream_options', 'store', 'metadata', 'service_tier', 'user', 'parallel_tool_calls', 'model'])

/** Refuses any parameter not in `known`: an unknown parameter is never silently dropped. */
export function refuseUnknown (body: Record<string, unknown>, known: ReadonlySet<string>, provider: string): void {
  for (const name in body) {
    if (!known.has(name) && !IGNORED.has(name)) throw unsupported(name, provider)
  }
}

export function messagesOf (body: Record<string, unknown>): Array<Record<string, unknown>> {
  const messages = body.messages
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages', "'messages' must be a non-empty array.")
  const out: Array<Record<string, unknown>> = []
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || typeof m.role !== 'string') throw invalid(`messages[${i}]`, `'messages[${i}]' must be an object with a role.`)
    out.push(m)
  }
  return out
}

export function includeUsage (body: Record<string, unknown>): boolean {
  const o = body.stream_options
  return isRecord(o) && o.include_usage === true
}

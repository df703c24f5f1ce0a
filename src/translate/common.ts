// What every provider translation shares: narrowing helpers, the request fields translation
// knows, the walk over a message's content parts, and the refusal that names the parameter a
// provider cannot honour (rendered in OpenAI's error body, core/render-error.ts).
import { isRecord } from '../core/json.js'
export { isRecord }

/** The OpenAI chat request fields a translation reads or refuses by name; any other is refused as unknown. */
export const CHAT_FIELDS: ReadonlySet<string> = new Set(['messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'tools', 'tool_choice', 'response_format', 'n', 'logprobs', 'top_logprobs', 'presence_penalty', 'frequency_penalty', 'seed', 'logit_bias'])

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

/** How a provider writes the two kinds of content part OpenAI sends. */
export interface PartBuilder<T> {
  readonly provider: string
  text (text: string): T
  /** `data` is the decoded data: URL, or null for a plain URL. */
  image (url: string, data: { mediaType: string; data: string } | null): T
}

/** The name of a message's field in a refusal, e.g. `messages[2].content`: built only when one is thrown. */
export function messageParam (message: number, field: string): string {
  return `messages[${message}].${field}`
}

/** A message's `content` (a string, null, or an array of text and image_url parts) in a provider's parts, appended to `out`. */
export function contentParts<T> (content: unknown, message: number, build: PartBuilder<T>, out: T[] = []): T[] {
  if (typeof content === 'string') {
    if (content !== '') out.push(build.text(content))
    return out
  }
  if (content === null || content === undefined) return out
  if (!Array.isArray(content)) throw notContent(message)
  for (let i = 0; i < content.length; i++) {
    const p: unknown = content[i]
    if (!isRecord(p)) {
      const at = `${messageParam(message, 'content')}[${i}]`
      throw invalid(at, `'${at}' must be a content part.`)
    }
    if (p.type === 'text' && typeof p.text === 'string') out.push(build.text(p.text))
    else if (p.type === 'image_url' && isRecord(p.image_url) && typeof p.image_url.url === 'string') {
      const url = p.image_url.url
      out.push(build.image(url, parseDataUrl(url)))
    } else throw unsupported(`${messageParam(message, 'content')}[${i}].type`, build.provider)
  }
  return out
}

function notContent (message: number): TranslationRefusal {
  const param = messageParam(message, 'content')
  return invalid(param, `'${param}' must be a string or an array of content parts.`)
}

/** Text of an OpenAI message's `content`: a string, or the text parts of an array. */
export function textOf (content: unknown, message: number): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (!Array.isArray(content)) throw notContent(message)
  let out = ''
  for (let i = 0; i < content.length; i++) {
    const p: unknown = content[i]
    if (!isRecord(p) || p.type !== 'text' || typeof p.text !== 'string') {
      const at = `${messageParam(message, 'content')}[${i}]`
      throw invalid(at, `'${at}' must be a text part here.`)
    }
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

const MAX_TOKENS_FIELDS = ['max_completion_tokens', 'max_tokens']

/** The output token ceiling the client asked for (max_completion_tokens wins, as on OpenAI). */
export function maxTokensOf (body: Record<string, unknown>): number | null {
  for (const name of MAX_TOKENS_FIELDS) {
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
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i]
    if (!isRecord(m) || typeof m.role !== 'string') throw invalid(`messages[${i}]`, `'messages[${i}]' must be an object with a role.`)
    out.push(m)
  }
  return out
}

/** Refuses a message whose role is none of OpenAI's. */
export function badRole (message: number): TranslationRefusal {
  const at = messageParam(message, 'role')
  return invalid(at, `'${at}' must be system, developer, user, assistant or tool.`)
}

export function includeUsage (body: Record<string, unknown>): boolean {
  const o = body.stream_options
  return isRecord(o) && o.include_usage === true
}

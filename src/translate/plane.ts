// The run plane's one seam for mk3 models: the chat request is read whole (it is JSON and
// bounded by the model's body limit), parsed once, translated and kept as the body every
// attempt sends (so failover replays the translated request). What cannot be honoured is
// refused here, before any provider sees it, as OpenAI's 400 naming the parameter.
import type { IncomingMessage } from 'node:http'
import { EdgeError } from '../core/errors.js'
import { TranslatedAnswer } from './answer.js'
import { TranslationRefusal, isRecord } from './common.js'
import { openAiError } from '../core/render-error.js'
import { type Mk3Plan, passthroughRequest, planFor } from './registry.js'
import type { UpstreamRequest } from './types.js'

/** What reading a chat request ends in: the translated exchange, a refusal, or an edge error (413). */
export type TranslationReady = (result: TranslatedAnswer | TranslationRefusal | EdgeError, bytes: number) => void

/** The OpenAI chat completions routes the mk3 gateway serves. */
export function isChatCompletions (method: string | undefined, rest: string): boolean {
  if (method !== 'POST') return false
  const q = rest.indexOf('?')
  let path = q === -1 ? rest : rest.slice(0, q)
  if (path.endsWith('/')) path = path.slice(0, -1)
  return path === '/v1/chat/completions' || path === '/chat/completions'
}

/** Parses and translates a whole chat request body. Throws TranslationRefusal. */
export function translateChatBody (raw: Buffer, plan: Mk3Plan, rest: string): UpstreamRequest {
  let body: unknown
  try {
    body = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new TranslationRefusal('', 'The request body is not valid JSON.', 'invalid_json')
  }
  if (!isRecord(body)) throw new TranslationRefusal('', 'The request body must be a JSON object.', 'invalid_json')
  if (plan.translator === null) return passthroughRequest(body, plan.runtimeModel, rest)
  return plan.translator.request(body, plan.runtimeModel)
}

class ChatBodyReader {
  private readonly req: IncomingMessage
  private readonly length: number
  private readonly plan: Mk3Plan
  private readonly rest: string
  private readonly ready: TranslationReady
  private readonly limit: number
  private readonly chunks: Buffer[] = []
  private size = 0
  private readonly onData: (chunk: Buffer) => void
  private readonly onEnd: () => void

  constructor (req: IncomingMessage, length: number, plan: Mk3Plan, rest: string, limit: number, ready: TranslationReady) {
    this.req = req
    this.length = length
    this.plan = plan
    this.rest = rest
    this.limit = limit
    this.ready = ready
    this.onData = this.data.bind(this)
    this.onEnd = this.end.bind(this)
    req.on('data', this.onData)
    req.once('end', this.onEnd)
  }

  private data (chunk: Buffer): void {
    this.size += chunk.length
    if (this.size <= this.limit) {
      this.chunks.push(chunk)
      // With Content-Length known, the chunk that completes it is the end: no need to wait a
      // turn for the stream's 'end' (the usual API call comes whole with its headers).
      if (this.size === this.length && this.length > 0) this.end()
      return
    }
    this.req.off('data', this.onData)
    this.req.off('end', this.onEnd)
    this.chunks.length = 0
    // Read on and drop the rest so the 413 reaches a client still sending.
    this.req.resume()
    this.ready(new EdgeError('REQUEST_ENTITY_TOO_LARGE', `The request body is larger than this model accepts (${this.limit} bytes).`), this.size)
  }

  private end (): void {
    this.req.off('data', this.onData)
    this.req.off('end', this.onEnd)
    const first = this.chunks[0]
    const raw = this.chunks.length === 1 && first !== undefined ? first : Buffer.concat(this.chunks, this.size)
    let up: UpstreamRequest
    try {
      up = translateChatBody(raw, this.plan, this.rest)
    } catch (err) {
      if (err instanceof TranslationRefusal) return this.ready(err, this.size)
      throw err
    }
    this.ready(new TranslatedAnswer(this.plan.translator, up, this.plan.runtimeModel), this.size)
  }
}

/** Reads (bounded by `limit`), parses and translates the request body, then calls `ready`. `length`: Content-Length, or -1. */
export function readChatRequest (req: IncomingMessage, length: number, mk3: Mk3Model, rest: string, limit: number, ready: TranslationReady): void {
  // The listeners live as long as the request stream holds them.
  new ChatBodyReader(req, length, planOf(mk3), rest, limit, ready)
}

type Mk3Model = { readonly provider: string; readonly runtimeModel: string }

// A model's mk3 settings are one frozen object per compiled config: its plan is made on the
// first request and looked up after (and dropped with the config).
const PLANS = new WeakMap<Mk3Model, Mk3Plan>()

function planOf (mk3: Mk3Model): Mk3Plan {
  let plan = PLANS.get(mk3)
  if (plan === undefined) PLANS.set(mk3, plan = planFor(mk3.provider, mk3.runtimeModel))
  return plan
}

/** A refusal as OpenAI's 400 error body. */
export function refusalBody (refusal: TranslationRefusal): string {
  return JSON.stringify(openAiError(refusal.message, 'invalid_request_error', refusal.param === '' ? null : refusal.param, refusal.code))
}

// Where each provider family reports token usage and streams generated text, read from one
// parsed event or body (extract.ts finds those in the bytes):
//   OpenAI chat     chunk.usage (last chunk with stream_options.include_usage); text in choices[].delta
//   OpenAI Responses response.completed|incomplete|failed → response.usage; text in *.delta events
//   Anthropic       message_start → message.usage.input_tokens; message_delta → usage.output_tokens
//   Gemini          usageMetadata on (the last) chunks, cumulative; text in candidates[].content.parts[]
//   Cohere v2       message-end → delta.usage.tokens; text in content-delta
// Non-streamed answers put their text elsewhere than deltas do (`whole`).
import { isRecord } from '../core/json.js'
export { isRecord }

function num (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : -1
}

function strLen (v: unknown): number {
  return typeof v === 'string' ? v.length : 0
}

/** Usage as reported so far (-1: not reported), and the generated text seen, for an estimate. */
export class ReportedUsage {
  protected input = -1
  protected output = -1
  protected total = -1
  /** Characters of generated text seen. */
  protected chars = 0

  /** One event (or one element of a JSON array stream, or a whole JSON body). */
  protected event (e: Record<string, unknown>): void {
    if (isRecord(e.usage)) this.usage(e.usage, true)
    if (isRecord(e.usageMetadata)) this.gemini(e.usageMetadata)
    const message = e.message
    // Anthropic message_start: input is final there, output_tokens is a placeholder.
    if (isRecord(message) && isRecord(message.usage)) this.usage(message.usage, e.type !== 'message_start')
    const response = e.response
    if (isRecord(response) && isRecord(response.usage)) this.usage(response.usage, true)
    const delta = e.delta
    if (isRecord(delta) && isRecord(delta.usage)) this.usage(delta.usage, true)
    this.text(e, delta)
  }

  private usage (u: Record<string, unknown>, withOutput: boolean): void {
    const tokens = u.tokens
    if (isRecord(tokens)) { this.usage(tokens, withOutput); return } // Cohere v2: tokens, not billed_units
    const prompt = num(u.prompt_tokens)
    if (prompt >= 0) this.input = prompt
    const inTokens = num(u.input_tokens)
    if (inTokens >= 0) this.input = inTokens + Math.max(0, num(u.cache_creation_input_tokens)) + Math.max(0, num(u.cache_read_input_tokens))
    if (withOutput) {
      const completion = num(u.completion_tokens)
      if (completion >= 0) this.output = completion
      const outTokens = num(u.output_tokens)
      if (outTokens >= 0) this.output = outTokens
      const total = num(u.total_tokens)
      if (total >= 0) this.total = total
    }
  }

  private gemini (m: Record<string, unknown>): void {
    const prompt = num(m.promptTokenCount)
    if (prompt >= 0) this.input = prompt + Math.max(0, num(m.toolUsePromptTokenCount))
    const cand = num(m.candidatesTokenCount)
    const thoughts = num(m.thoughtsTokenCount)
    if (cand >= 0 || thoughts >= 0) this.output = Math.max(0, cand) + Math.max(0, thoughts)
    const total = num(m.totalTokenCount)
    if (total >= 0) this.total = total
  }

  /** Counts generated text for the estimate, by the shape of streamed deltas. */
  private text (e: Record<string, unknown>, delta: unknown): void {
    const choices = e.choices
    if (Array.isArray(choices)) {
      for (const c of choices) {
        if (!isRecord(c)) continue
        const d = isRecord(c.delta) ? c.delta : isRecord(c.message) ? c.message : null
        if (d === null) continue
        this.chars += strLen(d.content) + strLen(d.reasoning_content) + strLen(d.refusal)
        if (Array.isArray(d.tool_calls)) for (const t of d.tool_calls) if (isRecord(t) && isRecord(t.function)) this.chars += strLen(t.function.arguments)
      }
    }
    if (typeof delta === 'string') {
      // Responses API: response.output_text.delta, function_call_arguments.delta, reasoning deltas.
      if (typeof e.type === 'string' && e.type.endsWith('.delta')) this.chars += delta.length
    } else if (isRecord(delta)) {
      this.chars += strLen(delta.text) + strLen(delta.partial_json) + strLen(delta.thinking) // Anthropic
      const msg = delta.message
      if (isRecord(msg) && isRecord(msg.content)) this.chars += strLen(msg.content.text) // Cohere v2
    }
    const candidates = e.candidates
    if (Array.isArray(candidates)) {
      for (const c of candidates) {
        if (isRecord(c) && isRecord(c.content) && Array.isArray(c.content.parts)) for (const p of c.content.parts) if (isRecord(p)) this.chars += strLen(p.text)
      }
    }
  }

  /** A usage object found by scanUsageObjects. */
  onUsageObject (key: string, obj: Record<string, unknown>): void {
    if (key === 'usageMetadata') this.gemini(obj)
    else this.usage(obj, true)
  }

  /** A complete non-streamed JSON answer. */
  protected whole (o: Record<string, unknown>): void {
    this.event(o)
    // Non-streamed shapes put the text elsewhere than deltas do; only needed to estimate.
    if (this.output >= 0 || this.total >= 0) return
    if (Array.isArray(o.content)) for (const c of o.content) if (isRecord(c)) this.chars += strLen(c.text) // Anthropic
    const msg = o.message
    if (isRecord(msg) && Array.isArray(msg.content)) for (const c of msg.content) if (isRecord(c)) this.chars += strLen(c.text) // Cohere
    if (Array.isArray(o.output)) { // Responses
      for (const item of o.output) if (isRecord(item) && Array.isArray(item.content)) for (const c of item.content) if (isRecord(c)) this.chars += strLen(c.text)
    }
  }
}

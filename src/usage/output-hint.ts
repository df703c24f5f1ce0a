// The longest answer a request asks for, read from its JSON body without parsing it: an upper
// bound on its output tokens, so a model's requests can be reserved for before any of them
// has finished. Every provider names the field differently (OpenAI chat `max_tokens` and
// `max_completion_tokens`, OpenAI Responses `max_output_tokens`, Anthropic and Cohere
// `max_tokens`, Gemini `generationConfig.maxOutputTokens`); all four names begin with
// `"max`, so one native substring search walks the body once.
//
// Inside a JSON string a quote is escaped, so `"max_tokens":` found in the raw bytes is a
// key, never text of a message. The key may also appear deeper (a tool's JSON schema has
// `"max_tokens": {...}`): only a number counts, and the largest one wins, because an
// over-reservation costs a little admission room while an under-reservation is overshoot.
// A key written with \u escapes is not seen: the caller's default applies then.

const NEEDLE = Buffer.from('"max')
// What may follow `"max`, closing quote included; each is a whole key name.
const SUFFIXES: readonly Buffer[] = ['_tokens"', '_completion_tokens"', '_output_tokens"', 'OutputTokens"'].map(s => Buffer.from(s))
/** Larger numbers are read as this (no model answers more; keeps the sums bounded). */
export const MAX_HINT = 10_000_000

const OPEN_BRACE = 0x7b
const COLON = 0x3a

function isSpace (b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
}

function startsWith (body: Buffer, at: number, s: Buffer): boolean {
  if (at + s.length > body.length) return false
  for (let i = 0; i < s.length; i++) if (body[at + i] !== s[i]) return false
  return true
}

/** The number at `at` (a JSON number, not negative), or -1. */
function numberAt (body: Buffer, at: number): number {
  let end = at
  while (end < body.length && end - at < 32) {
    const b = body[end]
    if (b === undefined) break
    // digits, '.', 'e', 'E', '+', '-'
    if ((b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b || b === 0x2d) end++
    else break
  }
  if (end === at) return -1
  const n = Number(body.toString('latin1', at, end))
  if (!Number.isFinite(n) || n < 0) return -1
  return Math.min(MAX_HINT, Math.ceil(n))
}

/**
 * The largest `max_tokens`, `max_completion_tokens`, `max_output_tokens` or `maxOutputTokens`
 * in a JSON object body, or -1 when it names none (or is not a JSON object).
 */
export function outputHintOf (body: Buffer): number {
  let i = 0
  while (i < body.length && isSpace(body[i])) i++
  if (body[i] !== OPEN_BRACE) return -1
  let best = -1
  let at = body.indexOf(NEEDLE, i)
  while (at >= 0) {
    let p = at + NEEDLE.length
    for (const s of SUFFIXES) {
      if (!startsWith(body, p, s)) continue
      p += s.length
      while (p < body.length && isSpace(body[p])) p++
      if (body[p] === COLON) {
        p++
        while (p < body.length && isSpace(body[p])) p++
        const n = numberAt(body, p)
        if (n > best) best = n
      }
      break
    }
    at = body.indexOf(NEEDLE, p)
  }
  return best
}

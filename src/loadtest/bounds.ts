// The bounds of scenario expectations (">=0.9", "<= 500ms", "0.5") and the durations of
// phases ("5s", "500ms"): reading them and checking a measured value against one.

export interface Bound {
  readonly op: '>=' | '<=' | '>' | '<' | '='
  readonly value: number
  /** The text as written, for reports. */
  readonly text: string
}

const OPS: ReadonlyArray<Bound['op']> = ['>=', '<=', '>', '<', '=']

/** "5s", "500ms", "2m" or a number of seconds → ms; null when unreadable. */
export function parseSeconds (v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.round(v * 1000)
  if (typeof v !== 'string') return null
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(v)
  if (m === null) return null
  const n = Number(m[1])
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
  return ms > 0 ? Math.round(ms) : null
}

/** ">=0.9", "<= 500ms", "0.5", 0.5 → a bound; `unit` ms reads durations. */
export function parseBound (v: unknown, unit: 'fraction' | 'ms'): Bound | null {
  const text = String(v)
  const m = /^\s*(>=|<=|>|<|=)?\s*(.+?)\s*$/.exec(text)
  if (m === null) return null
  const sign = m[1] ?? '='
  const op = OPS.find(o => o === sign)
  const written = m[2]
  if (op === undefined || written === undefined) return null
  let value: number | null
  if (unit === 'ms') value = /^\d+(\.\d+)?$/.test(written) ? Number(written) : parseSeconds(written)
  else {
    const raw = written.endsWith('%') ? Number(written.slice(0, -1)) / 100 : Number(written)
    value = Number.isFinite(raw) && raw >= 0 && raw <= 1 ? raw : null
  }
  if (value === null) return null
  return { op, value, text: typeof v === 'number' ? `=${v}` : text.replace(/\s+/g, '') }
}

export function meets (b: Bound, x: number, tolerance = 0.05): boolean {
  const e = 1e-9
  switch (b.op) {
    case '>=': return x >= b.value - e
    case '<=': return x <= b.value + e
    case '>': return x > b.value
    case '<': return x < b.value
    case '=': return Math.abs(x - b.value) <= tolerance + e
  }
}

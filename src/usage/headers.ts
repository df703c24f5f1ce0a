// RateLimit-Policy and RateLimit response fields (IETF draft httpapi-ratelimit-headers-10):
//   RateLimit-Policy: "cap:total";q=2000;w=60;qu="tokens"
//   RateLimit: "cap:total";r=1200;t=42
// One item per checked threshold of every maxToken policy (dry-run ones included: they report).
// "tokens" is not a registered quota unit; clients that do not know it still read q, w, r, t.
import type { CurrentWindows, RateLimitItem, RtModelLimits, RtTokenLimit } from '../core/usage.js'

const DIMENSIONS = ['input', 'output', 'total'] as const

/**
 * The RateLimit-Policy value: window lengths come from `clock` at `now` (they only vary for
 * month windows, whose value compile.ts therefore does not fix in advance).
 */
export function policyHeaderOf (limits: readonly RtTokenLimit[], clock: CurrentWindows, now: number): string {
  clock.at(now)
  const items: string[] = []
  for (let j = 0; j < limits.length; j++) {
    const l = limits[j] as RtTokenLimit
    const w = Math.round(((clock.ends[j] as number) - (clock.starts[j] as number)) / 1000)
    for (const d of DIMENSIONS) if (l[d] > 0) items.push(`"${l.policy}:${d}";q=${l[d]};w=${w};qu="tokens"`)
  }
  return items.join(', ')
}

/** The RateLimit-Policy value of a model at `now`: fixed at compile time unless a month window is involved. */
export function policyHeaderAt (ml: RtModelLimits, now: number): string {
  return ml.policyHeader ?? policyHeaderOf(ml.limits, ml.clock, now)
}

/** The RateLimit items of a model's limits, built once when the config is compiled. */
export function rateLimitItemsOf (limits: readonly RtTokenLimit[]): RateLimitItem[] {
  const items: RateLimitItem[] = []
  for (let j = 0; j < limits.length; j++) {
    const l = limits[j] as RtTokenLimit
    for (let k = 0; k < 3; k++) {
      const d = DIMENSIONS[k] as 'input' | 'output' | 'total'
      if (l[d] > 0) items.push(Object.freeze({ prefix: `"${l.policy}:${d}";r=`, q: l[d], at: 1 + 3 * j + k, limit: j }))
    }
  }
  return items
}

/**
 * The RateLimit value from the counts a check returned: `counts[1 + 3j + k]` is what limit j
 * has used (settled plus reserved) in dimension k (input, output, total) of its window.
 */
export function rateLimitHeaderOf (ml: RtModelLimits, counts: readonly number[], now: number): string {
  const clock = ml.clock.at(now)
  const items = ml.rateLimitItems
  let out = ''
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as RateLimitItem
    const r = it.q - (counts[it.at] ?? 0)
    out += (i === 0 ? it.prefix : ', ' + it.prefix) + String(r > 0 ? r : 0) + ';t=' + String(clock.secondsToReset(it.limit, now))
  }
  return out
}

/** True when limit `l` is exhausted given used counts (settled plus reserved). */
export function isExhausted (l: RtTokenLimit, input: number, output: number, total: number): boolean {
  return (l.input > 0 && input >= l.input) || (l.output > 0 && output >= l.output) || (l.total > 0 && total >= l.total)
}

// RateLimit-Policy and RateLimit response fields (IETF draft httpapi-ratelimit-headers-10):
//   RateLimit-Policy: "cap:total";q=2000;w=60;qu="tokens"
//   RateLimit: "cap:total";r=1200;t=42
// One item per checked threshold of every maxToken policy (dry-run ones included: they report).
// "tokens" is not a registered quota unit; clients that do not know it still read q, w, r, t.
import type { CurrentWindows, RateLimitItem, RtModelLimits, RtTokenLimit, TokenCounts, TokenDimension } from '../core/usage.js'

const DIMENSIONS: readonly TokenDimension[] = ['input', 'output', 'total']

/**
 * The RateLimit-Policy value: window lengths come from `clock` at `now` (they only vary for
 * month windows, whose value compile.ts therefore does not fix in advance).
 */
export function policyHeaderOf (limits: readonly RtTokenLimit[], clock: CurrentWindows, now: number): string {
  clock.at(now)
  const items: string[] = []
  let j = 0
  for (const l of limits) {
    const start = clock.starts[j]
    const end = clock.ends[j++]
    if (start === undefined || end === undefined) throw new Error(`no window for limit ${l.key}`)
    const w = Math.round((end - start) / 1000)
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
  limits.forEach((l, limit) => {
    for (const dimension of DIMENSIONS) {
      if (l[dimension] > 0) items.push(Object.freeze({ prefix: `"${l.policy}:${dimension}";r=`, q: l[dimension], limit, dimension }))
    }
  })
  return items
}

/**
 * The RateLimit value from what a check found: `used[j]` is what limit j has used (settled
 * plus reserved) in its window.
 */
export function rateLimitHeaderOf (ml: RtModelLimits, used: readonly TokenCounts[], now: number): string {
  const clock = ml.clock.at(now)
  let out = ''
  for (const it of ml.rateLimitItems) {
    const r = it.q - (used[it.limit]?.[it.dimension] ?? 0)
    out += (out === '' ? it.prefix : ', ' + it.prefix) + String(r > 0 ? r : 0) + ';t=' + String(clock.secondsToReset(it.limit, now))
  }
  return out
}

/** True when limit `l` is exhausted given what it used (settled plus reserved). */
export function isExhausted (l: RtTokenLimit, used: TokenCounts): boolean {
  return (l.input > 0 && used.input >= l.input) || (l.output > 0 && used.output >= l.output) || (l.total > 0 && used.total >= l.total)
}

// Milliseconds with three decimals, built from integers: Number#toFixed and the printing of
// fractional doubles showed up in request-path profiles (once per Server-Timing field and
// access-log duration).
const PAD = ['000', '00', '0', '']

export function formatMs (ms: number): string {
  if (!(ms > 0)) return '0.000'
  const us = Math.round(ms * 1000)
  const frac = us % 1000
  const f = String(frac)
  return `${(us - frac) / 1000}.${PAD[f.length] ?? ''}${f}`
}

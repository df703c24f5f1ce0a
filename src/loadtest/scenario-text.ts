// The terminal rendering of a scenario result: per phase and origin one line, then the
// shift and recovery times of each fault, the generator's shortfalls and the expectations.
import type { ScenarioResult } from './scenario-run.js'

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
const ms = (x: number | null): string => x === null ? '-' : `${x < 10 ? x.toFixed(1) : Math.round(x)}ms`
const secs = (x: number | null): string => x === null ? 'never' : `${(x / 1000).toFixed(1)}s`

export function formatScenario (r: ScenarioResult): string {
  const lines: string[] = []
  lines.push(`scenario ${r.scenario.file}: ${r.scenario.method} ${r.url}/${r.scenario.workspace}/models/${r.scenario.model}${r.scenario.path}`)
  for (const p of r.phases) {
    lines.push('')
    lines.push(`phase ${p.name}  ${p.start.toFixed(1)}s → ${p.end.toFixed(1)}s${p.faults.length === 0 ? '' : `  faults: ${p.faults.join(', ')}`}`)
    for (const [origin, o] of Object.entries(p.origins)) {
      const regions = Object.entries(o.regions).map(([k, v]) => `${k} ${pct(v)}`).join(', ') || '-'
      lines.push(`  ${origin.padEnd(8)} ${String(o.requests).padStart(6)} req  ${regions}  errors ${pct(o.errors)}  429 ${pct(o.rateLimited)}  p50 ${ms(o.p50)}  p99 ${ms(o.p99)}  failovers ${o.failovers}`)
    }
  }
  if (r.faults.length > 0) lines.push('')
  for (const f of r.faults) {
    for (const [origin, s] of Object.entries(f.origins)) {
      if (!s.affected) continue
      lines.push(`fault ${f.name} (${f.effect} on ${f.regions.join(', ')}), origin ${origin}: time to shift ${secs(s.timeToShiftMs)}, time to recover ${f.end >= r.durationMs / 1000 - 0.01 ? 'n/a (active until the end)' : secs(s.timeToRecoverMs)}`)
    }
  }
  lines.push('')
  for (const [origin, g] of Object.entries(r.generator.origins)) lines.push(`generator ${origin}: offered ${g.asked === null ? 'closed loop' : `${g.asked}/s`}, achieved ${g.achieved}/s`)
  for (const w of r.generator.warnings) lines.push(`  ! ${w}`)
  if (r.expectations.length > 0) {
    lines.push('')
    for (const e of r.expectations) lines.push(`${e.met ? '✓' : '✗'} ${e.phase} ${e.origin}: ${e.what} (got ${e.actual})`)
  }
  lines.push('')
  lines.push(r.verdict.passed ? 'PASS' : `FAIL: ${r.verdict.reasons.join('; ')}`)
  return lines.join('\n') + '\n'
}

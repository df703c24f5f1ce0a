// Runs a scenario against a gateway: checks it against what the gateway knows, then per
// phase applies and clears the phase's faults through the HTTP API, switches the load, and
// waits; at the end (or on interruption) removes every fault it set. The result holds all
// that --json prints and the HTML report draws.
import { request } from 'undici'
import { FaultClient } from '../faults/client.js'
import { Generator } from './generator.js'
import { checkAgainstGateway, type Scenario } from './scenario.js'
import { meets, type Bound } from './bounds.js'
import { shiftOf, summarise, type FaultWindow, type OriginShift, type OriginSummary, type PhaseWindow } from './timeline.js'

export class RunError extends Error {}

export interface ExpectationResult { phase: string; origin: string; what: string; met: boolean; actual: string }

export interface ScenarioResult {
  scenario: { file: string; workspace: string; model: string; path: string; method: string; origins: readonly string[]; seed: number; text: string }
  url: string
  startedAt: string
  durationMs: number
  phases: Array<{ name: string; start: number; end: number; faults: string[]; origins: Record<string, OriginSummary> }>
  faults: Array<{ name: string; effect: string; start: number; end: number; regions: string[]; origins: Record<string, OriginShift> }>
  generator: { origins: Record<string, { asked: number | null; achieved: number; skipped: number }>; warnings: string[] }
  expectations: ExpectationResult[]
  verdict: { passed: boolean; exitCode: 0 | 1; reasons: string[] }
}

export interface RunOptions {
  baseUrl: string
  apiUrl: string
  apiKey: string | null
  /** Progress lines (stderr). */
  log: (line: string) => void
  /** Aborts the run (Ctrl-C): faults are cleared, the promise rejects with RunError. */
  signal: AbortSignal
}

/** What a scenario reads of the gateway's route explanation: each deployment's name, region and verdict. */
interface ExplainedDeployment { readonly name: string; readonly region: string; readonly verdict: string }

/** The deployments of an explanation the gateway answered (parsed JSON), checked; null when it is not one. */
function explainedDeployments (body: unknown): ExplainedDeployment[] | null {
  if (typeof body !== 'object' || body === null || !('deployments' in body) || !Array.isArray(body.deployments)) return null
  const list: unknown[] = body.deployments
  const out: ExplainedDeployment[] = []
  for (const d of list) {
    if (typeof d !== 'object' || d === null || !('name' in d) || !('region' in d) || !('verdict' in d)) return null
    const { name, region, verdict } = d
    if (typeof name !== 'string' || typeof region !== 'string' || typeof verdict !== 'string') return null
    out.push({ name, region, verdict })
  }
  return out
}

/** The `message` of an error body, or the start of the body as text. */
function messageOf (body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message
  return String(body).slice(0, 200)
}

const errorText = (err: unknown): string => err instanceof Error ? err.message : String(err)

async function explain (o: RunOptions, s: Scenario, origin: string): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (o.apiKey !== null) headers.authorization = `Bearer ${o.apiKey}`
  try {
    const res = await request(`${o.apiUrl}/routing/${encodeURIComponent(s.workspace)}/${encodeURIComponent(s.model)}?origin=${encodeURIComponent(origin)}`, { headers, headersTimeout: 10_000, bodyTimeout: 10_000 })
    const text = await res.body.text()
    let body: unknown = text
    try { body = JSON.parse(text) } catch {}
    return { status: res.statusCode, body }
  } catch (err) {
    throw new RunError(`the gateway at ${o.baseUrl} cannot be reached (${errorText(err)}); start it (npm start) or pass --url`)
  }
}

/** Asks the gateway for the model's regions and deployments, and whether each origin exists. */
async function preflight (o: RunOptions, s: Scenario): Promise<readonly ExplainedDeployment[]> {
  let first: ExplainedDeployment[] | null = null
  const badOrigins: string[] = []
  for (const origin of s.origins) {
    const r = await explain(o, s, origin)
    const message = messageOf(r.body)
    if (r.status === 400) { badOrigins.push(origin); continue }
    if (r.status === 401) throw new RunError(`the gateway refused the credential (401: ${message}); pass --api-key or set BL_API_KEY`)
    if (r.status !== 200) throw new RunError(`the gateway answered ${r.status} for ${s.workspace}/${s.model}: ${message}`)
    if (first === null) {
      first = explainedDeployments(r.body)
      if (first === null) throw new RunError(`the gateway's route explanation for ${s.workspace}/${s.model} has no deployments list: ${String(JSON.stringify(r.body)).slice(0, 200)}`)
    }
  }
  const deployments = first ?? []
  checkAgainstGateway(s, { regions: [...new Set(deployments.map(d => d.region))], deployments: deployments.map(d => d.name), badOrigins })
  return deployments
}

const sleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    function done (): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done)
  })
}

export async function runScenario (s: Scenario, o: RunOptions): Promise<ScenarioResult> {
  const deployments = await preflight(o, s)
  const regionOf = new Map(deployments.map(d => [d.name, d.region]))
  const faults = new FaultClient(o.apiUrl, o.apiKey)
  const ours = [...new Set(s.phases.flatMap(p => p.faults.map(f => f.name)))]
  const totalMs = s.phases.reduce((a, p) => a + p.durationMs, 0)
  const headers: Record<string, string> = {}
  if (s.body !== null) headers['content-type'] = 'application/json'
  if (o.apiKey !== null) headers['x-blaxel-authorization'] = `Bearer ${o.apiKey}`
  const gen = new Generator({
    baseUrl: o.baseUrl,
    path: `/${encodeURIComponent(s.workspace)}/models/${encodeURIComponent(s.model)}${s.path}`,
    method: s.method,
    headers,
    body: s.body,
    origins: s.origins,
    timeoutMs: s.timeoutMs,
    maxRate: Math.max(s.rate ?? 0, ...s.phases.map(p => p.rate ?? 0)),
    maxConnections: Math.max(s.connections ?? 0, ...s.phases.map(p => p.connections ?? 0))
  })
  const phases: PhaseWindow[] = []
  const faultWindows: FaultWindow[] = []
  const ejections = new Map<number, number>()
  const open = new Map<string, FaultWindow>()
  const startedAt = new Date().toISOString()
  // What is out of rotation, once a second (explain reads the routing state without changing it).
  const poller = setInterval(() => {
    const sec = Math.floor(gen.now() / 1000)
    const origin = s.origins[0]
    if (origin === undefined) return
    explain(o, s, origin).then(r => {
      const now = r.status === 200 ? explainedDeployments(r.body) : null
      if (now !== null) ejections.set(sec, now.filter(d => d.verdict === 'ejected' || d.verdict === 'unhealthy').length)
    }, () => {})
  }, 1000)
  try {
    if (ours.length > 0) await faults.clear(ours).catch(() => [])
    for (const [i, p] of s.phases.entries()) {
      if (o.signal.aborted) break
      const wanted = new Set(p.faults.map(f => f.name))
      const gone = [...open.keys()].filter(n => !wanted.has(n))
      if (gone.length > 0) {
        await faults.clear(gone)
        for (const n of gone) {
          const w = open.get(n)
          if (w !== undefined) w.endMs = gen.now()
          open.delete(n)
        }
      }
      const left = s.phases.slice(i).reduce((a, x) => a + x.durationMs, 0)
      for (const f of p.faults) {
        if (open.has(f.name)) continue
        // A ttl so a run killed without Ctrl-C cannot leave its faults behind for long.
        // Scoped to the scenario's workspace unless it names one: a rehearsal does not take
        // down other teams' traffic (nor need their admin role).
        const view = await faults.put(f.name, { workspace: s.workspace, ...f.body, ttl: Math.ceil(left / 1000) + 30 })
        const prefix = `${s.workspace}/${s.model}/`
        const regions = [...new Set(view.deployments.filter(id => id.startsWith(prefix)).map(id => regionOf.get(id.slice(prefix.length))).filter((r): r is string => r !== undefined))]
        const w: FaultWindow = { name: f.name, effect: f.body.effect, startMs: gen.now(), endMs: Number.POSITIVE_INFINITY, regions }
        open.set(f.name, w)
        faultWindows.push(w)
      }
      // A phase starts once its faults are in force; the previous one ends there.
      const startMs = gen.now()
      const prev = phases[phases.length - 1]
      if (prev !== undefined) prev.endMs = startMs
      o.log(`phase ${p.name} (${p.durationMs / 1000}s)${p.faults.length === 0 ? '' : `: faults ${p.faults.map(f => f.name).join(', ')}`}`)
      gen.setLoad({ rate: p.rate ?? (p.connections === null ? s.rate : null), connections: p.connections ?? (p.rate === null && s.rate === null ? s.connections : null) })
      await sleep(Math.max(0, p.durationMs - (gen.now() - startMs)), o.signal)
      phases.push({ name: p.name, startMs, endMs: gen.now(), faults: p.faults.map(f => f.name) })
    }
  } finally {
    clearInterval(poller)
    const end = gen.now()
    for (const w of open.values()) w.endMs = end
    const t = performance.now()
    await gen.stop(Math.min(s.timeoutMs, 10_000))
    o.log(`stopped in ${Math.round(performance.now() - t)} ms`)
    if (ours.length > 0) {
      try { await faults.clear(ours) } catch (err) { o.log(`could not clear the scenario's faults (${errorText(err)}); they expire by themselves (ttl)`) }
    }
  }
  if (o.signal.aborted) throw new RunError('interrupted; the scenario\'s faults were cleared')
  return assemble(s, o, gen, phases, faultWindows, ejections, startedAt, totalMs)
}

function assemble (s: Scenario, o: RunOptions, gen: Generator, phases: PhaseWindow[], faultWindows: FaultWindow[], ejections: Map<number, number>, startedAt: string, totalMs: number): ScenarioResult {
  const byOrigin = s.origins.map((_o, i) => gen.samples.filter(x => x.origin === i).sort((a, b) => a.t - b.t))
  const runEnd = phases[phases.length - 1]?.endMs ?? 0
  const ejectedAt = (sec: number): number => ejections.get(sec) ?? 0
  const result: ScenarioResult = {
    scenario: { file: s.file, workspace: s.workspace, model: s.model, path: s.path, method: s.method, origins: s.origins, seed: s.seed, text: s.text },
    url: o.baseUrl,
    startedAt,
    durationMs: Math.round(runEnd),
    phases: phases.map(p => ({
      name: p.name,
      start: Math.round(p.startMs) / 1000,
      end: Math.round(p.endMs) / 1000,
      faults: p.faults,
      origins: Object.fromEntries(s.origins.map((origin, i) => [origin, summarise(byOrigin[i] ?? [], p.startMs, p.endMs, ejectedAt)]))
    })),
    faults: faultWindows.map(w => ({
      name: w.name,
      effect: w.effect,
      start: Math.round(w.startMs) / 1000,
      end: Math.round(w.endMs) / 1000,
      regions: w.regions,
      origins: Object.fromEntries(s.origins.map((origin, i) => [origin, shiftOf(byOrigin[i] ?? [], w, runEnd)]))
    })),
    generator: { origins: {}, warnings: [] },
    expectations: [],
    verdict: { passed: true, exitCode: 0, reasons: [] }
  }
  s.origins.forEach((origin, i) => {
    const asked = s.phases.every(p => (p.rate ?? s.rate) !== null && p.connections === null) ? s.phases.reduce((a, p) => a + (p.rate ?? s.rate ?? 0) * p.durationMs, 0) / Math.max(1, totalMs) : null
    const skipped = gen.skipped[i] ?? 0
    const achieved = runEnd === 0 ? 0 : (gen.sent[i] ?? 0) / (runEnd / 1000)
    result.generator.origins[origin] = { asked: asked === null ? null : Math.round(asked * 10) / 10, achieved: Math.round(achieved * 10) / 10, skipped }
    if (asked !== null && achieved < asked * 0.95) result.generator.warnings.push(`origin ${origin}: offered ${Math.round(asked)}/s, achieved ${Math.round(achieved)}/s (${skipped} sends skipped: too many requests in flight)`)
  })
  result.expectations = checkPhases(s, result)
  const reasons: string[] = []
  const all = gen.samples
  const ok = all.filter(x => x.status >= 200 && x.status < 400 && !x.broken).length
  if (all.length === 0) reasons.push('no request was sent')
  else if (ok === 0) {
    const counts = new Map<string, number>()
    for (const x of all) counts.set(x.status === 0 ? 'no answer' : String(x.status), (counts.get(x.status === 0 ? 'no answer' : String(x.status)) ?? 0) + 1)
    reasons.push(`every request failed: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`).join(', ')}`)
  }
  const missed = result.expectations.filter(e => !e.met)
  if (missed.length > 0) reasons.push(`${missed.length} expectation(s) not met`)
  result.verdict = { passed: reasons.length === 0, exitCode: reasons.length === 0 ? 0 : 1, reasons }
  return result
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

function checkPhases (s: Scenario, r: ScenarioResult): ExpectationResult[] {
  const out: ExpectationResult[] = []
  for (const [phaseName, byOrigin] of s.expect) {
    const phase = r.phases.find(p => p.name === phaseName)
    for (const [key, e] of byOrigin) {
      for (const origin of key === '*' ? s.origins.filter(x => !byOrigin.has(x)) : [key]) {
        const sum = phase?.origins[origin]
        const add = (what: string, b: Bound, actual: number | null, show: (x: number) => string): void => {
          out.push({ phase: phaseName, origin, what: `${what} ${b.text}`, met: actual !== null && meets(b, actual), actual: actual === null ? 'none' : show(actual) })
        }
        if (sum === undefined || sum.requests === 0) {
          out.push({ phase: phaseName, origin, what: 'requests > 0', met: false, actual: phase === undefined ? 'phase not run' : '0 requests' })
          continue
        }
        for (const [region, b] of Object.entries(e.regions)) add(`${region} share`, b, sum.regions[region] ?? 0, pct)
        if (e.errors !== null) add('errors', e.errors, sum.errors, pct)
        if (e.rateLimited !== null) add('rateLimited', e.rateLimited, sum.rateLimited, pct)
        if (e.p99 !== null) add('p99', e.p99, sum.p99, x => `${x} ms`)
        if (e.timeToShift !== null) {
          const starting = r.faults.filter(f => phase !== undefined && f.start >= phase.start - 0.001 && f.start < phase.end)
          const shifts = starting.map(f => f.origins[origin]).filter((x): x is OriginShift => x?.affected === true)
          if (shifts.length === 0) {
            if (key !== '*') out.push({ phase: phaseName, origin, what: `timeToShift ${e.timeToShift.text}`, met: false, actual: 'no fault starting in this phase affects this origin' })
            continue
          }
          const times = shifts.map(x => x.timeToShiftMs)
          const worst = times.every(x => x !== null) ? Math.max(...times) : null
          add('timeToShift', e.timeToShift, worst, x => `${x} ms`)
        }
      }
    }
  }
  return out
}

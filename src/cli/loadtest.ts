// `agnet loadtest <model>`: load from one or several simulated origins against a model, a
// progress line while it runs, then per origin the share of traffic per region, latency
// percentiles, 429s and errors. With --expect, exits 1 when shares or error rates are off:
// this is how a routing policy is tested before it ships.
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { runLoadtest, type OriginResult, type Progress } from '../loadtest/run.js'
import { checkExpectations, loadExpectations, type ExpectationsInput } from '../loadtest/expect.js'
import { parseHeader, resolveTarget } from './run.js'
import { scenarioCommand } from './loadtest-scenario.js'
import { DEFAULTS } from '../config/default-values.js'
import { errorMessage } from '../config/parsed.js'

interface LoadtestFlags {
  workspace: string
  path: string
  origin: string[]
  duration: string
  connections: string
  amount?: string
  rate?: string
  timeout: string
  method: string
  header: string[]
  data?: string
  bodyFile?: string
  url?: string
  apiKey?: string
  expect?: string
  json?: boolean
  scenario?: string
  report?: string
}

const DEFAULT_BODY = JSON.stringify({ model: 'agnet-loadtest', max_tokens: 16, messages: [{ role: 'user', content: 'Hello from agnet loadtest' }] })

function collect (value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map(v => v.trim()).filter(v => v !== '')]
}

function positive (name: string, v: string, integer = true): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'} (got "${v}")`)
  return n
}

class UsageError extends Error {}

const pct = (part: number, whole: number): string => whole === 0 ? '0.0%' : `${((part / whole) * 100).toFixed(1)}%`
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`

/** The human report: one block per origin. */
export function formatReport (results: readonly OriginResult[]): string {
  const lines: string[] = []
  for (const r of results) {
    lines.push(`origin ${r.origin}: ${r.completed} responses in ${r.durationS.toFixed(1)} s (${r.requestsPerSecond.toFixed(0)} req/s)`)
    const width = Math.max(8, ...Object.keys(r.regions).map(k => k.length))
    for (const [region, n] of Object.entries(r.regions)) lines.push(`  ${region.padEnd(width)}  ${pct(n, r.completed).padStart(6)}  ${n}`)
    lines.push(`  latency   p50 ${ms(r.latencyMs.p50)}   p99 ${ms(r.latencyMs.p99)}   max ${ms(r.latencyMs.max)}`)
    const errors = r.transportErrors + r.status4xx + r.status5xx
    lines.push(`  429s      ${r.status429} (${pct(r.status429, r.completed)})`)
    lines.push(`  errors    ${errors} (${pct(errors, r.completed + r.transportErrors)}): ${r.status5xx} 5xx, ${r.status4xx} 4xx, ${r.transportErrors} without an answer${r.timeouts > 0 ? ` (${r.timeouts} timeouts)` : ''}`)
    const codes = Object.entries(r.statuses).filter(([c]) => !c.startsWith('2'))
    if (codes.length > 0) lines.push(`  statuses  ${codes.map(([c, n]) => `${n}×${c}`).join(', ')}`)
  }
  return lines.join('\n') + '\n'
}

/** One progress line a second on stderr: rewritten in place on a terminal, appended otherwise. */
function writeProgress (p: Progress): void {
  const parts = [...p.byOrigin].map(([o, n]) => `${o} ${n}`).join(', ')
  const line = `[${p.elapsedS.toFixed(0)}s] ${p.requests} responses (${parts})`
  process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`)
}

export function registerLoadtest (program: Command): void {
  program.command('loadtest [model]')
    .description('Load-test a model from simulated origins; report region shares, latency, 429s and errors (exit 1 when --expect is not met). With --scenario, run phases with network faults and expectations per phase.')
    .option('--scenario <file>', 'YAML scenario: phases, faults and expectations (see config/scenarios/)')
    .option('--report <file.html>', 'with --scenario: write a self-contained HTML report')
    .option('-w, --workspace <workspace>', 'workspace (env BL_WORKSPACE)', process.env.BL_WORKSPACE ?? 'demo')
    .option('--path <sub-path>', 'sub-path after the model', '/v1/chat/completions')
    .option('-o, --origin <origin>', 'simulated origin: region or country code; repeat or comma-separate for several', collect, [])
    .option('-d, --duration <seconds>', 'length of the run', '10')
    .option('-c, --connections <n>', 'concurrent connections per origin', '10')
    .option('-a, --amount <n>', 'requests per origin instead of a duration')
    .option('-r, --rate <n>', 'requests per second per origin (default: as fast as answered)')
    .option('--timeout <seconds>', 'a request without an answer by then is an error', '30')
    .option('-X, --method <method>', 'HTTP method', 'POST')
    .option('-H, --header <header>', "extra header 'Key: Value' (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .option('--data <json>', 'request body (default: a short chat completion)')
    .option('--body-file <file>', 'request body from a file')
    .option('--url <url>', `gateway base URL (env AGNET_URL; default http://localhost:$AGNET_PORT or ${DEFAULTS.server.port})`)
    .option('--api-key <key>', 'credential sent as X-Blaxel-Authorization (env BL_API_KEY, then AGNET_API_KEY)')
    .option('--expect <file>', 'YAML expectations: per origin, region shares and error/429 rates')
    .option('--json', 'print the results as JSON')
    .action(async (model: string | undefined, o: LoadtestFlags) => {
      try {
        if (o.scenario !== undefined) {
          if (model !== undefined) throw new UsageError('with --scenario the model comes from the scenario file; drop the model argument')
          process.exitCode = await scenarioCommand({ scenario: o.scenario, url: o.url, apiKey: o.apiKey, json: o.json, report: o.report }, process.env, s => { process.stdout.write(s) }, s => { process.stderr.write(s) })
          return
        }
        if (o.report !== undefined) throw new UsageError('--report needs --scenario')
        if (model === undefined) throw new UsageError('name the model to load-test, or pass --scenario FILE')
        process.exitCode = await loadtest(model, o)
      } catch (err) {
        if (!(err instanceof UsageError)) throw err
        process.stderr.write(`agnet loadtest: ${err.message}\n`)
        process.exitCode = 2
      }
    })
}

async function loadtest (model: string, o: LoadtestFlags): Promise<number> {
  let expectations: ExpectationsInput | null = null
  if (o.expect !== undefined) {
    try { expectations = loadExpectations(o.expect) } catch (err) { throw new UsageError(errorMessage(err)) }
  }
  if (o.data !== undefined && o.bodyFile !== undefined) throw new UsageError('use --data or --body-file, not both')
  let body: string | undefined = o.data
  if (o.bodyFile !== undefined) {
    try { body = readFileSync(o.bodyFile, 'utf8') } catch (err) { throw new UsageError(`cannot read --body-file: ${errorMessage(err)}`) }
  }
  const method = o.method.toUpperCase()
  if (body === undefined && method !== 'GET' && method !== 'HEAD') body = DEFAULT_BODY
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  for (const h of o.header) {
    try {
      const [k, v] = parseHeader(h)
      headers[k.toLowerCase()] = v
    } catch (err) { throw new UsageError(errorMessage(err)) }
  }
  const apiKey = o.apiKey ?? process.env.BL_API_KEY ?? process.env.AGNET_API_KEY
  if (apiKey !== undefined && apiKey !== '') headers['x-blaxel-authorization'] = `Bearer ${apiKey}`
  const { runUrl } = resolveTarget({ url: o.url }, process.env)
  const path = o.path === '' ? '' : (o.path.startsWith('/') ? o.path : `/${o.path}`)
  const url = `${runUrl}/${encodeURIComponent(o.workspace)}/models/${encodeURIComponent(model)}${path}`

  const running = runLoadtest({
    url,
    method,
    headers,
    body,
    origins: o.origin,
    connections: positive('connections', o.connections),
    durationS: positive('duration', o.duration, false),
    amount: o.amount === undefined ? undefined : positive('amount', o.amount),
    rate: o.rate === undefined ? undefined : positive('rate', o.rate, false),
    timeoutS: positive('timeout', o.timeout, false)
  })
  const onInt = (): void => { running.stop() }
  process.once('SIGINT', onInt)
  const ticker = setInterval(() => { writeProgress(running.progress()) }, 1000)
  let results: OriginResult[]
  try { results = await running.done } finally {
    clearInterval(ticker)
    process.off('SIGINT', onInt)
  }
  if (process.stderr.isTTY) process.stderr.write('\n')

  const misses = expectations === null ? [] : checkExpectations(expectations, results)
  // A run in which nothing succeeded (a wrong key, a dead gateway) never passes.
  if (results.every(r => r.status2xx === 0)) {
    const statuses = results.flatMap(r => Object.entries(r.statuses).map(([c, n]) => `${n} × ${c}`).concat(r.transportErrors > 0 ? [`${r.transportErrors} without an answer`] : []))
    misses.push(`every request failed${statuses.length === 0 ? '' : `: ${statuses.join(', ')}`}`)
  }
  if (o.json === true) {
    process.stdout.write(JSON.stringify({ url, results, expectations: expectations === null && misses.length === 0 ? null : { met: misses.length === 0, misses } }, null, 2) + '\n')
  } else {
    process.stdout.write(`${method} ${url}\n`)
    process.stdout.write(formatReport(results))
    if (expectations !== null || misses.length > 0) {
      process.stdout.write(misses.length === 0 ? 'expectations: all met\n' : `expectations: ${misses.length} not met\n${misses.map(m => `  ✗ ${m}`).join('\n')}\n`)
    }
  }
  return misses.length === 0 ? 0 : 1
}

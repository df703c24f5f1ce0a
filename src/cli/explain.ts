// `agnet explain <workspace> <model> [--origin X]`: asks a running gateway how it would route
// a request from an origin right now (GET /v0/routing/{ws}/{model}?origin=) and prints every
// deployment with its verdict and reason, and the one that would be chosen.
import type { Command } from 'commander'
import { request } from 'undici'
import { resolveTarget } from './run.js'
import type { RouteExplanation } from '../routing/explain.js'
import { DEFAULTS } from '../config/default-values.js'
import { valueAt } from '../config/parsed.js'

export interface ExplainFlags {
  origin?: string
  url?: string
  apiKey?: string
  json?: boolean
}

function table (rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_c, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join('  ')).join('\n')
}

export function renderExplanation (e: RouteExplanation): string {
  const lines: string[] = []
  lines.push(`${e.workspace}/${e.model} from ${e.origin.name} (${e.origin.kind}, ${e.origin.country}, ${e.origin.continent}); strategy ${e.strategy}; policies: ${e.policies.length === 0 ? 'none' : e.policies.join(', ')}`)
  lines.push(e.chosen === null ? `no deployment would be chosen: ${e.error?.code ?? ''} ${e.error?.message ?? ''}` : `would be served by ${e.chosen}; failover order ${e.order.join(' → ')} (at most ${e.maxAttempts} attempts within ${e.budgetMs} ms)`)
  lines.push('')
  const rows = [['#', 'DEPLOYMENT', 'REGION', 'VERDICT', 'RTT', 'TTFB', 'EXPECTED', 'REASON']]
  for (const d of e.deployments) {
    rows.push([
      d.rank === null ? '-' : String(d.rank), d.name, d.region, d.verdict.toUpperCase(),
      `${d.rttMs}ms`, d.ttfbMs === null ? '-' : `${d.ttfbMs}ms`, d.expectedMs === null ? '-' : `${d.expectedMs}ms`, (d.faults ?? []).length === 0 ? d.reason : `${d.reason}; FAULT ${d.faults.join(', ')}`
    ])
  }
  lines.push(table(rows))
  for (const f of e.faults ?? []) lines.push(`INJECTED FAULT ${f.name} (${f.effect}) on ${f.deployments.join(', ')}: simulated by agnet, not a real failure`)
  return lines.join('\n') + '\n'
}

/** Runs the verb; returns the exit code (0 when a deployment would be chosen). */
export async function explainCommand (workspace: string, model: string, flags: ExplainFlags, env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  const { apiUrl } = resolveTarget({ url: flags.url }, env)
  const query = flags.origin === undefined ? '' : `?origin=${encodeURIComponent(flags.origin)}`
  const headers: Record<string, string> = { accept: 'application/json' }
  const key = flags.apiKey ?? env.BL_API_KEY ?? env.AGNET_API_KEY
  if (key !== undefined && key !== '') headers.authorization = `Bearer ${key}`
  const res = await request(`${apiUrl}/routing/${encodeURIComponent(workspace)}/${encodeURIComponent(model)}${query}`, { method: 'GET', headers })
  const text = await res.body.text()
  if (res.statusCode !== 200) {
    let message = text
    try {
      const parsed = valueAt(JSON.parse(text), 'message')
      if (typeof parsed === 'string') message = parsed
    } catch {}
    out(`agnet explain: ${res.statusCode} ${message}\n`)
    return 1
  }
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- the gateway's own /routing answer, which it serialises from a RouteExplanation
  const e = JSON.parse(text) as RouteExplanation
  out(flags.json === true ? JSON.stringify(e, null, 2) + '\n' : renderExplanation(e))
  return e.chosen === null ? 2 : 0
}

export function registerExplain (program: Command): void {
  program.command('explain')
    .description('Show how a running gateway would route a request for a model: every deployment with its verdict and reason, and the one chosen.')
    .argument('<workspace>', 'workspace name')
    .argument('<model>', 'model name')
    .option('--origin <origin>', 'where the caller stands: a region (eu-fra-1) or an ISO country code (DE); default: the gateway\'s region')
    .option('--url <url>', `gateway base URL (default: AGNET_URL, else http://localhost:$AGNET_PORT or ${DEFAULTS.server.port})`)
    .option('--api-key <key>', 'credential (default: BL_API_KEY, then AGNET_API_KEY)')
    .option('--json', 'print the JSON answer')
    .action(async (workspace: string, model: string, flags: ExplainFlags) => {
      process.exitCode = await explainCommand(workspace, model, flags, process.env, s => { process.stdout.write(s) })
    })
}

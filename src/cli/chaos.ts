// `agnet chaos add|list|clear`: network faults on a running gateway, over its HTTP API
// (/v0/network/faults), so the same commands work against a container or a remote gateway.
import type { Command } from 'commander'
import { resolveTarget } from './run.js'
import { FaultApiError, FaultClient } from '../faults/client.js'
import { FAULT_EFFECTS, type FaultBodyInput } from '../core/faults.js'
import { readFaultBody } from '../faults/validate.js'
import { DEFAULTS } from '../config/default-values.js'
import { errorMessage } from '../config/parsed.js'

interface Common { url?: string; apiKey?: string }
interface AddFlags extends Common {
  effect: string
  region?: string
  deployment?: string
  workspace?: string
  model?: string
  status?: string
  retryAfter?: string
  ms?: string
  jitter?: string
  afterBytes?: string
  rate?: string
  seed?: string
  ttl?: string
}

function client (flags: Common, env: NodeJS.ProcessEnv): FaultClient {
  const { apiUrl } = resolveTarget({ url: flags.url }, env)
  return new FaultClient(apiUrl, flags.apiKey ?? env.BL_API_KEY ?? env.AGNET_API_KEY ?? null)
}

const NUMERIC = [['status', 'status'], ['retryAfter', 'retry-after'], ['ms', 'ms'], ['jitter', 'jitter'], ['afterBytes', 'after-bytes'], ['rate', 'rate'], ['seed', 'seed'], ['ttl', 'ttl']] as const

/** Flags → a fault body; throws with the flag's name when a value is not a number. */
export function faultFromFlags (f: AddFlags): FaultBodyInput {
  const body: Record<string, unknown> = { effect: f.effect }
  for (const k of ['region', 'deployment', 'workspace', 'model'] as const) if (f[k] !== undefined) body[k] = f[k]
  for (const [k, flag] of NUMERIC) {
    const v = f[k]
    if (v === undefined) continue
    const n = Number(v)
    if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${flag} must be a number (got "${v}")`)
    body[k] = n
  }
  const read = readFaultBody(body)
  if (read.body === null) throw new Error(`--${read.problem.field.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}: ${read.problem.message}`)
  return read.body
}

async function run (fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    process.stderr.write(`agnet chaos: ${errorMessage(err)}\n`)
    process.exitCode = err instanceof FaultApiError ? 1 : 2
  }
}

export function registerChaos (program: Command): void {
  const chaos = program.command('chaos').description('Inject network faults between a running gateway and its deployments (down, reset, status, latency, stall, cut, ratelimit, errors).')
  const common = (c: Command): Command => c
    .option('--url <url>', `gateway base URL (default: AGNET_URL, else http://localhost:$AGNET_PORT or ${DEFAULTS.server.port})`)
    .option('--api-key <key>', 'an admin credential (default: BL_API_KEY, then AGNET_API_KEY)')

  common(chaos.command('add <name>')
    .description('Add or replace a fault; target with at least one of --region, --deployment, --workspace, --model.')
    .requiredOption('-e, --effect <effect>', FAULT_EFFECTS.join(' | '))
    .option('--region <region>', 'deployments in this region')
    .option('--deployment <name>', 'deployments with this name')
    .option('--workspace <ws>', 'deployments of this workspace')
    .option('--model <model>', 'deployments of this model')
    .option('--status <code>', 'status answered (effect status; default 503)')
    .option('--retry-after <s>', 'Retry-After seconds (status, ratelimit)')
    .option('--ms <ms>', 'added delay (latency)')
    .option('--jitter <ms>', 'delay varies by up to this much (latency)')
    .option('--after-bytes <n>', 'bytes relayed before the break (cut)')
    .option('--rate <fraction>', 'fraction of attempts affected, 0..1 (default 1)')
    .option('--seed <n>', 'seed of the fraction draws')
    .option('--ttl <s>', 'remove the fault by itself after this many seconds'))
    .action(async (name: string, f: AddFlags) => {
      await run(async () => {
        const body = faultFromFlags(f)
        const view = await client(f, process.env).put(name, body)
        process.stdout.write(`fault ${view.name} (${body.effect}) on ${view.deployments.length} deployment(s): ${view.deployments.join(', ')}\n`)
      })
    })

  common(chaos.command('list').description('List the faults in force.').option('--json', 'print JSON'))
    .action(async (f: Common & { json?: boolean }) => {
      await run(async () => {
        const list = await client(f, process.env).list()
        if (f.json === true) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return }
        if (list.length === 0) { process.stdout.write('no fault in force\n'); return }
        for (const v of list) {
          const { name: _n, effect, ...rest } = v.spec
          process.stdout.write(`${v.name}  ${effect}  ${JSON.stringify(rest)}  source=${v.source}${v.expiresAt === null ? '' : ` expires=${v.expiresAt}`}  on ${v.deployments.join(', ')}\n`)
        }
      })
    })

  common(chaos.command('clear [names...]').description('Remove the named run-time faults, or all of them.'))
    .action(async (names: string[], f: Common) => {
      await run(async () => {
        const deleted = await client(f, process.env).clear(names.length === 0 ? null : names)
        process.stdout.write(deleted.length === 0 ? 'nothing to clear\n' : `cleared ${deleted.join(', ')}\n`)
      })
    })
}

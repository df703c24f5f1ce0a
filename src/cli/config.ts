import { resolve } from 'node:path'
import type { Command } from 'commander'
import { formatProblem } from '../config/load.js'
import { checkConfig } from '../config/check.js'
import { DEFAULT_CONFIG_PATH } from '../config/store.js'
import { Config } from '../config/schema.js'

/** What `agnet serve` generates for the embedded demo when unset; a check must not ask for them. */
const DEMO_VARIABLES = ['AGNET_DEMO_KEY', 'AGNET_DEMO_CLIENT_ID', 'AGNET_DEMO_CLIENT_SECRET']

export function registerConfig (program: Command): void {
  const config = program.command('config').description('Check configs and print the schema.')
  config.command('check [path]')
    .description('Validate a config file or folder (default: AGNET_CONFIG, else the embedded demo); prints every problem and warning at once and exits 1 when there is a problem.')
    .option('--json', 'print {ok, problems, warnings, summary} as JSON')
    .action(async (path: string | undefined, o: { json?: boolean }) => {
      const target = path ?? (process.env.AGNET_CONFIG === undefined || process.env.AGNET_CONFIG === '' ? DEFAULT_CONFIG_PATH : process.env.AGNET_CONFIG)
      const env = { ...process.env }
      if (resolve(target) === DEFAULT_CONFIG_PATH) {
        for (const v of DEMO_VARIABLES) if (env[v] === undefined || env[v] === '') env[v] = `generated-by-agnet-serve-${v.toLowerCase()}`
      }
      const result = await checkConfig(target, env)
      process.exitCode = result.ok ? 0 : 1
      if (o.json === true) {
        process.stdout.write(JSON.stringify({ path: resolve(target), ...result }, null, 2) + '\n')
        return
      }
      if (result.ok && result.summary !== null) {
        const s = result.summary
        process.stdout.write(`ok: ${s.workspaces} workspace(s), ${s.models} model(s), ${s.deployments} deployment(s) in ${s.files} file(s)\n`)
      } else {
        process.stderr.write(`${result.problems.length} problem(s):\n${result.problems.map(p => `  ${formatProblem(p)}`).join('\n')}\n`)
      }
      if (result.warnings.length > 0) {
        process.stderr.write(`${result.warnings.length} warning(s):\n${result.warnings.map(w => `  ${formatProblem(w)}`).join('\n')}\n`)
      }
    })
  config.command('schema')
    .description('Print the JSON Schema of the config.')
    .action(() => {
      process.stdout.write(JSON.stringify({ $schema: 'https://json-schema.org/draft/2019-09/schema', $id: 'https://agnet.local/schema/agnet.schema.json', title: 'agnet configuration', ...Config }, null, 2) + '\n')
    })
}

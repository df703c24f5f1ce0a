import { resolve } from 'node:path'
import type { Command } from 'commander'
import { serve } from '../server.js'
import { ConfigError, formatProblem } from '../config/load.js'
import { DEFAULTS } from '../config/default-values.js'

/** --port / AGNET_PORT: a TCP port number, or undefined when not given. */
export function portOf (v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port "${v}"`)
  return n
}

/** AGNET_DEMO_ENV_FILE: where the demo's shell file goes (default .agnet/demo.env here; "off": nowhere). */
export function demoEnvFileOf (v: string | undefined): string | null {
  if (v === 'off') return null
  return resolve(v === undefined || v === '' ? '.agnet/demo.env' : v)
}

export function registerServe (program: Command): void {
  program.command('serve', { isDefault: true })
    .description('Serve the gateway (the embedded demo config when none is given).')
    .option('-c, --config <path>', 'config file or folder (env AGNET_CONFIG)')
    .option('-p, --port <port>', `listening port (env AGNET_PORT; default ${DEFAULTS.server.port})`)
    .option('--host <host>', 'listening address (env AGNET_HOST)')
    .option('--no-watch', 'do not watch the config files')
    .action(async (o: { config?: string; port?: string; host?: string; watch: boolean }) => {
      try {
        await serve({
          config: o.config ?? (process.env.AGNET_CONFIG === '' ? undefined : process.env.AGNET_CONFIG),
          port: portOf(o.port ?? process.env.AGNET_PORT),
          host: o.host ?? process.env.AGNET_HOST,
          watch: o.watch,
          demoEnvFile: demoEnvFileOf(process.env.AGNET_DEMO_ENV_FILE)
        })
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`agnet: the config is invalid:\n${err.problems.map(p => `  ${formatProblem(p)}`).join('\n')}\n`)
          process.exit(2)
        }
        throw err
      }
    })
}

import type { Command } from 'commander'
import { request } from 'undici'
import { DEFAULTS } from '../config/default-values.js'
import { errorMessage } from '../config/parsed.js'

/** Where `agnet serve` listens with the same environment; a wildcard address is asked on loopback. */
export function defaultUrl (env: NodeJS.ProcessEnv): string {
  const host = env.AGNET_HOST === undefined || env.AGNET_HOST === '' || env.AGNET_HOST === '0.0.0.0' || env.AGNET_HOST === '::' ? '127.0.0.1' : env.AGNET_HOST
  const port = env.AGNET_PORT === undefined || env.AGNET_PORT === '' ? String(DEFAULTS.server.port) : env.AGNET_PORT
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

export function registerHealthcheck (program: Command): void {
  program.command('healthcheck')
    .description('Exit 0 when the gateway answers /readyz (container HEALTHCHECK).')
    .option('--url <url>', 'gateway base URL (default: AGNET_HOST and AGNET_PORT as `agnet serve` reads them)', defaultUrl(process.env))
    .option('--timeout <ms>', 'give up after', '3000')
    .action(async (o: { url: string; timeout: string }) => {
      try {
        const res = await request(`${o.url.replace(/\/$/, '')}/readyz`, { headersTimeout: Number(o.timeout), bodyTimeout: Number(o.timeout) })
        await res.body.text()
        if (res.statusCode !== 200) { process.stderr.write(`not ready: ${res.statusCode}\n`); process.exitCode = 1 }
      } catch (err) {
        process.stderr.write(`unreachable: ${errorMessage(err)}\n`)
        process.exitCode = 1
      }
    })
}

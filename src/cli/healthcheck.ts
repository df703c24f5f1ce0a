import type { Command } from 'commander'
import { request } from 'undici'

export function registerHealthcheck (program: Command): void {
  program.command('healthcheck')
    .description('Exit 0 when the gateway answers /readyz (container HEALTHCHECK).')
    .option('--url <url>', 'gateway base URL', `http://127.0.0.1:${process.env.AGNET_PORT ?? '8080'}`)
    .option('--timeout <ms>', 'give up after', '3000')
    .action(async (o: { url: string; timeout: string }) => {
      try {
        const res = await request(`${o.url.replace(/\/$/, '')}/readyz`, { headersTimeout: Number(o.timeout), bodyTimeout: Number(o.timeout) })
        await res.body.text()
        if (res.statusCode !== 200) { process.stderr.write(`not ready: ${res.statusCode}\n`); process.exitCode = 1 }
      } catch (err) {
        process.stderr.write(`unreachable: ${(err as Error).message}\n`)
        process.exitCode = 1
      }
    })
}

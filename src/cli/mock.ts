import type { Command } from 'commander'
import type { MockServer } from '../mock/index.js'
import { startMockServer } from '../mock/index.js'
import { DEFAULTS } from '../config/default-values.js'

export function registerMock (program: Command): void {
  program.command('mock')
    .description('Run mock providers (OpenAI, Anthropic, Gemini, Cohere), one server per region.')
    .option('--regions <list>', 'comma-separated regions', DEFAULTS.regions.map(r => r.name).join(','))
    .option('-p, --port <port>', 'port of the first region; the others follow (0 = any)', '9100')
    .option('--host <host>', 'listening address', '127.0.0.1')
    .option('--latency <ms>', 'delay before response headers', '0')
    .option('--ttft <ms>', 'delay before the first streamed event', '0')
    .option('--tps <n>', 'streamed tokens per second (0 = no delay)', '0')
    .option('--answer-words <n>', 'words in an answer before the request\'s max tokens cut it', '16')
    .option('--error-rate <p>', 'probability of a 500', '0')
    .option('--rate-limit-rate <p>', 'probability of a 429', '0')
    .option('--seed <n>', 'seed of the error and 429 draws')
    .action(async (o: Record<string, string>) => {
      const regions = (o.regions ?? '').split(',').map(s => s.trim()).filter(Boolean)
      const base = Number(o.port)
      const servers: MockServer[] = []
      for (const [i, region] of regions.entries()) {
        const s = await startMockServer({
          region,
          host: o.host,
          port: base === 0 ? 0 : base + i,
          latencyMs: Number(o.latency),
          ttftMs: Number(o.ttft),
          tokensPerSecond: Number(o.tps),
          answerWords: Number(o.answerWords),
          errorRate: Number(o.errorRate),
          rateLimitRate: Number(o.rateLimitRate),
          seed: o.seed === undefined ? undefined : Number(o.seed)
        })
        servers.push(s)
        process.stdout.write(`mock ${region} on ${s.url}\n`)
      }
      const stop = (): void => { Promise.all(servers.map(async s => { await s.close() })).finally(() => process.exit(0)) }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
}

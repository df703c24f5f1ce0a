// The process around the app: config loading, the in-process mock fleet, listen, signals
// (SIGTERM/SIGINT drain, SIGHUP reload) and the file watch.
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { ConfigStore, DEFAULT_CONFIG_PATH } from './config/store.js'
import { ConfigError, formatProblem } from './config/load.js'
import { buildApp, type App } from './app.js'
import { createLogger } from './observability/logger.js'
import { startMockServer, type MockServer } from './mock/index.js'
import { writeDemoEnv } from './demo-env.js'
import { PYTHON_SHIM_DIR } from './python-shim.js'
import { errorMessage } from './config/parsed.js'

export interface ServeOptions {
  config?: string
  port?: number
  host?: string
  env?: NodeJS.ProcessEnv
  /** Print the demo banner (keys, curl) when the embedded default is used. */
  banner?: boolean
  /** Where the embedded demo's credentials are written as a shell file (null: nowhere). */
  demoEnvFile?: string | null
  logger?: Logger
  watch?: boolean
  handleSignals?: boolean
}

export interface Served {
  app: App
  port: number
  close (): Promise<void>
}

/** Starts mock providers on demand, one per region, and keeps them across reloads. */
export class MockFleetManager {
  private readonly servers = new Map<string, MockServer>()
  async ensure (regions: string[]): Promise<ReadonlyMap<string, string>> {
    for (const region of regions) {
      if (!this.servers.has(region)) this.servers.set(region, await startMockServer({ region, host: '127.0.0.1', port: 0 }))
    }
    return new Map([...this.servers].map(([r, s]) => [r, s.url]))
  }

  async close (): Promise<void> {
    await Promise.all([...this.servers.values()].map(async s => { await s.close() }))
    this.servers.clear()
  }
}

export async function serve (opts: ServeOptions = {}): Promise<Served> {
  const env = opts.env ?? process.env
  const usingDefault = opts.config === undefined
  const source = opts.config ?? DEFAULT_CONFIG_PATH
  let generatedKey: string | null = null
  if (usingDefault && (env.AGNET_DEMO_KEY === undefined || env.AGNET_DEMO_KEY === '')) {
    generatedKey = `agnet_demo_${randomBytes(24).toString('base64url')}`
    env.AGNET_DEMO_KEY = generatedKey
  }
  // The demo service account (client_credentials): same rule as the key, generated when unset.
  let generatedClient = false
  if (usingDefault && (env.AGNET_DEMO_CLIENT_ID === undefined || env.AGNET_DEMO_CLIENT_ID === '')) {
    env.AGNET_DEMO_CLIENT_ID = `demo-sa-${randomBytes(6).toString('hex')}`
    generatedClient = true
  }
  if (usingDefault && (env.AGNET_DEMO_CLIENT_SECRET === undefined || env.AGNET_DEMO_CLIENT_SECRET === '')) {
    env.AGNET_DEMO_CLIENT_SECRET = `agnet_cs_${randomBytes(24).toString('base64url')}`
    generatedClient = true
  }
  const mocks = new MockFleetManager()
  const store = new ConfigStore(source, { env, portOverride: opts.port, ensureMocks: async regions => await mocks.ensure(regions) })
  try {
    await store.load()
  } catch (err) {
    await mocks.close()
    await store.close()
    throw err
  }
  const logger = opts.logger ?? createLogger({ level: store.current.server.logLevel })
  const app = await buildApp(store, { logger })
  const port = await app.listen(opts.port ?? store.current.server.port, opts.host ?? store.current.server.host)

  store.on('reloaded', (rt: { generation: number }) => { logger.info({ generation: rt.generation }, 'config reloaded') })
  store.on('reload-failed', (err: unknown) => {
    const problems = err instanceof ConfigError ? err.problems.map(formatProblem) : [errorMessage(err)]
    logger.error({ problems }, 'config reload refused; the last good config keeps serving')
  })
  if (opts.watch !== false) store.watch()

  const onHup = (): void => { void store.reload() }
  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      process.off('SIGHUP', onHup)
      await app.close()
      await mocks.close()
    })()
    await closing
  }
  if (opts.handleSignals !== false) {
    process.on('SIGHUP', onHup)
    const onTerm = (signal: string): void => {
      logger.info({ signal }, 'shutting down: draining in-flight requests')
      close().then(() => process.exit(0), () => process.exit(1))
    }
    process.once('SIGTERM', onTerm)
    process.once('SIGINT', onTerm)
  }

  logger.info({ port, config: usingDefault ? 'embedded default' : source, generation: store.current.generation }, 'agnet listening')
  const identity = store.current.identity
  if (!identity.required) {
    logger.warn({ declaredOpen: identity.declaredOpen }, identity.declaredOpen
      ? 'the run plane is open (auth.open: true): every caller may use every model without a credential'
      : 'the run plane is open: no API key, service account or external issuer is configured, so every caller may use every model without a credential; set auth.open: true to say this is intended, or configure a credential')
  }
  if (usingDefault && opts.banner !== false) {
    const key = env.AGNET_DEMO_KEY ?? ''
    const credentials = Buffer.from(`${env.AGNET_DEMO_CLIENT_ID ?? ''}:${env.AGNET_DEMO_CLIENT_SECRET ?? ''}`).toString('base64')
    const envFile = opts.demoEnvFile ?? null
    const envFileError = envFile === null ? null : writeDemoEnv(envFile, [
      ['AGNET_DEMO_KEY', key], ['AGNET_DEMO_CLIENT_ID', env.AGNET_DEMO_CLIENT_ID ?? ''], ['AGNET_DEMO_CLIENT_SECRET', env.AGNET_DEMO_CLIENT_SECRET ?? ''],
      ['BL_CLIENT_CREDENTIALS', credentials], ['AGNET_URL', `http://localhost:${port}`]
    ])
    const lines = [
      '',
      `agnet is serving the embedded demo on http://localhost:${port}`,
      `  workspace: demo   models: ${[...(store.current.workspaces.get('demo')?.models.keys() ?? [])].join(', ')}`,
      `  demo API key${generatedKey === null ? ' (from AGNET_DEMO_KEY)' : ' (generated; set AGNET_DEMO_KEY to choose it)'}: ${key}`,
      `  demo service account${generatedClient ? ' (generated; set AGNET_DEMO_CLIENT_ID / AGNET_DEMO_CLIENT_SECRET to choose it)' : ''}:`,
      `    client id ${env.AGNET_DEMO_CLIENT_ID ?? ''}   client secret ${env.AGNET_DEMO_CLIENT_SECRET ?? ''}`,
      `    BL_CLIENT_CREDENTIALS=${credentials}`,
      ...(envFile === null ? [] : envFileError === null
        ? [`  in another shell: source ${envFile}   (exports AGNET_DEMO_KEY and the values above)`]
        : [`  could not write ${envFile} (${envFileError}): export AGNET_DEMO_KEY=${key} in the shell you call from`]),
      '',
      'SDKs:',
      `  Blaxel JS SDK, bl CLI:  BL_API_URL=http://localhost:${port}/v0 BL_RUN_URL=http://localhost:${port} BL_WORKSPACE=demo`,
      `  Blaxel Python SDK:      the same, plus PYTHONPATH=${PYTHON_SHIM_DIR} (it reads BL_ENV only; the shim applies them)`,
      '',
      'Try it:',
      `  curl -s http://localhost:${port}/demo/models/gpt-4o-mini/v1/chat/completions \\`,
      `    -H 'X-Blaxel-Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`,
      `    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello from agnet"}]}'`,
      ''
    ]
    process.stdout.write(lines.join('\n') + '\n')
  }
  return { app, port, close }
}

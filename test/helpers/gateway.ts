// Starts a real gateway on port 0 from a YAML string, with real mock upstreams.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { ConfigStore, type StoreOptions } from '../../src/config/store.js'
import { buildApp, type App, type AppOptions } from '../../src/app.js'
import { createLogger } from '../../src/observability/logger.js'
import { MockFleetManager } from '../../src/server.js'

export interface TestGateway {
  app: App
  url: string
  port: number
  configPath: string
  logs: string[]
  mocks: MockFleetManager
  /** Rewrites the config file and reloads; resolves with the result. */
  rewrite (yaml: string): Promise<Awaited<ReturnType<ConfigStore['reload']>>>
  close (): Promise<void>
}

export function writeConfig (yaml: string, dir = mkdtempSync(join(tmpdir(), 'agnet-test-'))): string {
  const p = join(dir, 'agnet.yaml')
  writeFileSync(p, yaml)
  return p
}

export async function startGateway (yaml: string, opts: AppOptions & { env?: NodeJS.ProcessEnv, store?: StoreOptions, configPath?: string } = {}): Promise<TestGateway> {
  const configPath = opts.configPath ?? writeConfig(yaml)
  const mocks = new MockFleetManager()
  const store = new ConfigStore(configPath, { ...opts.store, env: opts.env ?? process.env, ensureMocks: async r => await mocks.ensure(r) })
  await store.load()
  const logs: string[] = []
  const destination = new Writable({ write (chunk: Buffer, _enc, cb) { logs.push(...chunk.toString().split('\n').filter(Boolean)); cb() } })
  const logger = opts.logger ?? createLogger({ level: 'info', destination })
  const app = await buildApp(store, { ...opts, logger })
  const port = await app.listen(0, '127.0.0.1')
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    configPath,
    logs,
    mocks,
    async rewrite (y: string) {
      writeFileSync(configPath, y)
      return await store.reload()
    },
    async close () {
      await app.close(1000)
      await mocks.close()
    }
  }
}

// A reload never opens the gate and never serves a half-written config: emptied credentials,
// files caught mid-write and files that vanish for a moment all leave the last good config
// serving, on real sockets, under load.
import { closeSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { serve, type Served } from '../../src/server.js'
import { createLogger } from '../../src/observability/logger.js'
import type { Runtime } from '../../src/core/runtime.js'

const KEY = 'agnet_test_reload_guard_key_0123456789'
const MODELS = `
workspaces:
  - name: acme
    members: [{ user: ann, role: member }]
    models:
      - { name: gpt, runtime: { type: openai, model: m }, deployments: [{ region: us-pdx-1, url: "mock://" }] }
      - { name: claude, runtime: { type: anthropic, model: c }, deployments: [{ region: eu-fra-1, url: "mock://" }] }
`
const AUTH = `
users:
  - name: ann
    apiKeys: [{ name: k, value: "${KEY}" }]
`
const BETA = `
workspaces:
  - name: beta
    members: [{ user: ann, role: member }]
    models:
      - { name: gpt, runtime: { type: openai, model: m }, deployments: [{ region: us-pdx-1, url: "mock://" }] }
`

const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 3 })

function folder (files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'agnet-guard-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text)
  return d
}

let gw: TestGateway | null = null
let served: Served | null = null
afterEach(async () => {
  await gw?.close()
  await served?.close()
  gw = null
  served = null
})

async function call (url: string, path: string, key: string | null): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (key !== null) headers['x-blaxel-authorization'] = `Bearer ${key}`
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body })
  await res.arrayBuffer()
  return res.status
}

function metric (text: string, line: string): number {
  const m = text.split('\n').find(l => l.startsWith(line))
  return m === undefined ? NaN : Number(m.slice(line.length).trim())
}

describe('a reload never opens the run plane', () => {
  it('refuses a reload that leaves no credential, logs it at error and counts it; auth.open: true allows it', async () => {
    const d = folder({ 'models.yaml': MODELS, 'auth.yaml': AUTH })
    gw = await startGateway('', { configPath: d, store: { settleMs: 5, settleTimeoutMs: 300 } })
    expect(await call(gw.url, '/acme/models/gpt/v1/chat/completions', null)).toBe(401)
    const generation = gw.app.store.current.generation

    // The credentials file is rewritten without a key (a script emptied the list).
    writeFileSync(join(d, 'auth.yaml'), 'users:\n  - name: ann\n')
    const refused = await gw.app.store.reload()
    expect(refused.ok).toBe(false)
    expect(refused.ok ? '' : refused.error.message).toMatch(/open the run plane.*auth\.open: true/)
    expect(gw.app.store.current.generation).toBe(generation)
    expect(await call(gw.url, '/acme/models/gpt/v1/chat/completions', null)).toBe(401)
    expect(await call(gw.url, '/acme/models/gpt/v1/chat/completions', KEY)).toBe(200)

    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metric(metrics, 'agnet_config_reloads_guarded_total{reason="opens-run-plane"}')).toBe(1)
    expect(metric(metrics, 'agnet_config_reloads_total{result="failed"}')).toBe(1)

    // Truncated to nothing: an empty file is never a config.
    writeFileSync(join(d, 'auth.yaml'), '')
    const empty = await gw.app.store.reload()
    expect(empty.ok ? '' : empty.error.message).toMatch(/auth\.yaml.*empty/)
    expect(await call(gw.url, '/acme/models/gpt/v1/chat/completions', null)).toBe(401)

    // Saying so explicitly opens it.
    writeFileSync(join(d, 'auth.yaml'), 'auth: { open: true }\nusers:\n  - name: ann\n')
    const opened = await gw.app.store.reload()
    expect(opened.ok).toBe(true)
    expect(await call(gw.url, '/acme/models/gpt/v1/chat/completions', null)).toBe(200)
  })

  it('logs a refused reload at error, with what it would have done', async () => {
    const lines: string[] = []
    const destination = new Writable({ write (chunk: Buffer, _e, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb() } })
    const d = folder({ 'models.yaml': MODELS, 'auth.yaml': AUTH })
    served = await serve({ config: d, port: 0, host: '127.0.0.1', watch: false, handleSignals: false, banner: false, logger: createLogger({ level: 'info', destination }) })
    writeFileSync(join(d, 'auth.yaml'), 'users:\n  - name: ann\n')
    expect((await served.app.store.reload()).ok).toBe(false)
    const refused = lines.map(l => JSON.parse(l) as { level: number, msg: string, problems?: string[] }).find(l => /reload refused/.test(l.msg))
    expect(refused?.level).toBe(50)
    expect(refused?.problems?.join('\n')).toMatch(/open the run plane/)
    expect(lines.join('\n')).not.toContain(KEY)
  })

  it('refuses a reload that removes every workspace or every model', async () => {
    const d = folder({ 'models.yaml': MODELS, 'auth.yaml': AUTH })
    gw = await startGateway('', { configPath: d, store: { settleMs: 5, settleTimeoutMs: 300 } })
    writeFileSync(join(d, 'models.yaml'), 'workspaces: []\n')
    const noWorkspace = await gw.app.store.reload()
    expect(noWorkspace.ok ? '' : noWorkspace.error.message).toMatch(/no workspace left/)
    writeFileSync(join(d, 'models.yaml'), 'workspaces:\n  - name: acme\n    members: [{ user: ann, role: member }]\n')
    const noModel = await gw.app.store.reload()
    expect(noModel.ok ? '' : noModel.error.message).toMatch(/no model left/)
    expect(await call(gw.url, '/acme/models/claude/v1/messages', KEY)).toBe(200)
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metric(metrics, 'agnet_config_reloads_guarded_total{reason="removes-every-workspace"}')).toBe(1)
    expect(metric(metrics, 'agnet_config_reloads_guarded_total{reason="removes-every-model"}')).toBe(1)
  })

  it('starts open when no credential is configured, and says so at start', async () => {
    const lines: string[] = []
    const destination = new Writable({ write (chunk: Buffer, _e, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb() } })
    const d = folder({ 'models.yaml': MODELS.replace(/ {4}members:.*\n/, '') })
    served = await serve({ config: d, port: 0, host: '127.0.0.1', watch: false, handleSignals: false, banner: false, logger: createLogger({ level: 'info', destination }) })
    expect(await call(`http://127.0.0.1:${served.port}`, '/acme/models/gpt/v1/chat/completions', null)).toBe(200)
    const warn = lines.map(l => JSON.parse(l) as { level: number, msg: string }).find(l => /run plane is open/.test(l.msg))
    expect(warn?.level).toBe(40)
    expect(warn?.msg).toMatch(/no API key, service account or external issuer/)
  })
})

describe('no half-written config is ever served', () => {
  it('keeps serving every request while the main file is empty under load (truncate, then write)', async () => {
    const d = folder({ 'models.yaml': MODELS, 'auth.yaml': AUTH })
    gw = await startGateway('', { configPath: d, store: { settleMs: 20, settleTimeoutMs: 120_000 } })
    const store = gw.app.store
    store.watch(10)
    const built: Runtime[] = []
    store.on('reloaded', (rt: Runtime) => built.push(rt))

    // The file stays empty until 16 requests were answered after the reload first met it.
    let answeredWhileEmpty = -1
    let writeBack = (): void => {}
    const restored = new Promise<void>((resolve, reject) => {
      writeBack = () => {
        writeFileSync(join(d, 'models.yaml'), MODELS)
        store.once('reloaded', () => { resolve() })
      }
      const onUnsettled = (why: string): void => {
        if (why !== 'empty') return
        store.off('reload-unsettled', onUnsettled)
        answeredWhileEmpty = 0
      }
      store.on('reload-unsettled', onUnsettled)
      store.once('reload-failed', reject)
    })
    const statuses: number[] = []
    let done = false
    void restored.finally(() => { done = true })
    const paths = ['/acme/models/gpt/v1/chat/completions', '/acme/models/claude/v1/messages', '/acme/models/gpt/v1/chat/completions', '/acme/models/claude/v1/messages']
    const load = Promise.all(paths.map(async path => {
      while (!done) {
        statuses.push(await call(gw?.url ?? '', path, KEY))
        if (answeredWhileEmpty >= 0 && ++answeredWhileEmpty === 16) writeBack()
      }
    }))
    writeFileSync(join(d, 'models.yaml'), '')
    await restored
    await load
    expect(answeredWhileEmpty).toBeGreaterThanOrEqual(16)
    expect(statuses.filter(s => s !== 200)).toEqual([])
    for (const rt of built) expect(rt.workspaces.get('acme')?.models.size).toBe(2)
  })

  it('does not load a file whose second half is written while the reload waits for it to settle', async () => {
    const d = folder({ 'models.yaml': MODELS, 'auth.yaml': AUTH })
    gw = await startGateway('', { configPath: d, store: { settleMs: 50 } })
    const full = `${MODELS}      - { name: extra, runtime: { type: openai, model: e }, deployments: [{ region: eu-lon-1, url: "mock://" }] }\n`
    const cut = full.indexOf('      - { name: claude')
    // The first chunk is valid YAML on its own: one model only.
    const fd = openSync(join(d, 'models.yaml'), 'w')
    writeSync(fd, full.slice(0, cut))
    const reloading = gw.app.store.reload()
    setImmediate(() => { writeSync(fd, full.slice(cut)); closeSync(fd) })
    const result = await reloading
    expect(result.ok).toBe(true)
    expect([...gw.app.store.current.workspaces.get('acme')?.models.keys() ?? []]).toEqual(['gpt', 'claude', 'extra'])
  })

  it('waits for a file of the serving config that vanished for a moment (rename dance) before loading without it', async () => {
    const d = folder({ 'models.yaml': MODELS, 'auth.yaml': AUTH, 'beta.yaml': BETA })
    gw = await startGateway('', { configPath: d, store: { settleMs: 5, missingGraceMs: 10_000 } })
    const store = gw.app.store
    renameSync(join(d, 'beta.yaml'), join(d, 'beta.yaml.swp'))
    store.once('reload-unsettled', (why: string) => {
      expect(why).toBe('missing')
      renameSync(join(d, 'beta.yaml.swp'), join(d, 'beta.yaml'))
    })
    const result = await store.reload()
    expect(result.ok).toBe(true)
    expect([...store.current.workspaces.keys()].sort()).toEqual(['acme', 'beta'])
    expect(await call(gw.url, '/beta/models/gpt/v1/chat/completions', KEY)).toBe(200)
  })

  it('loads without a file that was really removed, once the grace has passed', async () => {
    const d = folder({ 'models.yaml': MODELS, 'auth.yaml': AUTH, 'beta.yaml': BETA })
    gw = await startGateway('', { configPath: d, store: { settleMs: 5, missingGraceMs: 5 } })
    rmSync(join(d, 'beta.yaml'))
    const result = await gw.app.store.reload()
    expect(result.ok).toBe(true)
    expect([...gw.app.store.current.workspaces.keys()]).toEqual(['acme'])
  })
})

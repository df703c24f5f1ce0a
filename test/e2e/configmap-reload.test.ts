// A Kubernetes ConfigMap mounted as a volume, laid out as the kubelet lays it out: the data in
// a timestamped hidden folder, a `..data` symlink to it, and one symlink per key through
// `..data`. An update writes a new timestamped folder, points a `..data_tmp` symlink at it,
// renames that over `..data` (the atomic step), adds or removes the per-key symlinks and
// deletes the old folder. The key files never change themselves, so the watcher must notice
// the swap, with AGNET_CONFIG naming the mount folder or one key's file.
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, lstatSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { serve, type Served } from '../../src/server.js'
import { createLogger } from '../../src/observability/logger.js'

let sequence = 0

/** Writes `files` into the mount as the kubelet's atomic writer does. */
function kubeletWrite (mount: string, files: Record<string, string>): void {
  const now = new Date()
  const stamp = `..${now.toISOString().replace(/[-:]/g, '_').replace('T', '_').replace(/\.\d+Z$/, '')}.${String(process.hrtime.bigint() % 1000000000n).padStart(9, '0')}${sequence++}`
  const fresh = join(mount, stamp)
  mkdirSync(fresh)
  for (const [key, text] of Object.entries(files)) writeFileSync(join(fresh, key), text)
  let old: string | null = null
  try { old = readlinkSync(join(mount, '..data')) } catch { /* first write */ }
  symlinkSync(stamp, join(mount, '..data_tmp'))
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'))
  for (const key of Object.keys(files)) {
    try { lstatSync(join(mount, key)) } catch { symlinkSync(join('..data', key), join(mount, key)) }
  }
  for (const entry of readdirSync(mount)) {
    if (!entry.startsWith('.') && files[entry] === undefined) unlinkSync(join(mount, entry))
  }
  if (old !== null) rmSync(join(mount, old), { recursive: true })
}

const workspace = (region: string): string => `
workspaces:
  - name: cm
    integrations: [{ name: oai, provider: openai, baseUrl: "mock://", apiKey: "k" }]
    models:
      - { name: m, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: ${region} }] }
`
const extraModel = `
workspaces:
  - name: cm-extra
    integrations: [{ name: oai, provider: openai, baseUrl: "mock://", apiKey: "k" }]
    models:
      - { name: x, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }
`

let served: Served | null = null
afterEach(async () => { await served?.close(); served = null })

async function start (config: string): Promise<Served> {
  const logger = createLogger({ level: 'warn', destination: new Writable({ write (_c, _e, cb) { cb() } }) })
  served = await serve({ config, port: 0, host: '127.0.0.1', env: {}, banner: false, logger, handleSignals: false })
  return served
}

/** Resolves on the next successful reload, or fails after `ms`. */
async function nextReload (s: Served, ms = 5000): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { s.app.store.off('reloaded', on); reject(new Error(`no reload within ${ms} ms`)) }, ms)
    const on = (rt: { generation: number }): void => { clearTimeout(timer); resolve(rt.generation) }
    s.app.store.once('reloaded', on)
  })
}

async function regionOf (s: Served, ws: string, model: string): Promise<string | null> {
  const res = await fetch(`http://127.0.0.1:${s.port}/${ws}/models/${model}/v1/chat/completions`, { method: 'POST', body: '{"messages":[{"role":"user","content":"x"}]}' })
  await res.text()
  return res.status === 200 ? res.headers.get('x-agnet-region') : `status ${res.status}`
}

describe('a ConfigMap volume updated by the kubelet', () => {
  it('reloads when ..data is swapped, with AGNET_CONFIG naming the mount folder, and follows added and removed keys', async () => {
    const mount = mkdtempSync(join(tmpdir(), 'agnet-configmap-'))
    kubeletWrite(mount, { 'agnet.yaml': workspace('eu-lon-1') })
    const s = await start(mount)
    expect(await regionOf(s, 'cm', 'm')).toBe('eu-lon-1')

    let reloaded = nextReload(s)
    kubeletWrite(mount, { 'agnet.yaml': workspace('eu-fra-1') })
    await reloaded
    expect(await regionOf(s, 'cm', 'm')).toBe('eu-fra-1')

    // A key added to the ConfigMap becomes a new symlinked file in the folder.
    reloaded = nextReload(s)
    kubeletWrite(mount, { 'agnet.yaml': workspace('eu-fra-1'), 'extra.yaml': extraModel })
    await reloaded
    for (let i = 0; i < 50 && s.app.store.current.workspaces.get('cm-extra') === undefined; i++) await nextReload(s)
    expect(await regionOf(s, 'cm-extra', 'x')).toBe('us-pdx-1')

    // And a key removed takes its workspace with it.
    reloaded = nextReload(s)
    kubeletWrite(mount, { 'agnet.yaml': workspace('us-was-1') })
    await reloaded
    for (let i = 0; i < 50 && s.app.store.current.workspaces.get('cm-extra') !== undefined; i++) await nextReload(s)
    expect(await regionOf(s, 'cm', 'm')).toBe('us-was-1')
    expect(await regionOf(s, 'cm-extra', 'x')).toBe('status 404')
  })

  it('reloads when ..data is swapped, with AGNET_CONFIG naming one key\'s file', async () => {
    const mount = mkdtempSync(join(tmpdir(), 'agnet-configmap-'))
    kubeletWrite(mount, { 'agnet.yaml': workspace('eu-lon-1') })
    const s = await start(join(mount, 'agnet.yaml'))
    expect(await regionOf(s, 'cm', 'm')).toBe('eu-lon-1')
    const reloaded = nextReload(s)
    kubeletWrite(mount, { 'agnet.yaml': workspace('eu-fra-1') })
    await reloaded
    expect(await regionOf(s, 'cm', 'm')).toBe('eu-fra-1')
  })

  it('keeps the last good config when the swapped-in data is invalid', async () => {
    const mount = mkdtempSync(join(tmpdir(), 'agnet-configmap-'))
    kubeletWrite(mount, { 'agnet.yaml': workspace('eu-lon-1') })
    const s = await start(mount)
    const failed = new Promise<void>(resolve => { s.app.store.once('reload-failed', () => { resolve() }) })
    kubeletWrite(mount, { 'agnet.yaml': workspace('nowhere-1') })
    await failed
    expect(await regionOf(s, 'cm', 'm')).toBe('eu-lon-1')
  })
})

// Holds the live Runtime and replaces it atomically. A reload parses, validates and compiles
// a whole new snapshot; only a fully valid one is swapped in, so a bad edit is refused and
// the last good config keeps serving. In-flight requests keep the snapshot they started with.
// Two more rules keep a reload from doing harm by accident: the files must hold still while
// they are read (no generation is built from a file mid-write), and the reload guard refuses
// a config that would open the run plane or drop every workspace or model.
import { EventEmitter } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Dispatcher } from 'undici'
import { ConfigError, type LoadedConfig } from './load.js'
import { loadConfigOffThread } from './load-off-thread.js'
import { compileRuntime } from './compile.js'
import type { Runtime } from '../core/runtime.js'
import { DispatcherRegistry } from '../proxy/dispatchers.js'
import { checkReload, ReloadRefusedError } from './reload-guard.js'
import { listSource, missingFiles, sameStamps, stamp, type Stamps } from './snapshot.js'
import { DEFAULTS } from './default-values.js'

/** The embedded default: config/default.yaml in the package. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/default.yaml', import.meta.url))

export interface StoreOptions {
  env?: NodeJS.ProcessEnv
  portOverride?: number
  /** Starts mock providers for "mock://<region>" URLs and returns their base URLs. */
  ensureMocks?: (regions: string[]) => Promise<ReadonlyMap<string, string>>
  /** How long the files must stay unchanged before a reload reads them (default 100 ms). */
  settleMs?: number
  /** How long a reload waits for a file of the serving config that vanished to come back (default 500 ms). */
  missingGraceMs?: number
  /** How long a reload keeps waiting for files that keep changing or stay empty before it gives up (default 5 s). */
  settleTimeoutMs?: number
}

export type ReloadResult = { ok: true; generation: number } | { ok: false; error: ConfigError | Error }

const MOCK_URL = /mock:\/\/([a-z0-9-]+)/g
const KUBELET_DATA_LINK = '..data'

function mockRegions (loaded: LoadedConfig): string[] {
  const found = new Set<string>()
  const text = JSON.stringify(loaded.input)
  for (const [, region] of text.matchAll(MOCK_URL)) if (region !== undefined) found.add(region)
  // A deployment without url inherits its integration's; "mock://" alone means "this region".
  if (text.includes('"mock://"')) for (const r of loaded.input.regions ?? DEFAULTS.regions) found.add(r.name)
  return [...found]
}

export class ConfigStore extends EventEmitter {
  readonly source: string
  readonly dispatchers = new DispatcherRegistry()
  private readonly opts: StoreOptions
  private runtime: Runtime | null = null
  private watchers: FSWatcher[] = []
  private timer: NodeJS.Timeout | null = null
  private reloading: Promise<ReloadResult> | null = null
  private again = false
  reloads = { ok: 0, failed: 0 }

  constructor (source: string, opts: StoreOptions = {}) {
    super()
    this.source = source
    this.opts = opts
  }

  get current (): Runtime {
    if (this.runtime === null) throw new Error('config not loaded')
    return this.runtime
  }

  get loaded (): boolean { return this.runtime !== null }

  private async build (): Promise<Runtime> {
    const loaded = await loadConfigOffThread(this.source, { env: this.opts.env })
    const regions = mockRegions(loaded)
    const mockUrls = regions.length > 0 && this.opts.ensureMocks !== undefined ? await this.opts.ensureMocks(regions) : undefined
    return compileRuntime(loaded, {
      dispatchers: this.dispatchers,
      mockUrls,
      generation: (this.runtime?.generation ?? 0) + 1,
      env: this.opts.env,
      portOverride: this.opts.portOverride
    })
  }

  /** The files a load reads or may read: the source's listing and every file of the serving config. */
  private candidates (extra: readonly string[] = []): Set<string> {
    const out = new Set(listSource(this.source))
    for (const f of this.runtime?.files ?? []) out.add(f)
    for (const f of extra) out.add(f)
    return out
  }

  /**
   * Builds a runtime from files that held still: stamped, left alone for `settleMs`, stamped
   * again, read, stamped a third time. Any difference means a writer is at work: start over.
   * An empty file or a vanished file of the serving config may be a write in progress too, so
   * each is given time before the load is refused. The first load does not wait (settle 0).
   */
  private async buildSettled (settleMs: number): Promise<Runtime> {
    const deadline = Date.now() + (this.opts.settleTimeoutMs ?? 5000)
    let waitedForMissing = false
    let extra: readonly string[] = []
    for (;;) {
      const files = this.candidates(extra)
      const before = stamp(files)
      if (settleMs > 0) await delay(settleMs)
      const settled: Stamps = settleMs > 0 ? stamp(files) : before
      const inTime = Date.now() < deadline
      if (!sameStamps(before, settled) && inTime) { this.emit('reload-unsettled', 'changing'); continue }
      const vanished = this.runtime === null ? [] : missingFiles(settled).filter(f => this.runtime?.files.includes(f) === true)
      if (vanished.length > 0 && !waitedForMissing && inTime) {
        waitedForMissing = true
        this.emit('reload-unsettled', 'missing')
        // Editors and sync tools put a file back within moments; a removal stays removed.
        const until = Date.now() + (this.opts.missingGraceMs ?? 500)
        while (Date.now() < until && missingFiles(stamp(vanished)).length > 0) await delay(Math.min(25, Math.max(1, until - Date.now())))
        continue
      }
      let rt: Runtime
      try {
        rt = await this.build()
      } catch (err) {
        const emptyFile = err instanceof ConfigError && err.problems.some(p => p.kind === 'empty-file')
        if (emptyFile && settleMs > 0 && Date.now() < deadline) {
          this.emit('reload-unsettled', 'empty')
          await delay(settleMs)
          continue
        }
        throw err
      }
      const after = stamp(this.candidates(rt.files))
      if (sameStamps(settled, after)) return rt
      if (Date.now() >= deadline) throw new Error(`the config files kept changing for ${this.opts.settleTimeoutMs ?? 5000} ms; not loaded`)
      // A file changed while it was read, or the load found files (manifests) not stamped yet.
      extra = rt.files
      this.emit('reload-unsettled', 'changed-while-read')
    }
  }

  /** First load: throws ConfigError on a bad config. */
  async load (): Promise<Runtime> {
    const rt = await this.buildSettled(0)
    this.swap(rt)
    return rt
  }

  /**
   * Reload: never throws; a bad config, or one the reload guard refuses, is reported and the
   * last good config keeps serving. Concurrent calls coalesce.
   */
  async reload (): Promise<ReloadResult> {
    if (this.reloading !== null) {
      this.again = true
      return await this.reloading
    }
    this.reloading = (async (): Promise<ReloadResult> => {
      let result: ReloadResult
      do {
        this.again = false
        this.emit('reload-started')
        try {
          const rt = await this.buildSettled(this.opts.settleMs ?? 100)
          const refusal = this.runtime === null ? null : checkReload(this.runtime, rt)
          if (refusal !== null) throw new ReloadRefusedError(refusal)
          this.swap(rt)
          this.reloads.ok++
          result = { ok: true, generation: rt.generation }
          this.emit('reloaded', rt)
        } catch (err) {
          this.reloads.failed++
          result = { ok: false, error: err instanceof Error ? err : new Error(String(err)) }
          this.emit('reload-failed', err)
        }
      } while (this.again)
      return result
    })()
    try { return await this.reloading } finally { this.reloading = null }
  }

  private swap (rt: Runtime): void {
    const previous = this.runtime
    this.runtime = rt
    if (previous !== null) {
      const inUse = new Set<Dispatcher>(rt.deployments.map(d => d.dispatcher))
      this.dispatchers.retain(inUse)
      this.rewatch()
    }
  }

  /** Watches the config files (and the folders holding them, for editors that replace files). */
  watch (debounceMs = 150): void {
    this.watchEnabled = debounceMs
    this.rewatch()
  }

  private watchEnabled = -1

  private rewatch (): void {
    if (this.watchEnabled < 0 || this.runtime === null) return
    for (const w of this.watchers) w.close()
    this.watchers = []
    const dirs = new Set(this.runtime.files.map(f => dirname(f)))
    const names = new Set(this.runtime.files)
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, (_event, file) => {
          // A mounted Kubernetes ConfigMap changes by renaming a new `..data` symlink into
          // place; its key files are symlinks through it and never change themselves.
          if (file !== null && file !== KUBELET_DATA_LINK && !/\.ya?ml$/i.test(file) && !names.has(`${dir}/${file}`)) return
          this.schedule()
        })
        w.on('error', () => {})
        this.watchers.push(w)
      } catch { /* a folder that vanished is picked up again on the next good reload */ }
    }
  }

  private schedule (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      void this.reload()
    }, this.watchEnabled)
    this.timer.unref()
  }

  async close (): Promise<void> {
    this.watchEnabled = -1
    for (const w of this.watchers) w.close()
    this.watchers = []
    if (this.timer !== null) clearTimeout(this.timer)
    await this.dispatchers.closeAll()
  }
}

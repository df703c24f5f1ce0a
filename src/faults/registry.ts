// The faults in force and the table the request path reads. Faults come from the config
// (network.faults, replaced on every reload) and from the HTTP API (kept across reloads while
// their target still exists, lost on restart: they live in this process only). Every change
// compiles one table, deployment id → the faults on it, or null when no fault is active, so
// the request path pays one null check when nothing is injected.
import type { Logger } from 'pino'
import type { RtDeployment, Runtime } from '../core/runtime.js'
import type { FaultEffect, FaultInput } from '../core/faults.js'
import { seedOf, seededRng } from './rng.js'
import { checkTarget, matchesTarget } from './targets.js'

export type FaultSource = 'config' | 'api'

/** One fault as stored: its spec, where it came from, its generator and its expiry. */
export class FaultEntry {
  readonly spec: FaultInput
  readonly source: FaultSource
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly rng: () => number
  timer: NodeJS.Timeout | null = null

  constructor (spec: FaultInput, source: FaultSource, now: number) {
    this.spec = spec
    this.source = source
    this.createdAt = now
    this.expiresAt = spec.ttl === undefined ? null : now + spec.ttl * 1000
    this.rng = seededRng(spec.seed ?? seedOf(spec.name))
  }
}

/** Injected outcomes of one fault on one deployment (metrics). */
export class InjectCounter {
  count = 0
  constructor (readonly fault: string, readonly effect: FaultEffect, readonly dep: RtDeployment) {}
}

/** A fault as the request path sees it on one deployment. */
export interface ActiveFault {
  readonly entry: FaultEntry
  readonly counter: InjectCounter
}

export type FaultTable = ReadonlyMap<string, readonly ActiveFault[]>

export interface FaultView {
  readonly name: string
  readonly source: FaultSource
  readonly spec: FaultInput
  readonly createdAt: string
  readonly expiresAt: string | null
  /** Deployment ids it touches now. */
  readonly deployments: readonly string[]
}

interface Subscribable {
  readonly current: Runtime
  on (event: 'reloaded', fn: (rt: Runtime) => void): unknown
  off (event: 'reloaded', fn: (rt: Runtime) => void): unknown
}

export class FaultServices {
  /** Read on every attempt: null = nothing injected anywhere. */
  table: FaultTable | null = null
  private readonly config = new Map<string, FaultEntry>()
  private readonly api = new Map<string, FaultEntry>()
  private readonly counters = new Map<string, InjectCounter>()
  private runtime: Runtime | null = null
  private store: Subscribable | null = null
  private readonly logger: Logger | null
  private readonly onReload = (rt: Runtime): void => { this.sync(rt) }

  constructor (logger: Logger | null = null) {
    this.logger = logger
  }

  attach (store: Subscribable): void {
    this.store = store
    this.sync(store.current)
    store.on('reloaded', this.onReload)
  }

  /** A new runtime: config faults replaced, run-time faults kept unless their target is gone. */
  sync (rt: Runtime): void {
    this.runtime = rt
    const now = Date.now()
    const declared = new Map((rt.faults ?? []).map(f => [f.name, f]))
    for (const [name, before] of [...this.config]) {
      const next = declared.get(name)
      // An unchanged declaration keeps its generator, so a reload does not restart the draws.
      if (next === undefined || JSON.stringify(next) !== JSON.stringify(before.spec)) this.config.delete(name)
    }
    for (const [name, spec] of declared) if (!this.config.has(name)) this.config.set(name, new FaultEntry(spec, 'config', now))
    for (const [name, entry] of [...this.api]) {
      const problem = checkTarget(entry.spec, rt)
      if (problem !== null || declared.has(name)) {
        this.dropApi(name)
        this.logger?.warn({ fault: name, reason: problem?.message ?? 'the config now declares a fault of that name' }, 'run-time fault removed on reload')
      }
    }
    this.rebuild()
  }

  get current (): Runtime {
    if (this.runtime === null) throw new Error('faults not attached')
    return this.runtime
  }

  has (name: string): FaultSource | null {
    return this.api.has(name) ? 'api' : this.config.has(name) ? 'config' : null
  }

  /** Adds or replaces a run-time fault (the caller checked the target). */
  put (spec: FaultInput): FaultView {
    this.dropApi(spec.name)
    const entry = new FaultEntry(spec, 'api', Date.now())
    if (entry.expiresAt !== null) {
      entry.timer = setTimeout(() => { if (this.api.get(spec.name) === entry) { this.dropApi(spec.name); this.rebuild() } }, entry.expiresAt - entry.createdAt)
      entry.timer.unref()
    }
    this.api.set(spec.name, entry)
    this.rebuild()
    return this.view(entry)
  }

  remove (name: string): boolean {
    if (!this.dropApi(name)) return false
    this.rebuild()
    return true
  }

  /** Removes the run-time faults named (all when null); returns their names. */
  clear (names: readonly string[] | null = null): string[] {
    const gone: string[] = []
    for (const name of names ?? [...this.api.keys()]) if (this.dropApi(name)) gone.push(name)
    if (gone.length > 0) this.rebuild()
    return gone
  }

  list (): FaultView[] {
    return [...this.config.values(), ...this.api.values()].map(e => this.view(e))
  }

  /** Faults that touch a deployment (explain). */
  on (dep: RtDeployment): FaultInput[] {
    return (this.table?.get(dep.id) ?? []).map(a => a.entry.spec)
  }

  counts (): Iterable<InjectCounter> {
    return this.counters.values()
  }

  activeCount (): number {
    return this.config.size + this.api.size
  }

  close (): void {
    for (const e of this.api.values()) if (e.timer !== null) clearTimeout(e.timer)
    this.api.clear()
    if (this.store !== null) this.store.off('reloaded', this.onReload)
    this.store = null
  }

  private dropApi (name: string): boolean {
    const e = this.api.get(name)
    if (e === undefined) return false
    if (e.timer !== null) clearTimeout(e.timer)
    this.api.delete(name)
    return true
  }

  private view (e: FaultEntry): FaultView {
    const rt = this.runtime
    return {
      name: e.spec.name,
      source: e.source,
      spec: e.spec,
      createdAt: new Date(e.createdAt).toISOString(),
      expiresAt: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString(),
      deployments: rt === null ? [] : rt.deployments.filter(d => matchesTarget(e.spec, d)).map(d => d.id)
    }
  }

  private rebuild (): void {
    const rt = this.runtime
    const entries = [...this.config.values(), ...this.api.values()]
    if (rt === null || entries.length === 0) {
      this.table = null
      return
    }
    const table = new Map<string, ActiveFault[]>()
    for (const dep of rt.deployments) {
      for (const entry of entries) {
        if (!matchesTarget(entry.spec, dep)) continue
        const key = `${entry.spec.name}\0${entry.spec.effect}\0${dep.id}`
        let counter = this.counters.get(key)
        if (counter === undefined || counter.dep !== dep) {
          const kept = counter?.count ?? 0
          this.counters.set(key, counter = new InjectCounter(entry.spec.name, entry.spec.effect, dep))
          counter.count = kept
        }
        let list = table.get(dep.id)
        if (list === undefined) table.set(dep.id, list = [])
        list.push({ entry, counter })
      }
    }
    this.table = table.size === 0 ? null : table
  }
}

// The usage stage's long-lived services: the store (built from the config, rebuilt when a
// reload changes it, the old one closed once its requests are long done), the counters
// /metrics reads, the cold waits, and the stage's log lines.
import type { Logger } from 'pino'
import type { RtModel } from '../core/runtime.js'
import type { UsageStoreConfig } from '../core/usage.js'
import type { UsageStore } from './store.js'
import { MemoryUsageStore } from './store-memory.js'
import { RedisUsageStore } from './store-redis.js'
import { ColdWaits } from './cold-wait.js'

export interface UsageOptions {
  logger?: Logger | null
  /** The clock windows are computed with (ms since epoch); injectable for tests. */
  now?: () => number
}

/** Counters for /metrics and tests. */
export class UsageStats {
  admitted = 0
  refused = 0
  dryRunViolations = 0
  /** Store calls that failed or timed out (admission and settlement). */
  storeErrors = 0
  failedOpen = 0
  failedClosed = 0
  /** Refusals of a cold model's window that waited for its first settlement instead (cold-wait.ts). */
  coldWaits = 0
  settled = 0
  estimated = 0
  inputTokens = 0
  outputTokens = 0
  /** `ws/model/policy` → requests refused (or, for dry runs, that would have been). */
  readonly refusedByPolicy = new Map<string, number>()
  readonly dryRunByPolicy = new Map<string, number>()
}

const RETIRE_AFTER_MS = 60_000
const ERROR_LOG_EVERY_MS = 10_000

export class UsageServices {
  readonly now: () => number
  readonly stats = new UsageStats()
  readonly cold = new ColdWaits()
  private readonly logger: Logger | null
  private store: UsageStore | null = null
  private storeId = ''
  private lastErrorLog = 0
  private readonly retired = new Set<UsageStore>()

  constructor (opts: UsageOptions = {}) {
    this.now = opts.now ?? Date.now
    this.logger = opts.logger ?? null
  }

  /** The store for this config; a reload that changes it builds a new one. */
  storeFor (cfg: UsageStoreConfig): UsageStore {
    if (this.store !== null && cfg.id === this.storeId) return this.store
    const old = this.store
    this.store = cfg.redis === null ? new MemoryUsageStore() : new RedisUsageStore(cfg, { onState: (up, err) => { this.onStoreState(cfg, up, err) } })
    this.storeId = cfg.id
    if (old !== null) {
      // Requests admitted on the old store settle there; close it once they are long done.
      this.retired.add(old)
      const t = setTimeout(() => { this.retired.delete(old); void old.close() }, RETIRE_AFTER_MS)
      t.unref()
    }
    return this.store
  }

  /** Builds the store and, for Redis, waits for the connection a bounded time. */
  async start (cfg: UsageStoreConfig, waitMs = Math.max(1000, cfg.timeoutMs)): Promise<void> {
    const store = this.storeFor(cfg)
    if (store instanceof RedisUsageStore) await store.ready(waitMs)
  }

  private onStoreState (cfg: UsageStoreConfig, up: boolean, err: Error | null): void {
    if (this.logger === null) return
    if (up) this.logger.info({ store: 'redis' }, 'usage store reachable')
    else this.logger.warn({ store: 'redis', failMode: cfg.failMode, err: err?.message }, `usage store unreachable: failing ${cfg.failMode}`)
  }

  storeError (failMode: 'open' | 'closed', err: unknown, during: 'check' | 'add'): void {
    this.stats.storeErrors++
    if (during === 'check') {
      if (failMode === 'open') this.stats.failedOpen++
      else this.stats.failedClosed++
    }
    const now = Date.now()
    if (this.logger !== null && now - this.lastErrorLog >= ERROR_LOG_EVERY_MS) {
      this.lastErrorLog = now
      this.logger.warn({ store: 'redis', during, failMode, err: err instanceof Error ? err.message : String(err) }, `usage store call failed: failing ${failMode} (logged at most every ${ERROR_LOG_EVERY_MS / 1000}s; see storeErrors)`)
    }
  }

  /** One line per request a dry-run policy would have refused. */
  logWouldRefuse (reqId: string, model: RtModel, policies: string): void {
    this.logger?.warn({ reqId, workspace: model.workspace, model: model.name, policies }, 'maxToken dry run: this request would be refused')
  }

  /** Connected (Redis) or always true (memory); for readiness and tests. */
  get storeConnected (): boolean {
    return !(this.store instanceof RedisUsageStore) || this.store.connected
  }

  get currentStore (): UsageStore | null { return this.store }

  async close (): Promise<void> {
    const all = [...this.retired]
    if (this.store !== null) all.push(this.store)
    this.retired.clear()
    this.store = null
    await Promise.all(all.map(async s => { await s.close() }))
  }
}


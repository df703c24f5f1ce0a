// One undici Pool per upstream origin (and connect timeout), built when a config is compiled
// and kept across reloads while a deployment still uses it: connections stay warm, and a
// reload never drops a pool that in-flight requests are streaming through.
import { Pool, type Dispatcher } from 'undici'

export interface PoolOptions {
  /** Idle keep-alive kept below common upstream idle timeouts so a reused socket is not already closed. */
  keepAliveTimeoutMs: number
}

const DEFAULTS: PoolOptions = { keepAliveTimeoutMs: 30_000 }

export class DispatcherRegistry {
  private readonly pools = new Map<string, Pool>()
  private readonly opts: PoolOptions

  constructor (opts: Partial<PoolOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts }
  }

  get (origin: string, connectTimeoutMs: number, connections: number): Dispatcher {
    const key = `${origin}|${connectTimeoutMs}|${connections}`
    let pool = this.pools.get(key)
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections,
        pipelining: 1,
        connectTimeout: connectTimeoutMs,
        keepAliveTimeout: this.opts.keepAliveTimeoutMs,
        keepAliveMaxTimeout: this.opts.keepAliveTimeoutMs,
        // Per-request values are always passed by the forwarder; these only guard stray use.
        headersTimeout: 300_000,
        bodyTimeout: 300_000,
        // Upstream TLS is verified: the example defaults some proxies ship turn it off.
        connect: { rejectUnauthorized: true }
      })
      this.pools.set(key, pool)
    }
    return pool
  }

  /** Closes pools no longer referenced by the live runtime; close() lets in-flight requests finish. */
  retain (inUse: ReadonlySet<Dispatcher>): void {
    for (const [key, pool] of this.pools) {
      if (!inUse.has(pool)) {
        this.pools.delete(key)
        pool.close().catch(() => {})
      }
    }
  }

  async closeAll (): Promise<void> {
    const all = [...this.pools.values()]
    this.pools.clear()
    await Promise.all(all.map(async p => await p.close().catch(() => {})))
  }

  async destroyAll (): Promise<void> {
    const all = [...this.pools.values()]
    this.pools.clear()
    await Promise.all(all.map(async p => await p.destroy().catch(() => {})))
  }

  get size (): number { return this.pools.size }
}

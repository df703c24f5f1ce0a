// The Redis store: counters shared by every replica on one Redis. Each check and each add is
// a Lua script over all limits of the model (store-redis-scripts.ts), so check-and-reserve is
// atomic across replicas (a read, then a write, would let two replicas admit past one limit);
// the checks of one event-loop turn share one call, as do the adds. This file owns the client
// and that batching; store-redis-wire.ts owns what goes over the wire.
// The client never queues: offline commands fail at once and every command is bounded by the
// configured timeout, so a Redis outage costs a request at most `usage.timeout`.
import { Redis } from 'ioredis'
import type { CurrentWindows, RtModelLimits, UsageStoreConfig } from '../core/usage.js'
import type { AdmissionRequest, CheckResult, Settlement, UsageStore } from './store.js'
import { ADD, ADD_SHA, CHECK, CHECK_SHA } from './store-redis-scripts.js'
import { decodeChecks, encodeCheck, PendingAdds, type CheckWaiter } from './store-redis-wire.js'

export interface RedisStoreEvents {
  /** Connection state changes, for one log line per transition. */
  onState?: (up: boolean, err: Error | null) => void
}

/** Admission checks of one event-loop turn, sent as one script call. */
class CheckBatch {
  readonly keys: string[] = []
  /** ARGV[1], the number of checks, is set when the batch is sent. */
  readonly args: Array<string | number> = [0]
  readonly waiters: CheckWaiter[] = []
}

// A burst larger than this is split over several calls, so one call never holds Redis long.
const MAX_CHECKS_PER_CALL = 128

export class RedisUsageStore implements UsageStore {
  readonly kind = 'redis'
  readonly client: Redis
  private readonly prefix: string
  private up = false
  private everUp = false
  private readonly timeoutMs: number
  /** Settlements of this turn, not sent yet. */
  private pending: PendingAdds
  /** Checks made this turn, not sent yet. */
  private checks: CheckBatch | null = null
  /** The next batch (scheduled, not sent yet), and the batches sent and not yet answered. */
  private flushing: Promise<void> | null = null
  private readonly inFlight = new Set<Promise<void>>()
  private readonly events: RedisStoreEvents

  constructor (cfg: UsageStoreConfig, events: RedisStoreEvents = {}) {
    this.prefix = cfg.keyPrefix
    this.timeoutMs = cfg.timeoutMs
    this.events = events
    this.pending = new PendingAdds(cfg.keyPrefix)
    if (cfg.redis === null) throw new Error('the Redis usage store needs usage.redis')
    this.client = new Redis(cfg.redis, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: cfg.timeoutMs,
      connectTimeout: Math.max(cfg.timeoutMs, 1000),
      // Reconnect forever, backing off to one attempt a second.
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
      lazyConnect: false,
      // Commands issued in the same tick share one write (and one read on Redis' side): under
      // load this halves the CPU both sides spend per request.
      enableAutoPipelining: true
    })
    this.client.on('ready', () => {
      // Load both scripts as soon as the connection is up (again): commands on one connection
      // run in order, so every later EVALSHA finds them. Without it the first call of each
      // script costs a NOSCRIPT answer and a second round trip, and a settlement delayed that
      // way can reach Redis after another replica's next check of the same counter.
      // Should a load fail, run() still falls back to EVAL on NOSCRIPT.
      this.client.script('LOAD', CHECK).catch(noop)
      this.client.script('LOAD', ADD).catch(noop)
      this.setUp(true, null)
    })
    this.client.on('error', (err: Error) => { this.setUp(false, err) })
    this.client.on('close', () => { this.setUp(false, null) })
  }

  get connected (): boolean { return this.up }

  private setUp (up: boolean, err: Error | null): void {
    if (up === this.up) return
    this.up = up
    if (up) this.everUp = true
    this.events.onState?.(up, err)
  }

  /** Resolves once connected, or after `ms` (whichever first). */
  async ready (ms: number): Promise<boolean> {
    if (this.up) return true
    return await new Promise<boolean>(resolve => {
      const timer = setTimeout(() => { this.client.off('ready', onReady); resolve(false) }, ms)
      const onReady = (): void => { clearTimeout(timer); resolve(true) }
      this.client.once('ready', onReady)
    })
  }

  private async run (sha: string, script: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await this.client.evalsha(sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
      return await this.client.eval(script, keys.length, ...keys, ...args)
    }
  }

  /**
   * Admission is on every request's critical path: the checks made during one event-loop turn
   * go to Redis as one script call (in order, atomic as a whole), which under load turns one
   * call, one command object and one reply per request into one per turn.
   */
  check (ml: RtModelLimits, windows: CurrentWindows, request: AdmissionRequest): Promise<CheckResult> {
    let batch = this.checks
    if (batch === null || batch.waiters.length >= MAX_CHECKS_PER_CALL) {
      const next = batch = new CheckBatch()
      this.checks = next
      setImmediate(() => { void this.sendChecks(next) })
    }
    encodeCheck(batch.keys, batch.args, this.prefix, ml, windows, request)
    const waiters = batch.waiters
    return new Promise<CheckResult>((resolve, reject) => { waiters.push({ limits: ml.limits.length, request, resolve, reject }) })
  }

  private async sendChecks (batch: CheckBatch): Promise<void> {
    if (this.checks === batch) this.checks = null
    batch.args[0] = batch.waiters.length
    let res: unknown
    try {
      // A store built by a reload is still connecting: wait for it, within the usual bound.
      if (!this.everUp) await this.ready(this.timeoutMs)
      res = await this.run(CHECK_SHA, CHECK, batch.keys, batch.args)
    } catch (err) {
      for (const w of batch.waiters) w.reject(err)
      return
    }
    decodeChecks(res, batch.waiters)
  }

  /**
   * Settlements are not on any request's critical path: those of one event-loop turn are
   * summed per (window, reservation bucket) and sent as one script, which under load turns
   * one Redis call per request into one per turn.
   */
  add (ml: RtModelLimits, windows: CurrentWindows, settlement: Settlement): Promise<void> {
    this.pending.add(ml, windows, settlement)
    if (this.flushing === null) this.flushing = new Promise<void>((resolve, reject) => { setImmediate(() => { this.flush().then(resolve, reject) }) })
    return this.flushing
  }

  private async flush (): Promise<void> {
    const batch = this.pending
    this.pending = new PendingAdds(this.prefix)
    this.flushing = null
    const { keys, args } = batch.encode()
    if (keys.length === 0) return
    const sent = this.run(ADD_SHA, ADD, keys, args).then(() => {})
    this.inFlight.add(sent)
    try { await sent } finally { this.inFlight.delete(sent) }
  }

  /** Resolves once every settlement handed to add() so far has been sent and answered. */
  async idle (): Promise<void> {
    for (;;) {
      const next = this.flushing ?? this.inFlight.values().next().value
      if (next === undefined) return
      await next.catch(() => {})
    }
  }

  async close (): Promise<void> {
    await this.idle()
    this.client.removeAllListeners('ready')
    this.client.removeAllListeners('close')
    this.client.disconnect()
  }
}

function noop (): void {}

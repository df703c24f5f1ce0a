// The Redis store: counters shared by every replica on one Redis. Each check and each add is
// a Lua script over all limits of the model, so check-and-reserve is atomic across replicas
// (a read, then a write, would let two replicas admit past one limit); the checks of one event-loop turn share one call, as do the adds.
// Keys:
//   {prefix}u:{<limit key>}:<window start ms>   hash i/o/t: settled usage; expires with its window
//   {prefix}r:{<limit key>}:<bucket>            hash i/o/t: reservations of requests in flight,
//                                               by admission time in buckets of a quarter of the
//                                               longest request; a check sums the buckets a live
//                                               request can be in, so the reservations of a
//                                               replica that died mid-request stop counting after
//                                               that time, however busy the model stays
//   {prefix}e:{<ws/model>}                      hash s/r/i/o: what the model's requests use
//                                               (estimate.ts), read by every check, moved by
//                                               every settlement; expires a day after the last
// The hash tag {<limit key>} keeps a limit's keys in one cluster slot.
// The client never queues: offline commands fail at once and every command is bounded by the
// configured timeout, so a Redis outage costs a request at most `usage.timeout`.
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import type { RtModelLimits, UsageStoreConfig } from '../core/usage.js'
import type { CheckResult, UsageStore } from './store.js'
import { ALPHA, ESTIMATE_TTL_MS, type Reservation } from './estimate.js'

// The checks of one event-loop turn, in the order they were made, in one call: ARGV[1] is how
// many; then per check n, ri, ro, rt, ttl, nb, bytes, hint and n × (input, output, total,
// dryRun), and its 1 + n × (nb + 1) keys in KEYS: the model's estimate, then per limit its
// window and reservation buckets. The answer is every check's [admitted, i, o, t per limit,
// reserved i, o, t, learned (1 when reserved by the estimate)], one after the other. Atomic as a whole, so each check sees the
// reservations of those before it. A model with an estimate is reserved for by it (the
// arithmetic of estimate.ts, learnedReservation), else by the (ri, ro, rt) sent; bytes -1
// means reserve (ri, ro, rt) as sent, and the estimate key is then not read.
const CHECK = `
local m = tonumber(ARGV[1])
local out = {}
local est = {}
local ka, aa = 0, 1
for q = 1, m do
  local n, ri, ro, rt = tonumber(ARGV[aa + 1]), tonumber(ARGV[aa + 2]), tonumber(ARGV[aa + 3]), tonumber(ARGV[aa + 4])
  local ttl, nb = tonumber(ARGV[aa + 5]), tonumber(ARGV[aa + 6])
  local bytes, hint = tonumber(ARGV[aa + 7]), tonumber(ARGV[aa + 8])
  local ek = KEYS[ka + 1]
  local e = est[ek]
  if e == nil and bytes >= 0 then
    local v = redis.call('HMGET', ek, 's', 'r', 'i', 'o')
    e = { tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0 }
    est[ek] = e
  end
  local learned = 0
  if bytes >= 0 and e[1] > 0 then
    learned = 1
    if bytes > 0 and e[2] > 0 then ri = math.ceil(bytes * e[2] - 1e-6) else ri = math.ceil(e[3] - 1e-6) end
    ro = math.ceil(e[4] - 1e-6)
    if hint >= 0 and hint < ro then ro = hint end
    rt = ri + ro
  end
  ka = ka + 1
  local per = nb + 1
  local first = #out + 1
  out[first] = 1
  local refuse = false
  for j = 1, n do
    local a = aa + 8 + (j - 1) * 4
    local li, lo, lt = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    local base = ka + (j - 1) * per
    local u = redis.call('HMGET', KEYS[base + 1], 'i', 'o', 't')
    local ci, co, ct = tonumber(u[1]) or 0, tonumber(u[2]) or 0, tonumber(u[3]) or 0
    for b = 2, per do
      local r = redis.call('HMGET', KEYS[base + b], 'i', 'o', 't')
      ci = ci + (tonumber(r[1]) or 0)
      co = co + (tonumber(r[2]) or 0)
      ct = ct + (tonumber(r[3]) or 0)
    end
    out[#out + 1] = ci
    out[#out + 1] = co
    out[#out + 1] = ct
    if ARGV[a + 4] == '0' and ((li > 0 and ci >= li) or (lo > 0 and co >= lo) or (lt > 0 and ct >= lt)) then refuse = true end
  end
  if refuse then
    out[first] = 0
    ri, ro, rt = 0, 0, 0
  elseif ri > 0 or ro > 0 or rt > 0 then
    for j = 1, n do
      local k = KEYS[ka + (j - 1) * per + 2]
      redis.call('HINCRBY', k, 'i', ri)
      redis.call('HINCRBY', k, 'o', ro)
      redis.call('HINCRBY', k, 't', rt)
      redis.call('PEXPIRE', k, ttl)
    end
  end
  out[#out + 1] = ri
  out[#out + 1] = ro
  out[#out + 1] = rt
  out[#out + 1] = learned
  ka = ka + n * per
  aa = aa + 8 + n * 4
end
return out
`

// Settlements: ARGV[1] = p, the (window, reservation bucket) pairs, whose 2p keys come first
// with 7 arguments each; then one estimate key per model that finished requests, with count,
// body bytes, input and output summed over them, and last the estimates' time to live. The
// estimate moves as estimate.ts (learn) moves it.
const ADD = `
local f = {'i', 'o', 't'}
local p = tonumber(ARGV[1])
for j = 1, p do
  local uk, rk, a = KEYS[2 * j - 1], KEYS[2 * j], 1 + (j - 1) * 7
  local ai, ao, at = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  if ai > 0 or ao > 0 or at > 0 then
    redis.call('HINCRBY', uk, 'i', ai)
    redis.call('HINCRBY', uk, 'o', ao)
    redis.call('HINCRBY', uk, 't', at)
    redis.call('PEXPIRE', uk, tonumber(ARGV[a + 7]))
  end
  if redis.call('EXISTS', rk) == 1 then
    for x = 1, 3 do
      local q = tonumber(ARGV[a + 3 + x])
      if q > 0 and redis.call('HINCRBY', rk, f[x], -q) < 0 then redis.call('HSET', rk, f[x], 0) end
    end
  end
end
local a = 1 + p * 7
local ttl = tonumber(ARGV[#ARGV])
for k = 2 * p + 1, #KEYS do
  local ek = KEYS[k]
  local c, bytes, ui, uo = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  a = a + 4
  local v = redis.call('HMGET', ek, 's', 'r', 'i', 'o')
  local s, r, i, o = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0
  local ratio = r
  if bytes > 0 then ratio = ui / bytes end
  if s == 0 then
    r, i, o = ratio, ui / c, uo / c
  else
    local w = 1 - (1 - ${ALPHA}) ^ c
    r = r + w * (ratio - r)
    i = i + w * (ui / c - i)
    o = o + w * (uo / c - o)
  end
  redis.call('HSET', ek, 's', s + c, 'r', r, 'i', i, 'o', o)
  redis.call('PEXPIRE', ek, ttl)
end
return 1
`

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex')
const CHECK_SHA = sha1(CHECK)
const ADD_SHA = sha1(ADD)

// Settled windows are kept a little past their end so a late settlement still lands.
const WINDOW_SLACK_MS = 60_000
// Reservations are bucketed by admission time in quarters of the longest request (model total
// timeout plus slack); a check reads the current bucket and the four before it.
const RESERVE_BUCKETS = 4

export interface RedisStoreEvents {
  /** Connection state changes, for one log line per transition. */
  onState?: (up: boolean, err: Error | null) => void
}

/** Admission checks of one event-loop turn, sent as one script call. */
class CheckBatch {
  readonly keys: string[] = []
  readonly args: Array<string | number> = [0]
  readonly waiters: Array<{ readonly limits: number, readonly ask: Reservation | undefined, readonly resolve: (r: CheckResult) => void, readonly reject: (err: unknown) => void }> = []
}

// A burst larger than this is split over several calls, so one call never holds Redis long.
const MAX_CHECKS_PER_CALL = 128

/** Settlements of one event-loop turn for one (window key, reservation key) pair, summed. */
class PendingAdd {
  ai = 0
  ao = 0
  at = 0
  qi = 0
  qo = 0
  qt = 0
  ttl = 1
  constructor (readonly uk: string, readonly rk: string) {}
}

/** Finished requests of one event-loop turn for one model, summed, to learn from. */
class PendingSample {
  count = 0
  bytes = 0
  input = 0
  output = 0
}

export class RedisUsageStore implements UsageStore {
  readonly kind = 'redis'
  readonly client: Redis
  private readonly prefix: string
  private up = false
  private everUp = false
  private readonly timeoutMs: number
  private pending = new Map<string, PendingAdd>()
  private samples = new Map<string, PendingSample>()
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
    this.client = new Redis(cfg.redis as string, {
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
    this.client.on('ready', () => { this.setUp(true, null) })
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

  /** Length of a reservation bucket and how many a check reads (current one first). */
  private static buckets (ml: RtModelLimits): [number, number] {
    return [Math.max(1000, Math.ceil(ml.reserveTtlMs / RESERVE_BUCKETS)), RESERVE_BUCKETS + 1]
  }

  private estimateKey (ml: RtModelLimits): string {
    return `${this.prefix}e:{${ml.model}}`
  }

  private tagOf (ml: RtModelLimits, j: number): string {
    return `{${(ml.limits[j] as RtModelLimits['limits'][number]).key}}`
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
  check (ml: RtModelLimits, starts: readonly number[], ri: number, ro: number, rt: number, now: number, ask?: Reservation): Promise<CheckResult> {
    let batch = this.checks
    if (batch === null || batch.waiters.length >= MAX_CHECKS_PER_CALL) {
      const next = batch = new CheckBatch()
      this.checks = next
      setImmediate(() => { void this.sendChecks(next) })
    }
    // Keys are built now: `starts` is the caller's, valid during this call only.
    const [len, count] = RedisUsageStore.buckets(ml)
    const bucket = Math.floor(now / len)
    const keys = batch.keys
    keys.push(this.estimateKey(ml))
    for (let j = 0; j < ml.limits.length; j++) {
      const tag = this.tagOf(ml, j)
      keys.push(`${this.prefix}u:${tag}:${starts[j] as number}`)
      for (let b = 0; b < count; b++) keys.push(`${this.prefix}r:${tag}:${bucket - b}`)
    }
    const args = batch.args
    args.push(ml.limits.length, ri, ro, rt, len * count, count, ask?.bytes ?? -1, ask?.hint ?? -1)
    for (const l of ml.limits) args.push(l.input, l.output, l.total, l.dryRun ? '1' : '0')
    const waiters = batch.waiters
    return new Promise<CheckResult>((resolve, reject) => { waiters.push({ limits: ml.limits.length, ask, resolve, reject }) })
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
    let at = 0
    const ok = Array.isArray(res) && res.length === batch.waiters.reduce((a, w) => a + 5 + 3 * w.limits, 0)
    for (const w of batch.waiters) {
      if (!ok) { w.reject(new Error('unexpected answer from the usage script')); continue }
      const answer = res as unknown[]
      const end = at + 1 + 3 * w.limits
      const counts = new Array<number>(end - at)
      for (let i = at; i < end; i++) counts[i - at] = Number(answer[i])
      const ask = w.ask
      if (ask !== undefined) {
        ask.ri = Number(answer[end])
        ask.ro = Number(answer[end + 1])
        ask.rt = Number(answer[end + 2])
        ask.learned = Number(answer[end + 3]) === 1
      }
      at = end + 4
      w.resolve(counts)
    }
  }

  /**
   * Settlements are not on any request's critical path: those of one event-loop turn are
   * summed per (window, reservation bucket) and sent as one script, which under load turns
   * one Redis call per request into one per turn.
   */
  add (ml: RtModelLimits, starts: readonly number[], ttlMs: readonly number[], ai: number, ao: number, at: number, qi: number, qo: number, qt: number, admittedAt: number, sampleBytes = -1): Promise<void> {
    if (sampleBytes >= 0) {
      const ek = this.estimateKey(ml)
      let e = this.samples.get(ek)
      if (e === undefined) {
        e = new PendingSample()
        this.samples.set(ek, e)
      }
      e.count++
      e.bytes += sampleBytes
      e.input += ai
      e.output += ao
    }
    const bucket = Math.floor(admittedAt / RedisUsageStore.buckets(ml)[0])
    for (let j = 0; j < ml.limits.length; j++) {
      const tag = this.tagOf(ml, j)
      const uk = `${this.prefix}u:${tag}:${starts[j] as number}`
      const rk = `${this.prefix}r:${tag}:${bucket}`
      const k = `${uk} ${rk}`
      let p = this.pending.get(k)
      if (p === undefined) {
        p = new PendingAdd(uk, rk)
        this.pending.set(k, p)
      }
      p.ai += ai
      p.ao += ao
      p.at += at
      p.qi += qi
      p.qo += qo
      p.qt += qt
      p.ttl = Math.max(p.ttl, Math.ceil((ttlMs[j] as number) + WINDOW_SLACK_MS))
    }
    if (this.flushing === null) this.flushing = new Promise<void>((resolve, reject) => { setImmediate(() => { this.flush().then(resolve, reject) }) })
    return this.flushing
  }

  private async flush (): Promise<void> {
    const batch = this.pending
    const samples = this.samples
    this.pending = new Map()
    this.samples = new Map()
    this.flushing = null
    const keys: string[] = []
    const args: number[] = [batch.size]
    for (const p of batch.values()) {
      keys.push(p.uk, p.rk)
      args.push(p.ai, p.ao, p.at, p.qi, p.qo, p.qt, p.ttl)
    }
    for (const [ek, e] of samples) {
      keys.push(ek)
      args.push(e.count, e.bytes, e.input, e.output)
    }
    args.push(ESTIMATE_TTL_MS)
    if (keys.length === 0) return
    const sent = this.run(ADD_SHA, ADD, keys, args).then(() => {})
    this.inFlight.add(sent)
    try { await sent } finally { this.inFlight.delete(sent) }
  }

  /** Resolves once every settlement handed to add() so far has been sent and answered. */
  async idle (): Promise<void> {
    while (this.flushing !== null || this.inFlight.size > 0) {
      await (this.flushing ?? [...this.inFlight][0] as Promise<void>).catch(() => {})
    }
  }

  async close (): Promise<void> {
    await this.idle()
    this.client.removeAllListeners('ready')
    this.client.removeAllListeners('close')
    this.client.disconnect()
  }
}

// Applying a fault to one upstream attempt. The fault stands where the network would: the
// attempt's handler (the forwarder's Exchange) sees exactly what it would see from a refused
// connection, a reset socket, an upstream status, a stall or a broken body, so failover,
// ejection, timeouts, usage and metrics all run their real code.
import { errors, type Dispatcher } from 'undici'
import type { ActiveFault } from './registry.js'
import { FAULT_DEFAULTS } from '../core/faults.js'

export type FaultAction =
  | { readonly kind: 'down' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'stall' }
  | { readonly kind: 'cut', readonly afterBytes: number }
  | { readonly kind: 'status', readonly status: number, readonly retryAfter: number | null, readonly fault: string }

export interface FaultPlan {
  /** Added before the attempt (latency faults). */
  delayMs: number
  /** What happens instead of, or around, the real exchange; null = a plain exchange. */
  action: FaultAction | null
  /** Names of the faults that fired, for the response header and the access line. */
  names: string[]
}

/**
 * Draws which of a deployment's faults apply to this attempt. Latency adds up; the first other
 * fault that fires decides the attempt. Names every fault that fired, so the caller can mark the
 * request (header, log). Null when none did.
 */
export function planFault (list: readonly ActiveFault[]): FaultPlan | null {
  let plan: FaultPlan | null = null
  for (let i = 0; i < list.length; i++) {
    const f = list[i]
    if (f === undefined) continue
    const spec = f.entry.spec
    if (spec.effect !== 'latency' && plan?.action != null) continue
    const rate = spec.rate ?? FAULT_DEFAULTS.rate
    if (rate < 1 && f.entry.rng() >= rate) continue
    plan ??= { delayMs: 0, action: null, names: [] }
    f.counter.count++
    if (!plan.names.includes(spec.name)) plan.names.push(spec.name)
    switch (spec.effect) {
      case 'latency': {
        const jitter = spec.jitter ?? 0
        plan.delayMs += Math.max(0, (spec.ms ?? 0) + (jitter === 0 ? 0 : Math.round((f.entry.rng() * 2 - 1) * jitter)))
        break
      }
      case 'down': plan.action = DOWN; break
      case 'reset': plan.action = RESET; break
      case 'stall': plan.action = STALL; break
      case 'cut': plan.action = { kind: 'cut', afterBytes: spec.afterBytes ?? FAULT_DEFAULTS.afterBytes }; break
      case 'status': plan.action = { kind: 'status', status: spec.status ?? FAULT_DEFAULTS.status, retryAfter: spec.retryAfter ?? null, fault: spec.name }; break
      case 'ratelimit': plan.action = { kind: 'status', status: 429, retryAfter: spec.retryAfter ?? FAULT_DEFAULTS.ratelimitRetryAfter, fault: spec.name }; break
      case 'errors': plan.action = { kind: 'status', status: 500, retryAfter: null, fault: spec.name }; break
    }
  }
  return plan
}

const DOWN: FaultAction = Object.freeze({ kind: 'down' })
const RESET: FaultAction = Object.freeze({ kind: 'reset' })
const STALL: FaultAction = Object.freeze({ kind: 'stall' })

type Handler = Dispatcher.DispatchHandler & { onRequestSent?: () => void }

function codeError (code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

/**
 * A deployment's pool seen through a fault: dispatching through it gives the attempt's handler
 * what `action` stands for. `stallMs` is how long a stalled attempt waits for its first byte
 * (the model's firstByte timeout), as the real pool would.
 */
export class FaultDispatcher {
  constructor (private readonly pool: Pick<Dispatcher, 'dispatch'>, private readonly action: FaultAction, private readonly stallMs: number) {}

  dispatch (opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
    const action = this.action
    switch (action.kind) {
      case 'down': synthetic(handler, h => { h.fail(codeError('ECONNREFUSED', 'connect ECONNREFUSED (injected fault)')) }); return true
      case 'stall': synthetic(handler, h => { h.after(this.stallMs, () => { h.fail(new errors.HeadersTimeoutError()) }) }); return true
      case 'status': synthetic(handler, h => { h.answer(action) }); return true
      case 'reset': return this.pool.dispatch(opts, new ResetHandler(handler))
      case 'cut': return this.pool.dispatch(opts, new CutHandler(handler, action.afterBytes))
    }
  }
}

/** An exchange that never reaches a socket: the fault answers for the deployment. */
class Synthetic {
  private done = false
  private timer: NodeJS.Timeout | null = null
  constructor (private readonly handler: Handler) {}

  readonly abort = (err?: Error): void => { this.fail(err ?? new errors.RequestAbortedError()) }

  fail (err: Error): void {
    if (this.done) return
    this.done = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.handler.onError?.(err)
  }

  after (ms: number, fn: () => void): void {
    this.timer = setTimeout(fn, ms)
  }

  answer (a: Extract<FaultAction, { kind: 'status' }>): void {
    if (this.done) return
    const body = Buffer.from(JSON.stringify({ error: { message: `Injected by agnet fault "${a.fault}".`, type: 'agnet_fault', code: a.status } }))
    const raw = [Buffer.from('content-type'), Buffer.from('application/json'), Buffer.from('content-length'), Buffer.from(String(body.length))]
    if (a.retryAfter !== null) raw.push(Buffer.from('retry-after'), Buffer.from(String(a.retryAfter)))
    const keep = this.handler.onHeaders?.(a.status, raw, noop, '') ?? false
    if (this.done) return
    this.done = true
    if (!keep) return
    this.handler.onData?.(body)
    this.handler.onComplete?.(null)
  }
}

function synthetic (handler: Handler, run: (s: Synthetic) => void): void {
  const s = new Synthetic(handler)
  handler.onConnect?.(s.abort)
  // Asynchronous like a socket: the caller finishes setting up the attempt first.
  setImmediate(run, s)
}

function noop (): void {}

/** Passes everything through, reporting what the inner handler needs to know. */
class Passthrough implements Handler {
  protected abortFn: ((err?: Error) => void) | null = null
  constructor (protected readonly inner: Handler) {}
  onConnect (abort: (err?: Error) => void): void { this.abortFn = abort; this.inner.onConnect?.(abort) }
  onRequestSent (): void { this.inner.onRequestSent?.() }
  onHeaders (status: number, raw: Buffer[], resume: () => void, text: string): boolean { return this.inner.onHeaders?.(status, raw, resume, text) ?? true }
  onData (chunk: Buffer): boolean { return this.inner.onData?.(chunk) ?? true }
  onComplete (trailers: string[] | null): void { this.inner.onComplete?.(trailers) }
  onError (err: Error): void { this.inner.onError?.(err) }
}

/**
 * The request goes out in full and the deployment starts answering, then the connection is
 * reset before any response byte is relayed: the upstream did the work, nobody got it back.
 */
class ResetHandler extends Passthrough {
  override onHeaders (status: number, _raw: Buffer[], _resume: () => void, _text: string): boolean {
    if (status < 200) return true
    this.abortFn?.(codeError('ECONNRESET', 'read ECONNRESET (injected fault)'))
    return false
  }
}

/** The response is relayed up to `afterBytes`, then breaks: never a clean end. */
class CutHandler extends Passthrough {
  private left: number
  private cut = false
  constructor (inner: Handler, afterBytes: number) {
    super(inner)
    this.left = afterBytes
  }

  override onData (chunk: Buffer): boolean {
    if (this.cut) return false
    if (chunk.length < this.left) {
      this.left -= chunk.length
      return super.onData(chunk)
    }
    const head = chunk.subarray(0, this.left)
    this.left = 0
    if (head.length > 0) super.onData(head)
    // On the next turn, so the bytes relayed so far reach the client before the break.
    setImmediate(breakLater, this)
    return false
  }

  override onComplete (): void {
    // A body shorter than afterBytes still breaks instead of ending.
    setImmediate(breakLater, this)
  }

  override onError (err: Error): void {
    if (this.cut) return
    super.onError(err)
  }

  breakNow (): void {
    if (this.cut) return
    this.cut = true
    const err = new errors.SocketError('other side closed (injected fault)')
    this.inner.onError?.(err)
    this.abortFn?.(err)
  }
}

function breakLater (h: CutHandler): void { h.breakNow() }

// Before a model's requests are learned, each request in flight holds an upper bound of what it
// may use (estimate.ts), so a cold burst can find a window "full" of bounds while it is far
// from its limit. Refusing then would answer 429 for a window nobody crossed. Instead a request
// refused while requests admitted cold are in flight waits, on this replica, for the next
// request of the model to settle (its usage learned, its bound released) and is checked again. The wait is
// bounded: only while a request of the model admitted cold on this replica is in flight (its
// settlement is what will teach the store), at most COLD_WAIT_MS, at most MAX_WAITING requests
// per model; past any bound the refusal stands.

/** Longest a request waits for the model's first settlement before its refusal stands. */
export const COLD_WAIT_MS = 5_000
/** Requests of one model waiting at once on one replica. */
export const MAX_WAITING = 4096

class ModelWaits {
  /** Requests of the model admitted with a cold reservation and not settled yet. */
  coldInFlight = 0
  waiting: Array<() => void> = []
  timer: NodeJS.Timeout | null = null
}

export class ColdWaits {
  private readonly models = new Map<string, ModelWaits>()
  /** Requests waiting, over every model (a settlement looks further only when some are). */
  waiting = 0

  /** Models with requests admitted cold in flight or waiting (a refusal looks further only when some are). */
  get size (): number { return this.models.size }

  private of (model: string): ModelWaits {
    let m = this.models.get(model)
    if (m === undefined) {
      m = new ModelWaits()
      this.models.set(model, m)
    }
    return m
  }

  /** A request of `model` was admitted with a cold reservation. */
  admittedCold (model: string): void {
    this.of(model).coldInFlight++
  }

  /** A request admitted cold settled (its usage is in the store, or failed to get there). */
  settledCold (model: string): void {
    const m = this.models.get(model)
    if (m === undefined) return
    m.coldInFlight = Math.max(0, m.coldInFlight - 1)
    this.wake(model)
  }

  /**
   * Parks `retry` until a request of `model` settles or COLD_WAIT_MS pass; false (nothing
   * parked) when nothing of the model admitted cold is in flight here, when the request has
   * waited its time already (`since`: when it first waited, or -1), or when too many wait.
   */
  park (model: string, since: number, now: number, retry: () => void): boolean {
    const m = this.models.get(model)
    if (m === undefined || m.coldInFlight === 0 || m.waiting.length >= MAX_WAITING) return false
    if (since >= 0 && now - since >= COLD_WAIT_MS) return false
    m.waiting.push(retry)
    this.waiting++
    if (m.timer === null) {
      m.timer = setTimeout(() => { m.timer = null; this.wake(model) }, COLD_WAIT_MS)
      m.timer.unref()
    }
    return true
  }

  /** Retries every request of `model` that waits, on the next turn (never inside a settlement). */
  wake (model: string): void {
    const m = this.models.get(model)
    if (m === undefined) return
    if (m.waiting.length > 0) {
      const waiting = m.waiting
      m.waiting = []
      this.waiting -= waiting.length
      setImmediate(() => { for (const retry of waiting) retry() })
    }
    if (m.waiting.length === 0 && m.timer !== null) {
      clearTimeout(m.timer)
      m.timer = null
    }
    if (m.coldInFlight === 0 && m.waiting.length === 0) this.models.delete(model)
  }
}

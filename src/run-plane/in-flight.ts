// Requests in flight, for the in-flight gauge and for a graceful shutdown that waits until
// the last one ended.
export class InFlight {
  count = 0
  private waiters: Array<() => void> = []

  enter (): void {
    this.count++
  }

  leave (): void {
    this.count--
    if (this.count === 0 && this.waiters.length > 0) {
      const waiters = this.waiters
      this.waiters = []
      for (const w of waiters) w()
    }
  }

  /** Resolves when nothing is in flight. */
  async drained (): Promise<void> {
    if (this.count === 0) return
    await new Promise<void>(resolve => { this.waiters.push(resolve) })
  }
}

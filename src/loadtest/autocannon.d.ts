// The slice of autocannon's programmatic API that `agnet loadtest` uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface Client extends EventEmitter {
    on (event: 'headers', listener: (info: { statusCode: number; headers: string[] }) => void): this
    on (event: string, listener: (...args: unknown[]) => void): this
  }

  export interface Options {
    url: string
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    connections?: number
    duration?: number
    amount?: number
    overallRate?: number
    timeout?: number
    pipelining?: number
    setupClient?: (client: Client) => void
  }

  export interface Histogram { average: number; mean: number; stddev: number; min: number; max: number; p50: number; p90: number; p99: number; p999?: number }

  export interface Result {
    latency: Histogram
    requests: Histogram & { total: number; sent: number }
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    statusCodeStats: Record<string, { count: number }>
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop (): void
    on (event: 'tick', listener: (tick: { counter: number; bytes: number }) => void): this
    on (event: 'response', listener: (client: Client, statusCode: number, bytes: number, responseTimeMs: number) => void): this
    on (event: 'done', listener: (result: Result) => void): this
    on (event: 'reqError' | 'error', listener: (err: Error) => void): this
    on (event: string, listener: (...args: unknown[]) => void): this
  }

  function autocannon (opts: Options, cb: (err: Error | null, result: Result) => void): Instance
  export default autocannon
}

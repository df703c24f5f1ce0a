// Token-usage accounting as the request path sees it: every maxToken policy of a model
// compiled into a limit with its window, thresholds and precomputed header text.

export type Granularity = 'minute' | 'hour' | 'day' | 'month'

export interface RtTokenLimit {
  /** Policy name, as in the config and the RateLimit headers. */
  readonly policy: string
  /** Counter identity: workspace, model, policy and window shape. Thresholds are not part
   * of it, so a reload that only changes a threshold keeps the window's count. */
  readonly key: string
  readonly granularity: Granularity
  readonly step: number
  /** Thresholds per window; 0 = not checked. */
  readonly input: number
  readonly output: number
  readonly total: number
  /** Reports (headers, logs, metrics) without ever refusing. */
  readonly dryRun: boolean
}

export interface RtModelLimits {
  /** `ws/model`. */
  readonly model: string
  readonly limits: readonly RtTokenLimit[]
  /** Value of the RateLimit-Policy header for windows of fixed length; null when a month
   * window is involved (its length varies, so it is written per request). */
  readonly policyHeader: string | null
  /** Longest a reservation may live (the model's total timeout plus slack). */
  readonly reserveTtlMs: number
  /** Output tokens reserved for a request that does not say how many it wants at most, while
   * nothing is learned of the model's requests (usage.reserveOutput). */
  readonly reserveOutput: number
  /** The current windows of `limits` (mutable, per model: a cache, not config). */
  readonly clock: CurrentWindows
  /** One item of the RateLimit header per checked threshold, in order. */
  readonly rateLimitItems: readonly RateLimitItem[]
}

/** The dimensions a maxToken policy can bound. */
export type TokenDimension = 'input' | 'output' | 'total'

/** Tokens in each dimension: used in a window, reserved for a request, or used by one. */
export interface TokenCounts {
  input: number
  output: number
  total: number
}

/** A RateLimit item: `${prefix}${remaining};t=${seconds}`, where remaining is q minus what its limit used in its dimension. */
export interface RateLimitItem {
  /** `"policy:dimension";r=` */
  readonly prefix: string
  readonly q: number
  /** Index of the limit in the model's `limits` (its window, its used counts). */
  readonly limit: number
  /** The dimension of the limit this item reports. */
  readonly dimension: TokenDimension
}

export interface UsageStoreConfig {
  /** redis:// URL, or null for the in-process store. */
  readonly redis: string | null
  readonly failMode: 'open' | 'closed'
  readonly timeoutMs: number
  readonly keyPrefix: string
  /** Identity of the store: a change (reload) builds a new one. */
  readonly id: string
}

export interface UsageRuntime {
  /** Keys (`ws/model`) of models with at least one maxToken policy. */
  readonly limitedModels: ReadonlySet<string>
  /** Limits by model key. */
  readonly models: ReadonlyMap<string, RtModelLimits>
  readonly store: UsageStoreConfig
}

/**
 * The current window of each limit of a model (usage/windows.ts keeps it): computed again only
 * when one of them ends, so the request path reads starts and ends instead of doing calendar
 * arithmetic. `starts` and `ends` are shared: read them during a call, never keep them.
 */
export interface CurrentWindows {
  readonly starts: readonly number[]
  readonly ends: readonly number[]
  /** Brings the windows to `now` and returns this clock. */
  at (now: number): CurrentWindows
  /** Whole seconds from `now` to the end of limit j's window, at least 1; call at(now) first. */
  secondsToReset (j: number, now: number): number
}

/** Tokens one request used. */
export interface TokenUsage extends TokenCounts {
  /** True when counted from the content because the provider reported nothing. */
  estimated: boolean
}

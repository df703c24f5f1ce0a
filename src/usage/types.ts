// Token-usage accounting as the request path sees it.

export interface UsageRuntime {
  /** Keys (`ws/model`) of models with at least one maxToken policy. */
  readonly limitedModels: ReadonlySet<string>
}

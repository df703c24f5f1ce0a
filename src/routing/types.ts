// The simulated network as the request path sees it.

export interface NetworkRuntime {
  /** The region callers stand in when no trusted X-Agnet-Origin says otherwise. */
  readonly defaultOrigin: string
  readonly trustOriginHeader: boolean
  readonly applyDelay: boolean
}

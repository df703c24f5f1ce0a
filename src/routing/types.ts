// The simulated network and the per-model routing tables as the request path sees them.
// Built once per config load; the request path does lookups only.
import type { RtDeployment } from '../config/runtime.js'
import type { EdgeError } from '../errors.js'

/** Where a caller stands: a region or an ISO country, with its RTT to every region. */
export interface OriginInfo {
  /** Region name (lower-case) or country code (upper-case). */
  readonly name: string
  readonly kind: 'region' | 'country'
  readonly country: string
  readonly continent: string
  /** Simulated round-trip time in ms to each region, indexed like NetworkRuntime.regionNames. */
  readonly rtt: Float64Array
}

/** Why a deployment may or may not serve a model, decided at compile time from the policies. */
export interface DeploymentVerdict {
  readonly allowed: boolean
  /** Human-readable: which policy excluded it, or why it is allowed. */
  readonly reason: string
  /** Policies that exclude it ([] when allowed). */
  readonly excludedBy: readonly string[]
  /** Dry-run policies that would have excluded it (reported, not enforced). */
  readonly dryRunExcludedBy: readonly string[]
}

/** One model's routing table: the policy-allowed deployments, precomputed. */
export interface ModelRoute {
  readonly key: string
  readonly strategy: 'latency' | 'priority' | 'weighted'
  /** Deployments the policies allow, in config order. */
  readonly allowed: readonly RtDeployment[]
  /** Region index (NetworkRuntime.regionNames) of each allowed deployment. */
  readonly regionIdx: Int32Array
  /** One verdict per model deployment (model.deployments order). */
  readonly verdicts: readonly DeploymentVerdict[]
  /** The 403 answered when no deployment is allowed; null when some are. */
  readonly violation: EdgeError | null
  /** Location and flavor policies in force (names), for explain. */
  readonly policies: readonly string[]
}

export interface NetworkRuntime {
  /** The region callers stand in when no trusted X-Agnet-Origin says otherwise. */
  readonly defaultOrigin: string
  readonly defaultOriginInfo: OriginInfo
  readonly trustOriginHeader: boolean
  /** Add the simulated RTT as real delay before each upstream attempt. */
  readonly applyDelay: boolean
  readonly regionNames: readonly string[]
  readonly regionIndex: ReadonlyMap<string, number>
  /** Origins by every spelling a header may use (region names; country codes in both cases). */
  readonly origins: ReadonlyMap<string, OriginInfo>
  /** Routing table per model, by RtModel.key. */
  readonly models: ReadonlyMap<string, ModelRoute>
}

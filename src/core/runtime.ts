// The compiled, frozen runtime: what the request path reads. Maps and precomputed decisions
// only; the request path never looks at raw config. A reload builds a new Runtime and swaps
// one reference, so a request keeps the snapshot it started with.
import type { Dispatcher } from 'undici'
// The config's input shape is a leaf (it imports only typebox): the runtime keeps what the user
// wrote beside what was compiled from it, for the control plane to show.
import type { ConfigInput, ModelInput, PolicyInput, IntegrationInput, WorkspaceInput } from '../config/schema.js'
import type { IdentityRuntime } from './identity.js'
import type { EdgeError } from './errors.js'
import type { UsageRuntime } from './usage.js'
import type { FaultInput } from './faults.js'

/** How a provider takes its credential upstream. */
export type CredentialStyle = 'bearer' | 'x-api-key' | 'x-goog-api-key' | 'api-key'

export interface RtServer {
  readonly port: number
  readonly host: string
  readonly publicUrl: string | null
  readonly region: string
  readonly trustOriginHeader: boolean
  readonly bodyLimit: number
  readonly maxHeaderBytes: number
  readonly logLevel: string
  readonly accessLog: boolean
  readonly shutdownGraceMs: number
  readonly upstreamConnections: number
}

export interface RtFlavor { readonly type: 'cpu' | 'gpu'; readonly name: string /* lower-case */ }

export interface RtRegion {
  readonly name: string
  readonly location: string
  readonly country: string // upper-case
  readonly continent: string // upper-case
  readonly flavors: readonly RtFlavor[]
}

export interface RtTimeouts {
  readonly connectMs: number
  readonly firstByteMs: number
  readonly idleMs: number
  readonly totalMs: number
}

export interface RtRouting {
  readonly strategy: 'latency' | 'priority' | 'weighted'
  readonly maxAttempts: number
  readonly budgetMs: number
  readonly replayBodyLimit: number
  readonly ejectAfter: number
  readonly ejectForMs: number
  /** Replay a POST/PATCH already sent in full after a reset (may duplicate work). */
  readonly retryNonIdempotent: boolean
}

export interface RtDeployment {
  /** Stable across reloads while workspace, model, name and URL stay the same: health and latency stats key on it. */
  readonly id: string
  readonly name: string
  readonly index: number
  readonly region: RtRegion
  readonly url: string
  readonly origin: string
  /** Path prefix of the base URL without a trailing slash ('' for none). */
  readonly basePath: string
  /** Host header sent upstream. */
  readonly host: string
  readonly dispatcher: Dispatcher
  readonly weight: number
  readonly priority: number
  readonly flavors: readonly RtFlavor[]
  readonly provider: string
  readonly credential: CredentialStyle
  /** Headers set upstream after the client's were cleaned, overwriting: flat [name, value, ...], names lower-case. */
  readonly setHeaders: readonly string[]
  /** Headers added only when the client did not send them (e.g. anthropic-version). */
  readonly defaultHeaders: readonly string[]
  readonly healthCheck: { readonly path: string; readonly intervalMs: number } | null
}

export interface RtPolicy {
  readonly name: string
  readonly type: 'location' | 'flavor' | 'maxToken'
  readonly input: PolicyInput
  readonly dryRun: boolean
}

export interface RtModel {
  /** `${workspace}/${name}`: the key of usage counters, stats and metrics. */
  readonly key: string
  readonly name: string
  readonly workspace: string
  readonly enabled: boolean
  readonly runtimeType: string
  readonly runtimeModel: string | null
  /** runtime.generation mk3: chat completions in OpenAI form, translated for the provider `provider` (src/translate). */
  readonly mk3: { readonly provider: string; readonly runtimeModel: string } | null
  readonly policies: readonly RtPolicy[]
  readonly deployments: readonly RtDeployment[]
  readonly routing: RtRouting
  readonly timeouts: RtTimeouts
  readonly bodyLimit: number
  readonly input: ModelInput
}

export interface RtIntegration {
  readonly name: string
  readonly provider: string
  readonly baseUrl: string | null
  readonly input: IntegrationInput
}

export interface RtWorkspace {
  readonly name: string
  readonly displayName: string
  readonly region: string
  readonly models: ReadonlyMap<string, RtModel>
  readonly policies: ReadonlyMap<string, RtPolicy>
  readonly integrations: ReadonlyMap<string, RtIntegration>
  readonly input: WorkspaceInput
}

export interface Runtime {
  /** Increases by one on every successful load or reload. */
  readonly generation: number
  readonly loadedAt: number
  readonly source: string
  readonly files: readonly string[]
  readonly input: ConfigInput
  readonly server: RtServer
  readonly regions: ReadonlyMap<string, RtRegion>
  readonly workspaces: ReadonlyMap<string, RtWorkspace>
  readonly deployments: readonly RtDeployment[]
  readonly identity: IdentityRuntime
  readonly network: NetworkRuntime
  readonly usage: UsageRuntime
  /** Faults declared in network.faults, their targets checked. */
  readonly faults: readonly FaultInput[]
}

// The simulated network and the per-model routing tables as the request path sees them.

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

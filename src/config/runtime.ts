// The compiled, frozen runtime: what the request path reads. Maps and precomputed decisions
// only; the request path never looks at raw config. A reload builds a new Runtime and swaps
// one reference, so a request keeps the snapshot it started with.
import type { Dispatcher } from 'undici'
import type { ConfigInput, ModelInput, PolicyInput, IntegrationInput, WorkspaceInput } from './schema.js'
import type { CredentialStyle } from './defaults.js'
import type { IdentityRuntime } from '../auth/types.js'
import type { NetworkRuntime } from '../routing/types.js'
import type { UsageRuntime } from '../usage/types.js'

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
}

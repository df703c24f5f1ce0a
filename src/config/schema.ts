// The one schema of agnet's configuration. It is at once the static type of a parsed config,
// the validator (AJV compiles it once) and the published JSON Schema (schema/agnet.schema.json).
// Every field carries a description: the README's config reference is generated from them.
import { Type, type Static } from '@sinclair/typebox'
import { Fault } from '../core/faults.js'
import { DEFAULTS as D, spellDefault, type Spellable } from './default-values.js'

/** A field's `default` keyword and its description, where "{default}" reads "default 10s": the value is written once, in the table of defaults. */
function withDefault<T extends Spellable> (text: string, value: T): { default: T; description: string } {
  if (!text.includes('{default}')) throw new Error(`the description "${text}" does not say its default`)
  return { default: value, description: text.replace('{default}', `default ${spellDefault(value)}`) }
}

const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,47}[a-z0-9])?$'

export const Name = (description: string) =>
  Type.String({ pattern: NAME_PATTERN, maxLength: 49, description })

export const Duration = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })
], { description: 'A duration: milliseconds as a number, or a string such as "250ms", "30s", "5m", "2h".' })

export const ByteSize = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: '^[0-9]+(B|KiB|MiB|GiB)$' })
], { description: 'A size: bytes as a number, or a string such as "512KiB" or "32MiB".' })

export const Secret = Type.String({
  minLength: 1,
  maxLength: 8192,
  description: 'A secret value. Prefer an environment reference such as "${OPENAI_API_KEY}"; inline values are accepted but discouraged.'
})

export const Timeouts = Type.Object({
  connect: Type.Optional({ ...Duration, ...withDefault('Time to open the upstream TCP/TLS connection ({default}).', D.timeouts.connect) }),
  firstByte: Type.Optional({ ...Duration, ...withDefault('Time from sending the request to the upstream response headers ({default}, sized for reasoning models).', D.timeouts.firstByte) }),
  idle: Type.Optional({ ...Duration, ...withDefault('Longest silence between two chunks of the upstream body ({default}); every chunk resets it.', D.timeouts.idle) }),
  total: Type.Optional({ ...Duration, ...withDefault('Cap on the whole exchange, stream included ({default}).', D.timeouts.total) })
}, { additionalProperties: false, description: 'Upstream timeouts. None is inherited from a library default.' })

export const Flavor = Type.Object({
  type: Type.Union([Type.Literal('cpu'), Type.Literal('gpu')], { description: 'Flavor kind.' }),
  name: Type.String({ minLength: 1, maxLength: 64, description: 'Flavor name, e.g. x86 or t4 (compared case-insensitively).' })
}, { additionalProperties: false })

export const Region = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Region code, e.g. us-pdx-1.' }),
  location: Type.Optional(Type.String({ maxLength: 128, description: 'Human-readable place, e.g. Portland.' })),
  country: Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 country code of the region.' }),
  continent: Type.String({ pattern: '^[A-Za-z]{2}$', description: 'Continent code: AF, AN, AS, EU, NA, OC or SA.' }),
  flavors: Type.Optional(Type.Array(Flavor, { maxItems: 64, ...withDefault('Flavors available in the region ({default}).', D.regionFlavors) }))
}, { additionalProperties: false })

export const PolicyLocation = Type.Object({
  type: Type.Union([Type.Literal('country'), Type.Literal('continent'), Type.Literal('location')], { description: 'What `name` is: an ISO country code, a continent code, or a region name (`location`).' }),
  name: Type.String({ minLength: 1, maxLength: 64, description: 'The code, compared case-insensitively.' })
}, { additionalProperties: false })

export const MaxTokens = Type.Object({
  granularity: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day'), Type.Literal('month')], { description: 'Unit of the window.' }),
  step: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, ...withDefault('Window length in units of granularity ({default}).', D.maxTokens.step) })),
  input: Type.Optional(Type.Integer({ minimum: 0, description: 'Input tokens allowed per window; 0 = not checked.' })),
  output: Type.Optional(Type.Integer({ minimum: 0, description: 'Output tokens allowed per window; 0 = not checked.' })),
  total: Type.Optional(Type.Integer({ minimum: 0, description: 'Total tokens allowed per window; 0 = not checked.' })),
  ratioInputOverOutput: Type.Optional(Type.Number({ description: 'Accepted for Blaxel compatibility; not enforced.' }))
}, { additionalProperties: false, description: 'Token budget per window (type maxToken).' })

export const Policy = Type.Object({
  name: Name('Policy name, referenced by models.'),
  displayName: Type.Optional(Type.String({ maxLength: 128, description: 'Display name.' })),
  type: Type.Union([Type.Literal('location'), Type.Literal('flavor'), Type.Literal('maxToken')], { description: 'Policy type, as on Blaxel.' }),
  locations: Type.Optional(Type.Array(PolicyLocation, { maxItems: 256, description: 'Allowed locations (type location).' })),
  flavors: Type.Optional(Type.Array(Flavor, { maxItems: 64, description: 'Allowed flavors (type flavor).' })),
  maxTokens: Type.Optional(MaxTokens),
  resourceTypes: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8, description: 'Resource kinds the policy applies to (Blaxel compatibility).' })),
  dryRun: Type.Optional(Type.Boolean({ ...withDefault('Report what the policy would do (headers, logs, metrics) without rejecting ({default}).', D.policy.dryRun) }))
}, { additionalProperties: false })

export const ApiKey = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'Key name, shown in logs instead of the secret.' }),
  hash: Type.Optional(Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'sha256 of the key, as printed by `agnet token create-key`.' })),
  value: Type.Optional({ ...Secret, description: 'The key itself, normally an environment reference such as "${AGNET_DEMO_KEY}".' }),
  expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'The key stops working at this instant (RFC 3339).' })),
  revoked: Type.Optional(Type.Boolean({ ...withDefault('A revoked key is refused (takes effect on reload; {default}).', D.apiKey.revoked) })),
  scopes: Type.Optional(Type.Array(Type.String({ maxLength: 49 }), { maxItems: 1024, description: 'Models this key may call (least privilege); absent = every model it can reach.' }))
}, { additionalProperties: false })

export const Member = Type.Object({
  user: Type.String({ minLength: 1, maxLength: 128, description: 'User name (see `users`).' }),
  role: Type.Union([Type.Literal('admin'), Type.Literal('member')], { description: 'Workspace role; both may run inference.' })
}, { additionalProperties: false })

export const ServiceAccount = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'Service account name.' }),
  clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'OAuth client id for client_credentials.' })),
  clientSecret: Type.Optional({ ...Secret, description: 'OAuth client secret, normally an environment reference.' }),
  clientSecretHash: Type.Optional(Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'sha256 of the client secret, instead of clientSecret.' })),
  role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('member')], { ...withDefault('Role in its workspace ({default}).', D.serviceAccount.role) })),
  apiKeys: Type.Optional(Type.Array(ApiKey, { maxItems: 10000, description: 'API keys of the service account; they reach its one workspace.' }))
}, { additionalProperties: false })

export const User = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'User name.' }),
  email: Type.Optional(Type.String({ maxLength: 256, description: 'E-mail, informational.' })),
  apiKeys: Type.Optional(Type.Array(ApiKey, { maxItems: 10000, description: 'Personal API keys; they reach every workspace the user is a member of, with the user\'s role there.' }))
}, { additionalProperties: false })

export const IntegrationConnection = Type.Object({
  name: Name('Connection name, referenced by models.'),
  provider: Type.String({ pattern: '^[a-z0-9-]{1,40}$', description: 'Provider kind: openai, anthropic, gemini, cohere, mistral, deepseek, xai, cerebras, groq, huggingface, azure-openai-service, ... (Blaxel `spec.integration`).' }),
  baseUrl: Type.Optional(Type.String({ maxLength: 2048, description: 'Override of the provider base URL, e.g. a local model server or "mock://eu-fra-1".' })),
  apiKey: Type.Optional({ ...Secret, description: 'Provider credential injected upstream, normally an environment reference.' }),
  organization: Type.Optional(Type.String({ maxLength: 256, description: 'Provider organization (OpenAI-Organization).' })),
  headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 4096 }), { description: 'Extra headers sent upstream (values may use ${ENV}).' }))
}, { additionalProperties: false })

export const Deployment = Type.Object({
  region: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Region the deployment runs in.' }),
  name: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Deployment name (default: the region; unique within the model).' })),
  url: Type.Optional(Type.String({ maxLength: 2048, description: 'Upstream base URL (default: the integration connection base URL, else the provider\'s). "mock://<region>" means agnet\'s mock provider for that region.' })),
  integration: Type.Optional(Name('Integration connection for this deployment (default: the model\'s first).')),
  weight: Type.Optional(Type.Number({ minimum: 0, maximum: 1000000, ...withDefault('Weight for the weighted strategy ({default}).', D.deployment.weight) })),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000, description: 'Order for the priority strategy; lower is tried first (default: list order).' })),
  flavors: Type.Optional(Type.Array(Flavor, { maxItems: 16, description: 'Flavors of this deployment (default: the region\'s).' })),
  healthCheck: Type.Optional(Type.Object({
    path: Type.String({ pattern: '^/', maxLength: 1024, description: 'Path probed with GET, relative to the deployment URL.' }),
    interval: Type.Optional({ ...Duration, ...withDefault('Probe interval ({default}).', D.healthCheck.interval) })
  }, { additionalProperties: false, description: 'Optional active health probe.' }))
}, { additionalProperties: false })

export const Routing = Type.Object({
  strategy: Type.Optional(Type.Union([Type.Literal('latency'), Type.Literal('priority'), Type.Literal('weighted')], { ...withDefault('How a deployment is chosen among the allowed ones ({default}).', D.routing.strategy) })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, ...withDefault('Deployments tried per request ({default}).', D.routing.maxAttempts) })),
  budget: Type.Optional({ ...Duration, ...withDefault('Failover budget: once this long has passed since the request arrived, no other deployment is tried ({default}). An attempt already running is bounded by the timeouts, not by the budget.', D.routing.budget) }),
  replayBodyLimit: Type.Optional({ ...ByteSize, ...withDefault('Largest request body kept to replay on failover ({default}).', D.routing.replayBodyLimit) }),
  ejectAfter: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, ...withDefault('Consecutive failures that eject a deployment ({default}).', D.routing.ejectAfter) })),
  ejectFor: Type.Optional({ ...Duration, ...withDefault('First ejection length; doubles on each repeat ({default}).', D.routing.ejectFor) }),
  retryNonIdempotent: Type.Optional(Type.Boolean({ ...withDefault('Also move a POST or PATCH to another deployment when the connection breaks or resets after it was sent in full ({default}: such a request may already have run, so it is answered 502 UPSTREAM_UNREACHABLE with retryable: true instead of being done twice).', D.routing.retryNonIdempotent) }))
}, { additionalProperties: false, description: 'How deployments are chosen and failed over.' })

// Blaxel's own enums: a value outside them loads nowhere on Blaxel, so it is a config error
// here too (the SDKs would otherwise answer "model not found" much later).
export const RUNTIME_TYPES = [
  'hf_private_endpoint', 'hf_public_endpoint', 'huggingface', 'public_model', 'mcp', 'openai', 'anthropic', 'gemini',
  'mistral', 'deepseek', 'cohere', 'cerebras', 'xai', 'vertexai', 'azure-openai-service', 'azure-ai-inference',
  'azure-marketplace', 'groq'
] as const
export const RUNTIME_GENERATIONS = ['mk2', 'mk3'] as const

export const RuntimeSpec = Type.Object({
  type: Type.Union(RUNTIME_TYPES.map(t => Type.Literal(t)), { description: 'Provider type (Blaxel spec.runtime.type), e.g. openai.' }),
  model: Type.Optional(Type.String({ maxLength: 256, description: 'Provider model id, e.g. gpt-4o-mini.' })),
  organization: Type.Optional(Type.String({ maxLength: 256, description: 'Provider organization.' })),
  generation: Type.Optional(Type.Union(RUNTIME_GENERATIONS.map(g => Type.Literal(g)), { description: 'Blaxel runtime generation; absent = classic.' }))
}, { additionalProperties: false, description: 'What the model is at its provider (Blaxel spec.runtime).' })

export const Model = Type.Object({
  name: Name('Model name as it appears in /{workspace}/models/{model} (lower-case letters, digits, hyphens; at most 49).'),
  displayName: Type.Optional(Type.String({ maxLength: 63, description: 'Display name.' })),
  enabled: Type.Optional(Type.Boolean({ ...withDefault('A disabled model answers WORKLOAD_UNAVAILABLE ({default}).', D.model.enabled) })),
  runtime: RuntimeSpec,
  integrationConnections: Type.Optional(Type.Array(Name('Connection name.'), { maxItems: 8, description: 'Integration connections (first is the default).' })),
  policies: Type.Optional(Type.Array(Name('Policy name.'), { maxItems: 64, description: 'Policies attached by name.' })),
  deployments: Type.Optional(Type.Array(Deployment, { maxItems: 256, description: 'Where the model runs (default: one deployment per region of the network).' })),
  routing: Type.Optional(Routing),
  timeouts: Type.Optional(Timeouts),
  bodyLimit: Type.Optional({ ...ByteSize, description: 'Largest request body (default: server.bodyLimit).' }),
  labels: Type.Optional(Type.Record(Type.String({ maxLength: 63 }), Type.String({ maxLength: 256 }), { description: 'Labels.' }))
}, { additionalProperties: false })

export const Workspace = Type.Object({
  name: Name('Workspace name as it appears in URLs. Names of agnet\'s own prefixes (v0, api, run, healthz, ...) are refused.'),
  displayName: Type.Optional(Type.String({ maxLength: 128, description: 'Display name.' })),
  region: Type.Optional(Type.String({ maxLength: 64, description: 'Home region reported by the control plane.' })),
  members: Type.Optional(Type.Array(Member, { maxItems: 10000, description: 'Users with access and their role.' })),
  serviceAccounts: Type.Optional(Type.Array(ServiceAccount, { maxItems: 10000, description: 'Service accounts of the workspace.' })),
  integrations: Type.Optional(Type.Array(IntegrationConnection, { maxItems: 1000, description: 'Integration connections (provider credentials).' })),
  policies: Type.Optional(Type.Array(Policy, { maxItems: 10000, description: 'Policies of the workspace.' })),
  models: Type.Optional(Type.Array(Model, { maxItems: 100000, description: 'Model APIs of the workspace.' })),
  manifests: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 1000, description: 'Files or folders of Blaxel manifests (bl apply format) loaded into this workspace, relative to the config file.' }))
}, { additionalProperties: false })

export const ExternalIssuer = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'Name used in logs.' }),
  issuer: Type.String({ minLength: 1, maxLength: 2048, description: 'Required `iss` claim.' }),
  audience: Type.Union([Type.String({ maxLength: 2048 }), Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 32 })], { description: 'Accepted `aud` value(s); required.' }),
  algorithms: Type.Array(Type.Union([Type.Literal('HS256'), Type.Literal('HS384'), Type.Literal('HS512'), Type.Literal('RS256'), Type.Literal('RS384'), Type.Literal('RS512'), Type.Literal('PS256'), Type.Literal('ES256'), Type.Literal('ES384'), Type.Literal('EdDSA')]), { minItems: 1, maxItems: 8, description: 'Algorithms accepted from this issuer (pinned).' }),
  secret: Type.Optional({ ...Secret, description: 'Shared secret for HS* algorithms.' }),
  publicKeyPem: Type.Optional(Type.String({ maxLength: 65536, description: 'A PEM public key (SPKI).' })),
  publicKeyFile: Type.Optional(Type.String({ maxLength: 4096, description: 'Path of a PEM public key file.' })),
  jwksFile: Type.Optional(Type.String({ maxLength: 4096, description: 'Path of a JWKS file.' })),
  jwksUrl: Type.Optional(Type.String({ maxLength: 2048, description: 'JWKS URL, fetched with a timeout and cached.' })),
  jwksCacheTtl: Type.Optional({ ...Duration, ...withDefault('How long fetched keys are trusted ({default}).', D.external.jwksCacheTtl) }),
  jwksCooldown: Type.Optional({ ...Duration, ...withDefault('Least time between two fetches triggered by an unknown kid ({default}).', D.external.jwksCooldown) }),
  jwksTimeout: Type.Optional({ ...Duration, ...withDefault('JWKS fetch timeout ({default}).', D.external.jwksTimeout) }),
  clockTolerance: Type.Optional({ ...Duration, ...withDefault('Allowed clock skew for exp/nbf/iat ({default}).', D.external.clockTolerance) }),
  claims: Type.Optional(Type.Object({
    subject: Type.Optional(Type.String({ maxLength: 128, ...withDefault('Claim holding the subject ({default}).', D.claims.subject) })),
    workspace: Type.Optional(Type.String({ maxLength: 128, ...withDefault('Claim holding the workspace name or list ({default}).', D.claims.workspace) })),
    role: Type.Optional(Type.String({ maxLength: 128, ...withDefault('Claim holding the role ({default}; missing = member).', D.claims.role) }))
  }, { additionalProperties: false, description: 'How claims map to a principal.' }))
}, { additionalProperties: false })

export const Config = Type.Object({
  version: Type.Optional(Type.Literal(1, { description: 'Config format version.' })),
  server: Type.Optional(Type.Object({
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, ...withDefault('Listening port ({default}; --port and AGNET_PORT win).', D.server.port) })),
    host: Type.Optional(Type.String({ maxLength: 256, ...withDefault('Listening address ({default}).', D.server.host) })),
    publicUrl: Type.Optional(Type.String({ maxLength: 2048, description: 'Base URL clients use, for metadata.url (default: http://localhost:<port>).' })),
    region: Type.Optional(Type.String({ maxLength: 64, ...withDefault('The region the gateway stands in: the origin of requests without a trusted X-Agnet-Origin ({default}).', D.server.region) })),
    trustOriginHeader: Type.Optional(Type.Boolean({ ...withDefault('Honour X-Agnet-Origin (a region or country code) to simulate callers from elsewhere ({default}).', D.server.trustOriginHeader) })),
    bodyLimit: Type.Optional({ ...ByteSize, ...withDefault('Largest request body ({default}); larger gets 413 before any upstream call.', D.server.bodyLimit) }),
    maxHeaderBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1048576, ...withDefault('Largest request header block ({default}).', D.server.maxHeaderBytes) })),
    logLevel: Type.Optional(Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { ...withDefault('pino log level ({default}).', D.server.logLevel) })),
    accessLog: Type.Optional(Type.Boolean({ ...withDefault('One access line per request ({default}).', D.server.accessLog) })),
    shutdownGrace: Type.Optional({ ...Duration, ...withDefault('How long in-flight streams may finish on shutdown ({default}).', D.server.shutdownGrace) }),
    upstreamConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, ...withDefault('Upper bound of pooled connections per upstream origin ({default}).', D.server.upstreamConnections) }))
  }, { additionalProperties: false, description: 'The listening server.' })),
  regions: Type.Optional(Type.Array(Region, { maxItems: 1000, ...withDefault('The network\'s regions ({default}).', D.regions) })),
  network: Type.Optional(Type.Object({
    rtt: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Record(Type.String({ maxLength: 64 }), Type.Number({ minimum: 0, maximum: 100000 })), { description: 'Simulated round-trip times in ms: rtt[from][to], from a region or a country code; symmetric when one direction is missing.' })),
    applyDelay: Type.Optional(Type.Boolean({ ...withDefault('Add the simulated RTT as real delay before forwarding, so latency routing can be watched ({default}).', D.network.applyDelay) })),
    faults: Type.Optional(Type.Array(Fault, { maxItems: 1000, description: 'Network faults in force from start-up (see `agnet chaos`); replaced on every reload. Faults added over the HTTP API are kept across reloads and lost on restart.' }))
  }, { additionalProperties: false, description: 'The simulated network between regions and origins.' })),
  defaults: Type.Optional(Type.Object({
    timeouts: Type.Optional(Timeouts),
    routing: Type.Optional(Routing)
  }, { additionalProperties: false, description: 'Defaults for every model.' })),
  auth: Type.Optional(Type.Object({
    open: Type.Optional(Type.Boolean({ description: 'Whether the run plane is open (no credential checked). Unset: open exactly when no API key, service account or external issuer is configured. true: open, stated on purpose (an error while any credential is configured); a reload may then open a run plane that required credentials. false: credentials are always required, so with none configured every run-plane request is refused with 401.' })),
    issuer: Type.Optional(Type.Object({
      issuer: Type.Optional(Type.String({ maxLength: 2048, description: 'The `iss` of issued tokens (default: the public URL).' })),
      tokenTtl: Type.Optional({ ...Duration, ...withDefault('Access token lifetime ({default}).', D.issuer.tokenTtl) }),
      refreshTokenTtl: Type.Optional({ ...Duration, ...withDefault('Refresh token lifetime ({default}, 30 days).', D.issuer.refreshTokenTtl) }),
      privateKeyPem: Type.Optional({ ...Secret, description: 'PKCS#8 PEM signing key (ES256); default: generated at start-up.' }),
      privateKeyFile: Type.Optional(Type.String({ maxLength: 4096, description: 'Path of a PKCS#8 PEM signing key.' }))
    }, { additionalProperties: false, description: 'The built-in token issuer (/v0/oauth/token).' })),
    external: Type.Optional(Type.Array(ExternalIssuer, { maxItems: 64, description: 'External JWT issuers trusted on the run plane.' })),
    cacheSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000000, ...withDefault('Verified tokens kept in memory ({default}).', D.auth.cacheSize) }))
  }, { additionalProperties: false, description: 'Identity.' })),
  users: Type.Optional(Type.Array(User, { maxItems: 100000, description: 'Users and their personal API keys.' })),
  usage: Type.Optional(Type.Object({
    redis: Type.Optional(Type.String({ maxLength: 2048, description: 'redis:// URL: token counters shared by every replica on it (default: in memory).' })),
    failMode: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')], { ...withDefault('When Redis is unreachable or slower than usage.timeout: admit unchecked with a log line and a metric (open), or refuse with 503 WORKLOAD_UNAVAILABLE and Retry-After: 1 (closed); {default}. A 429 would claim the budget is spent, which nobody knows then.', D.usage.failMode) })),
    timeout: Type.Optional({ ...Duration, ...withDefault('Longest wait for a Redis answer ({default}).', D.usage.timeout) }),
    keyPrefix: Type.Optional(Type.String({ maxLength: 64, ...withDefault('Prefix of Redis keys ({default}).', D.usage.keyPrefix) })),
    reserveOutput: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000000, ...withDefault('Output tokens held for a request in flight that sets no max_tokens (or alike) while nothing is learned yet of its model\'s requests on the store ({default}). Larger: a cold burst refuses more; smaller: it may overshoot more.', D.usage.reserveOutput) }))
  }, { additionalProperties: false, description: 'Token-usage counters.' })),
  workspaces: Type.Array(Workspace, { maxItems: 100000, description: 'Workspaces.' })
}, { additionalProperties: false, description: 'agnet configuration.' })

export type ConfigInput = Static<typeof Config>
export type WorkspaceInput = Static<typeof Workspace>
export type ModelInput = Static<typeof Model>
export type PolicyInput = Static<typeof Policy>
export type IntegrationInput = Static<typeof IntegrationConnection>
export type DeploymentInput = Static<typeof Deployment>
export type RegionInput = Static<typeof Region>
export type ApiKeyInput = Static<typeof ApiKey>
export type TimeoutsInput = Static<typeof Timeouts>
export type RoutingInput = Static<typeof Routing>
export type ExternalIssuerInput = Static<typeof ExternalIssuer>
export type ServiceAccountInput = Static<typeof ServiceAccount>
export type UserInput = Static<typeof User>

// Blaxel manifests, as `bl apply` takes them (apiVersion blaxel.ai/v1alpha1, kinds Model,
// Policy and IntegrationConnection), converted into agnet's own entries so that one schema
// validates both. The manifest itself is never edited by the user to load it.
import { isRecord, type Json } from './parsed.js'

export type ManifestKind = 'Model' | 'Policy' | 'IntegrationConnection'
export const MANIFEST_API_VERSION = 'blaxel.ai/v1alpha1'

export function isManifest (v: unknown): v is Json {
  return isRecord(v) && typeof v.apiVersion === 'string' && typeof v.kind === 'string'
}

function obj (v: unknown): Json { return isRecord(v) ? v : {} }

/** Drops undefined fields so the schema's additionalProperties check sees only what was written. */
function clean (o: Json): Json {
  const out: Json = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out
}

export type ConvertedManifest =
  | { kind: ManifestKind; section: 'models' | 'policies' | 'integrations'; entry: Json }
  | { error: string }

export function manifestToEntry (m: Json): ConvertedManifest {
  if (m.apiVersion !== MANIFEST_API_VERSION) return { error: `unsupported apiVersion "${String(m.apiVersion)}"; expected ${MANIFEST_API_VERSION}` }
  const metadata = obj(m.metadata)
  const spec = obj(m.spec)
  switch (m.kind) {
    case 'Model':
      return {
        kind: 'Model',
        section: 'models',
        entry: clean({
          name: metadata.name,
          displayName: metadata.displayName,
          labels: metadata.labels,
          enabled: spec.enabled,
          runtime: spec.runtime === undefined ? undefined : clean({
            type: obj(spec.runtime).type,
            model: obj(spec.runtime).model,
            organization: obj(spec.runtime).organization,
            generation: obj(spec.runtime).generation
          }),
          integrationConnections: spec.integrationConnections,
          policies: spec.policies,
          // agnet's own extensions may ride in the manifest's spec; Blaxel ignores them.
          deployments: spec.deployments,
          routing: spec.routing,
          timeouts: spec.timeouts
        })
      }
    case 'Policy':
      return {
        kind: 'Policy',
        section: 'policies',
        entry: clean({
          name: metadata.name,
          displayName: metadata.displayName,
          type: spec.type,
          locations: spec.locations,
          flavors: spec.flavors,
          maxTokens: spec.maxTokens,
          resourceTypes: spec.resourceTypes,
          dryRun: spec.dryRun
        })
      }
    case 'IntegrationConnection': {
      const config = obj(spec.config)
      return {
        kind: 'IntegrationConnection',
        section: 'integrations',
        entry: clean({
          name: metadata.name,
          provider: spec.integration,
          apiKey: obj(spec.secret).apiKey,
          organization: config.organization,
          baseUrl: config.baseUrl ?? config.endpoint
        })
      }
    }
    default:
      return { error: `unsupported kind "${String(m.kind)}"; agnet loads Model, Policy and IntegrationConnection` }
  }
}

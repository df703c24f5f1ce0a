// GET /integrations/{type}: the provider definition, whose `endpoints` let `bl run` (and
// `agnet run`) choose a default path; GET /integrations/connections[/{name}]: the workspace's
// connections, never with their secret.
import type { FastifyInstance } from 'fastify'
import type { RtIntegration, RtWorkspace, Runtime } from '../core/runtime.js'
import { PROVIDERS } from '../config/defaults.js'
import { cpState, iso, requireWorkspace } from './request.js'
import { EdgeError } from '../core/errors.js'

export interface IntegrationEndpoint { method: string; body: string; models: unknown[]; ignoreModels: unknown[] }

export interface IntegrationResource {
  name: string
  displayName: string
  endpoints: Record<string, IntegrationEndpoint>
  headers: Record<string, string>
  params: Record<string, string>
  additionalInfos: Record<string, string>
  organizations: unknown[]
  repositories: unknown[]
}

const DISPLAY: Record<string, string> = {
  openai: 'OpenAI', anthropic: 'Anthropic', gemini: 'Google Gemini', cohere: 'Cohere', mistral: 'Mistral AI', deepseek: 'DeepSeek',
  xai: 'xAI', cerebras: 'Cerebras', groq: 'Groq', huggingface: 'Hugging Face', 'azure-openai-service': 'Azure OpenAI Service',
  'azure-ai-inference': 'Azure AI Inference', 'azure-marketplace': 'Azure Marketplace', public_model: 'Public model'
}

/** Built once: the definitions only depend on the provider table. */
const DEFINITIONS: ReadonlyMap<string, IntegrationResource> = new Map(Object.entries(PROVIDERS).map(([name, info]) => {
  const endpoints: Record<string, IntegrationEndpoint> = {}
  // Listing endpoints are GETs; every inference endpoint is a POST.
  for (const path of info.endpoints) endpoints[path] = { method: path.endsWith('/models') ? 'GET' : 'POST', body: '', models: [], ignoreModels: [] }
  return [name, Object.freeze({ name, displayName: DISPLAY[name] ?? name, endpoints, headers: {}, params: {}, additionalInfos: {}, organizations: [], repositories: [] })]
}))

export function integrationDefinition (type: string): IntegrationResource | null {
  return DEFINITIONS.get(type) ?? null
}

export interface ConnectionResource {
  metadata: { name: string; displayName: string; workspace: string; labels: Record<string, string>; createdAt: string; updatedAt: string; createdBy: string; updatedBy: string }
  spec: { integration: string; config: Record<string, string>; sandbox: boolean }
}

export function connectionResource (ic: RtIntegration, ws: RtWorkspace, runtime: Runtime): ConnectionResource {
  const loaded = iso(runtime.loadedAt)
  // Only non-secret settings: the API key and extra headers (which may hold tokens) stay out.
  const config: Record<string, string> = {}
  if (ic.input.organization !== undefined) config.organization = ic.input.organization
  return {
    metadata: { name: ic.name, displayName: ic.name, workspace: ws.name, labels: {}, createdAt: loaded, updatedAt: loaded, createdBy: 'agnet', updatedBy: 'agnet' },
    spec: { integration: ic.provider, config, sandbox: false }
  }
}

export function registerIntegrationRoutes (app: FastifyInstance): void {
  app.get('/integrations/connections', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state)
    return [...ws.integrations.values()].map(ic => connectionResource(ic, ws, state.runtime))
  })

  app.get<{ Params: { name: string } }>('/integrations/connections/:name', async (req) => {
    const state = cpState(req)
    const ws = requireWorkspace(state)
    const ic = ws.integrations.get(req.params.name)
    if (ic === undefined) throw new EdgeError('RESOURCE_NOT_FOUND', `Integration connection "${req.params.name.slice(0, 64)}" not found in workspace "${ws.name}".`)
    return connectionResource(ic, ws, state.runtime)
  })

  app.get<{ Params: { type: string } }>('/integrations/:type', async (req) => {
    cpState(req)
    const def = integrationDefinition(req.params.type)
    if (def === null) throw new EdgeError('RESOURCE_NOT_FOUND', `Integration "${req.params.type.slice(0, 64)}" not found; known: ${[...DEFINITIONS.keys()].join(', ')}.`)
    return def
  })
}

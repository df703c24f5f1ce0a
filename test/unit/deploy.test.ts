// deploy/ checked without a container engine or a cluster: the compose file against the
// Compose specification's JSON Schema (the copy the dclint package ships), the Kubernetes
// manifests against Kubernetes' OpenAPI schemas (kubernetes-models: ajv validators for types,
// enums and required fields, and its TypeScript types for unknown fields, which the OpenAPI
// schemas allow), and the facts the files share with the Dockerfile, the config and nginx.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import ts from 'typescript'
import { parse, parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const DEPLOY = join(REPO, 'deploy')
const K8S = join(DEPLOY, 'kubernetes')

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : {})
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

// ---- Compose --------------------------------------------------------------------------

function composeValidator (): (doc: unknown) => string[] {
  const schema = JSON.parse(readFileSync(join(REPO, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8')) as Json
  // The specification's "format" values name Compose's own notions (durations, ports): no
  // JSON Schema format checks them, so they are accepted as annotations.
  // It declares draft-07 by its https address, which ajv (draft-07 by default) knows as http.
  expect(schema.$schema).toBe('https://json-schema.org/draft-07/schema')
  delete schema.$schema
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false })
  const validate = ajv.compile(schema)
  return doc => (validate(doc) ? [] : (validate.errors ?? []).map(e => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`))
}

const composeText = readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8')
const compose = obj(parse(composeText, { merge: true }))
const services = obj(compose.services)
const agnetServices = Object.entries(services).filter(([, s]) => obj(obj(s).build).dockerfile === 'Dockerfile')

describe('deploy/compose.yaml', () => {
  const validate = composeValidator()

  it('validates against the Compose specification', () => {
    expect(validate(compose)).toEqual([])
  })

  it('the schema is not a formality: it refuses a misspelt key and a wrong type', () => {
    const typo = structuredClone(compose)
    obj(obj(typo.services).redis).helthcheck = { test: ['CMD', 'true'] }
    expect(validate(typo).join('\n')).toMatch(/additional properties|helthcheck/)
    const wrong = structuredClone(compose)
    obj(obj(wrong.services).lb).ports = { http: 8080 }
    expect(validate(wrong)).not.toEqual([])
  })

  it('runs two agnet replicas from the Dockerfile, hardened, healthy, on a read-only config, sharing Redis', () => {
    expect(agnetServices.map(([name]) => name)).toEqual(['agnet-1', 'agnet-2'])
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8')
    const health = JSON.parse(/HEALTHCHECK .*?CMD (\[.*\])/.exec(dockerfile)?.[1] ?? 'null') as string[]
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1]
    for (const [, raw] of agnetServices) {
      const s = obj(raw)
      expect(s.read_only).toBe(true)
      expect(s.user).toBe(user)
      expect(s.cap_drop).toEqual(['ALL'])
      expect(arr(obj(s.healthcheck).test)).toEqual(['CMD', ...health])
      expect(s.volumes).toEqual(['./config:/etc/agnet:ro'])
      expect(obj(s.environment).AGNET_CONFIG).toBe('/etc/agnet')
      expect(obj(s.environment).AGNET_REDIS_URL).toBe('redis://redis:6379')
      expect(obj(obj(s.depends_on).redis).condition).toBe('service_healthy')
    }
    expect(obj(services.redis).healthcheck).toBeDefined()
  })

  it('puts nginx in front of exactly those replicas, with its config mounted read-only', () => {
    const lb = obj(services.lb)
    expect(String(lb.image)).toMatch(/^nginx:/)
    expect(lb.volumes).toEqual(['./nginx.conf:/etc/nginx/nginx.conf:ro'])
    expect(lb.read_only).toBe(true)
    const nginx = readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8')
    const upstream = /upstream agnet \{([^}]*)\}/.exec(nginx)?.[1] ?? ''
    const servers = [...upstream.matchAll(/^\s*server (\S+):(\d+)/gm)].map(m => `${m[1] ?? ''}:${m[2] ?? ''}`)
    expect(servers).toEqual(agnetServices.map(([name]) => `${name}:8080`))
    for (const [name] of agnetServices) expect(obj(obj(lb.depends_on)[name]).condition).toBe('service_healthy')
    // Inference calls are POSTs: they are moved to the other replica on a connection error
    // only, never on a timeout or an answer.
    expect(nginx).toMatch(/^\s*proxy_next_upstream error non_idempotent;$/m)
  })
})

// ---- Kubernetes -------------------------------------------------------------------------

interface Manifest { file: string; index: number; doc: Json }

function manifests (): Manifest[] {
  const out: Manifest[] = []
  for (const file of readdirSync(K8S).filter(f => /\.ya?ml$/.test(f)).sort()) {
    parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).forEach((d, index) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message ?? 'YAML error'}`)
      const doc = obj(d.toJS())
      if (Object.keys(doc).length > 0) out.push({ file, index, doc })
    })
  }
  return out
}

/** kubernetes-models' module for an apiVersion ("v1", "apps/v1", "policy/v1"). */
function modelPath (apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`
}

async function ajvErrors (m: Manifest): Promise<string[]> {
  const mod = await import(modelPath(String(m.doc.apiVersion), String(m.doc.kind))) as Record<string, unknown>
  const Model = mod[String(m.doc.kind)] as (new (data: Json) => { validate: () => void }) | undefined
  if (Model === undefined) return [`no schema for ${String(m.doc.apiVersion)} ${String(m.doc.kind)}`]
  try {
    new Model(m.doc).validate()
    return []
  } catch (err) {
    return [(err as Error).message]
  }
}

/** Unknown fields: each document as an object literal `satisfies` its Kubernetes type. */
function unknownFieldErrors (list: Manifest[]): string[] {
  const dir = join(REPO, 'node_modules/.cache/agnet-deploy-check')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `check-${process.pid}.ts`)
  const lines = list.map((m, i) => {
    const kind = String(m.doc.kind)
    return `import type { I${kind} as T${i} } from '${modelPath(String(m.doc.apiVersion), kind)}'\nexport const doc${i} = ${JSON.stringify(m.doc)} satisfies T${i}`
  })
  writeFileSync(file, lines.join('\n') + '\n')
  try {
    const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] })
    return ts.getPreEmitDiagnostics(program).map(d => {
      const line = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1
      const m = line >= 0 ? list[Math.floor(line / 2)] : undefined
      return `${m === undefined ? '' : `${m.file}#${m.index}: `}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
    })
  } finally {
    rmSync(file, { force: true })
  }
}

const list = manifests()
const find = (kind: string, name: string): Json => obj(list.find(m => m.doc.kind === kind && obj(m.doc.metadata).name === name)?.doc)

describe('deploy/kubernetes', () => {
  it('holds a Deployment, Service, ConfigMap, PodDisruptionBudget and Redis', () => {
    expect(list.map(m => `${String(m.doc.kind)}/${String(obj(m.doc.metadata).name)}`).sort()).toEqual([
      'ConfigMap/agnet-config', 'Deployment/agnet', 'Deployment/agnet-redis', 'PodDisruptionBudget/agnet', 'Service/agnet', 'Service/agnet-redis'
    ])
  })

  it('validates every manifest against the Kubernetes OpenAPI schemas, unknown fields included', async () => {
    const errors = (await Promise.all(list.map(async m => (await ajvErrors(m)).map(e => `${m.file}#${m.index}: ${e}`)))).flat()
    expect(errors).toEqual([])
    expect(unknownFieldErrors(list)).toEqual([])
  }, 60_000)

  it('the validation is not a formality: it refuses a wrong type, a bad enum and a misspelt field', async () => {
    const base = list.find(m => m.doc.kind === 'Deployment') as Manifest
    const wrongType = structuredClone(base)
    obj(wrongType.doc.spec).replicas = 'two'
    expect(await ajvErrors(wrongType)).not.toEqual([])
    const badEnum = structuredClone(base)
    obj(arr(obj(obj(obj(badEnum.doc.spec).template).spec).containers)[0]).imagePullPolicy = 'Sometimes'
    expect(await ajvErrors(badEnum)).not.toEqual([])
    const typo = structuredClone(base)
    obj(typo.doc.spec).replica = 2
    expect(unknownFieldErrors([typo]).join('\n')).toMatch(/replica/)
  }, 60_000)

  it('probes /readyz and /healthz, runs non-root on a read-only root, mounts the ConfigMap as a folder and reads keys from a Secret', () => {
    const deployment = find('Deployment', 'agnet')
    const pod = obj(obj(obj(deployment.spec).template).spec)
    const container = obj(arr(pod.containers)[0])
    expect(obj(obj(container.startupProbe).httpGet).path).toBe('/readyz')
    expect(obj(obj(container.readinessProbe).httpGet).path).toBe('/readyz')
    expect(obj(obj(container.livenessProbe).httpGet).path).toBe('/healthz')
    expect(obj(container.resources).requests).toBeDefined()
    expect(obj(obj(container.resources).limits).memory).toBeDefined()
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8')
    const [uid, gid] = (/^USER (\d+):(\d+)$/m.exec(dockerfile) ?? []).slice(1).map(Number)
    expect(obj(pod.securityContext)).toMatchObject({ runAsNonRoot: true, runAsUser: uid, runAsGroup: gid })
    expect(obj(container.securityContext)).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
    expect(obj(arr(container.ports)[0]).containerPort).toBe(8080)
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }
    expect(container.image).toBe(`agnet:${pkg.version}`)
    // A subPath mount never sees ConfigMap updates: the whole volume is mounted.
    const mount = obj(arr(container.volumeMounts).find(v => obj(v).name === 'config'))
    expect(mount).toMatchObject({ mountPath: '/etc/agnet', readOnly: true })
    expect(mount.subPath).toBeUndefined()
    expect(arr(container.env)).toContainEqual({ name: 'AGNET_CONFIG', value: '/etc/agnet' })
    expect(obj(arr(pod.volumes).find(v => obj(v).name === 'config')).configMap).toEqual({ name: 'agnet-config' })
    expect(arr(container.envFrom)).toContainEqual({ secretRef: { name: 'agnet-secrets' } })
    // The pods wait out endpoint removal, then drain, within the grace period.
    expect(Number(pod.terminationGracePeriodSeconds)).toBeGreaterThan(5 + 10)
  })

  it('selects the gateway pods from the Service and the PodDisruptionBudget, and points agnet at the Redis Service', () => {
    const deployment = find('Deployment', 'agnet')
    const labels = obj(obj(obj(deployment.spec).template).metadata).labels
    expect(obj(find('Service', 'agnet').spec).selector).toEqual(labels)
    expect(obj(obj(find('PodDisruptionBudget', 'agnet').spec).selector).matchLabels).toEqual(labels)
    expect(Number(obj(deployment.spec).replicas)).toBeGreaterThan(Number(obj(find('PodDisruptionBudget', 'agnet').spec).minAvailable))
    const container = obj(arr(obj(obj(obj(deployment.spec).template).spec).containers)[0])
    const redisPort = obj(arr(obj(find('Service', 'agnet-redis').spec).ports)[0]).port
    expect(arr(container.env)).toContainEqual({ name: 'AGNET_REDIS_URL', value: `redis://agnet-redis:${String(redisPort)}` })
  })

  it('carries in its ConfigMap the same config as deploy/config', () => {
    const data = obj(find('ConfigMap', 'agnet-config').data)
    expect(Object.keys(data)).toEqual(['agnet.yaml'])
    expect(data['agnet.yaml']).toBe(readFileSync(join(DEPLOY, 'config/agnet.yaml'), 'utf8'))
  })
})

// Step one and two of the config pipeline: YAML (a file or a folder) → one validated
// ConfigInput. Every problem found is reported, each with file, line, field and what was
// expected, so `agnet config check` can print them all at once.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { LineCounter, parseAllDocuments, type Document } from 'yaml'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { Config, type ConfigInput } from './schema.js'
import { isManifest, manifestToEntry, type ManifestKind } from './manifests.js'
import { RESERVED_WORKSPACE_NAMES } from './defaults.js'

/** YAML is bounded: big or deeply nested files and alias bombs are refused (gateway-lessons rule 9). */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024 * 1024
export const MAX_ALIAS_COUNT = 100
export const MAX_DEPTH = 64
const MAX_FILES = 10000

export interface ConfigProblem {
  file: string
  line: number | null
  column: number | null
  field: string
  message: string
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[]
  constructor (problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.problems = problems
  }
}

export function formatProblem (p: ConfigProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}${p.column === null ? '' : `:${p.column}`}`
  return `${where}: ${p.field === '' ? '(root)' : p.field}: ${p.message}`
}

export interface LoadedConfig {
  input: ConfigInput
  /** The files read, for the watcher. */
  files: string[]
  /** The path given (file or folder). */
  source: string
  /** Where a field of the merged config was written, for problems found after validation. */
  locate: (path: Array<string | number>) => ConfigProblem
}

interface Origin { file: string; doc: Document; lines: LineCounter; base: Array<string | number>; kind: ManifestKind | null }

/** Where each top-level array element came from, to point errors at the right line. */
class SourceMap {
  private readonly origins = new Map<string, Origin>()
  private fallback: Origin | null = null

  set (pointer: string, origin: Origin): void { this.origins.set(pointer, origin) }
  setRoot (origin: Origin): void { this.fallback ??= origin }

  locate (path: Array<string | number>): { origin: Origin | null; inner: Array<string | number> } {
    for (let i = path.length; i > 0; i--) {
      const key = '/' + path.slice(0, i).join('/')
      const origin = this.origins.get(key)
      if (origin !== undefined) return { origin, inner: path.slice(i) }
    }
    return { origin: this.fallback, inner: path }
  }
}

let validator: ValidateFunction | null = null
function getValidator (): ValidateFunction {
  if (validator === null) {
    const ajv = new Ajv2019({ allErrors: true, strict: false, allowUnionTypes: true })
    ;(addFormats as unknown as (a: Ajv2019) => void)(ajv)
    validator = ajv.compile(Config)
  }
  return validator
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** Replaces ${VAR} and ${VAR:-default} in a string; $${ stays a literal ${. */
export function expandEnv (value: string, env: NodeJS.ProcessEnv, missing: (name: string) => void): string {
  if (!value.includes('${')) return value
  return value.replace(ENV_REF, (whole, name: string | undefined, def: string | undefined) => {
    if (whole === '$${') return '${'
    const v = name === undefined ? undefined : env[name]
    if (v !== undefined && v !== '') return v
    if (def !== undefined) return def
    missing(name ?? '')
    return ''
  })
}

function listYamlFiles (dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue
    const p = join(dir, entry.name)
    if (entry.isDirectory()) listYamlFiles(p, out)
    else if (/\.ya?ml$/i.test(entry.name)) out.push(p)
    if (out.length > MAX_FILES) throw new ConfigError([{ file: dir, line: null, column: null, field: '', message: `more than ${MAX_FILES} YAML files` }])
  }
}

function depthOf (v: unknown, limit: number, d = 0): number {
  if (d > limit) return d
  if (Array.isArray(v)) { let m = d; for (const x of v) m = Math.max(m, depthOf(x, limit, d + 1)); return m }
  if (v !== null && typeof v === 'object') { let m = d; for (const x of Object.values(v)) m = Math.max(m, depthOf(x, limit, d + 1)); return m }
  return d
}

function position (origin: Origin, inner: Array<string | number>): { line: number | null; column: number | null } {
  let path = inner
  if (origin.kind !== null) path = manifestPath(origin.kind, inner)
  for (let i = path.length; i >= 0; i--) {
    const node = origin.doc.getIn([...origin.base, ...path.slice(0, i)], true) as { range?: [number, number, number] } | undefined
    if (node !== undefined && node !== null && typeof node === 'object' && Array.isArray(node.range)) {
      const pos = origin.lines.linePos(node.range[0])
      return { line: pos.line, column: pos.col }
    }
  }
  return { line: null, column: null }
}

/** Maps a field of a converted manifest entry back to where it stands in the manifest. */
function manifestPath (kind: ManifestKind, inner: Array<string | number>): Array<string | number> {
  const [head, ...rest] = inner
  if (head === undefined) return []
  if (head === 'name' || head === 'displayName' || head === 'labels') return ['metadata', head, ...rest]
  if (kind === 'IntegrationConnection') {
    if (head === 'provider') return ['spec', 'integration', ...rest]
    if (head === 'apiKey') return ['spec', 'secret', 'apiKey', ...rest]
    return ['spec', 'config', head, ...rest]
  }
  return ['spec', head, ...rest]
}

interface ParsedFile { file: string; docs: Array<{ doc: Document; lines: LineCounter; value: unknown }> }

function parseFile (file: string, problems: ConfigProblem[]): ParsedFile | null {
  let text: string
  try {
    const size = statSync(file).size
    if (size > MAX_CONFIG_FILE_BYTES) {
      problems.push({ file, line: null, column: null, field: '', message: `file is ${size} bytes; at most ${MAX_CONFIG_FILE_BYTES} are read` })
      return null
    }
    text = readFileSync(file, 'utf8')
  } catch (err) {
    problems.push({ file, line: null, column: null, field: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}` })
    return null
  }
  const lines = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true })
  const out: ParsedFile = { file, docs: [] }
  const list = Array.isArray(docs) ? docs : [docs]
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = lines.linePos(e.pos[0])
        problems.push({ file, line: pos.line, column: pos.col, field: '', message: `YAML: ${e.message.split('\n')[0] ?? e.code}` })
      }
      continue
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (err) {
      problems.push({ file, line: null, column: null, field: '', message: `YAML: ${(err as Error).message.split('\n')[0] ?? 'invalid'}` })
      continue
    }
    if (value === null || value === undefined) continue
    if (depthOf(value, MAX_DEPTH) > MAX_DEPTH) {
      problems.push({ file, line: null, column: null, field: '', message: `nesting deeper than ${MAX_DEPTH} levels` })
      continue
    }
    out.docs.push({ doc, lines, value })
  }
  return out
}

type Json = Record<string, unknown>
const ARRAY_KEYS = ['workspaces', 'users', 'regions'] as const
const OBJECT_KEYS = ['server', 'network', 'defaults', 'auth', 'usage'] as const

export interface LoadOptions { env?: NodeJS.ProcessEnv }

/** Reads, merges, expands and validates. Throws ConfigError listing every problem. */
export function loadConfig (source: string, opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env
  const problems: ConfigProblem[] = []
  const root = resolve(source)
  let files: string[] = []
  try {
    if (statSync(root).isDirectory()) listYamlFiles(root, files)
    else files = [root]
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError([{ file: source, line: null, column: null, field: '', message: 'no such file or folder' }])
  }
  if (files.length === 0) throw new ConfigError([{ file: source, line: null, column: null, field: '', message: 'no .yaml or .yml file in this folder' }])

  const merged: Json = { workspaces: [] }
  const map = new SourceMap()
  const pendingManifests: Array<{ origin: Origin; value: Json; workspace: string | null }> = []
  const manifestDirs = new Map<string, string>() // workspace → config dir, for relative manifest paths

  const absorb = (file: string, doc: Document, lines: LineCounter, value: unknown, forcedWorkspace: string | null): void => {
    const origin: Origin = { file, doc, lines, base: [], kind: null }
    if (isManifest(value)) {
      const md = (value as { metadata?: { workspace?: unknown } }).metadata
      const ws = forcedWorkspace ?? (typeof md?.workspace === 'string' ? md.workspace : null)
      pendingManifests.push({ origin, value: value as Json, workspace: ws })
      return
    }
    if (forcedWorkspace !== null) {
      problems.push({ file, line: 1, column: 1, field: '', message: 'a file listed in a workspace\'s manifests must hold Blaxel manifests (apiVersion: blaxel.ai/v1alpha1)' })
      return
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ file, line: 1, column: 1, field: '', message: 'expected a mapping at the top of the document' })
      return
    }
    map.setRoot(origin)
    for (const [k, v] of Object.entries(value as Json)) {
      if ((ARRAY_KEYS as readonly string[]).includes(k) && Array.isArray(v)) {
        const target = (merged[k] ??= []) as unknown[]
        v.forEach((item, i) => {
          map.set(`/${k}/${target.length}`, { ...origin, base: [k, i] })
          target.push(item)
          if (k === 'workspaces' && item !== null && typeof item === 'object' && typeof (item as Json).name === 'string') manifestDirs.set((item as Json).name as string, dirname(file))
        })
      } else if ((OBJECT_KEYS as readonly string[]).includes(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
        if (merged[k] !== undefined) {
          const pos = position(origin, [k])
          problems.push({ file, line: pos.line, column: pos.column, field: k, message: `"${k}" is defined in more than one file; define it once` })
          continue
        }
        map.set(`/${k}`, { ...origin, base: [k] })
        merged[k] = v
      } else {
        if (merged[k] !== undefined && k !== 'workspaces') {
          const pos = position(origin, [k])
          problems.push({ file, line: pos.line, column: pos.column, field: k, message: `"${k}" is defined in more than one file; define it once` })
          continue
        }
        map.set(`/${k}`, { ...origin, base: [k] })
        merged[k] = v
      }
    }
  }

  for (const file of files) {
    const parsed = parseFile(file, problems)
    if (parsed === null) continue
    for (const d of parsed.docs) absorb(file, d.doc, d.lines, d.value, null)
  }

  // Manifests named by workspaces (relative to the file that names them).
  const workspaces = merged.workspaces as unknown[]
  workspaces.forEach((ws, wi) => {
    if (ws === null || typeof ws !== 'object') return
    const list = (ws as Json).manifests
    const wsName = (ws as Json).name
    if (!Array.isArray(list) || typeof wsName !== 'string') return
    const base = manifestDirs.get(wsName) ?? root
    list.forEach((rel, mi) => {
      if (typeof rel !== 'string') return
      const p = resolve(base, rel)
      const found: string[] = []
      try {
        if (statSync(p).isDirectory()) listYamlFiles(p, found)
        else found.push(p)
      } catch {
        const { origin, inner } = map.locate(['workspaces', wi, 'manifests', mi])
        const pos = origin === null ? { line: null, column: null } : position(origin, inner)
        problems.push({ file: origin?.file ?? source, line: pos.line, column: pos.column, field: `workspaces[${wi}].manifests[${mi}]`, message: `no such file or folder: ${basename(p)}` })
        return
      }
      for (const f of found) {
        files.push(f)
        const parsed = parseFile(f, problems)
        if (parsed === null) continue
        for (const d of parsed.docs) absorb(f, d.doc, d.lines, d.value, wsName)
      }
    })
  })

  for (const m of pendingManifests) {
    const pos = position(m.origin, ['kind'])
    if (m.workspace === null) {
      problems.push({ file: m.origin.file, line: pos.line, column: pos.column, field: 'metadata.workspace', message: 'a Blaxel manifest needs a workspace: list its file in a workspace\'s `manifests`, or set metadata.workspace' })
      continue
    }
    const converted = manifestToEntry(m.value)
    if ('error' in converted) {
      problems.push({ file: m.origin.file, line: pos.line, column: pos.column, field: 'kind', message: converted.error })
      continue
    }
    let wi = workspaces.findIndex(w => w !== null && typeof w === 'object' && (w as Json).name === m.workspace)
    if (wi < 0) {
      wi = workspaces.length
      workspaces.push({ name: m.workspace })
    }
    const ws = workspaces[wi] as Json
    const arr = (ws[converted.section] ??= []) as unknown[]
    map.set(`/workspaces/${wi}/${converted.section}/${arr.length}`, { ...m.origin, kind: converted.kind })
    arr.push(converted.entry)
  }

  // ${ENV} references, with the location of the string that names a missing variable.
  const envFailed = new Set<string>()
  const expand = (v: unknown, path: Array<string | number>): unknown => {
    if (typeof v === 'string') {
      return expandEnv(v, env, name => {
        envFailed.add(fieldName(path))
        const { origin, inner } = map.locate(path)
        const pos = origin === null ? { line: null, column: null } : position(origin, inner)
        problems.push({ file: origin?.file ?? source, line: pos.line, column: pos.column, field: fieldName(path), message: `environment variable ${name} is not set (use \${${name}:-default} for a default)` })
      })
    }
    if (Array.isArray(v)) return v.map((x, i) => expand(x, [...path, i]))
    if (v !== null && typeof v === 'object') {
      const out: Json = {}
      for (const [k, x] of Object.entries(v)) out[k] = expand(x, [...path, k])
      return out
    }
    return v
  }
  const expanded = expand(merged, []) as Json

  const validate = getValidator()
  if (!validate(expanded)) {
    for (const e of dedupe(validate.errors ?? [])) {
      const path = pointerToPath(e.instancePath)
      const fieldPath = e.keyword === 'additionalProperties' ? [...path, String((e.params as { additionalProperty: string }).additionalProperty)] : path
      // A field whose variable is missing was reported already; its empty value says nothing more.
      if (envFailed.has(fieldName(fieldPath))) continue
      const { origin, inner } = map.locate(fieldPath)
      const pos = origin === null ? { line: null, column: null } : position(origin, inner)
      problems.push({ file: origin?.file ?? source, line: pos.line, column: pos.column, field: fieldName(fieldPath), message: describe(e) })
    }
  }
  // Reserved names are checked here too, so one run reports them beside schema problems.
  if (Array.isArray(expanded.workspaces)) {
    (expanded.workspaces as unknown[]).forEach((w, wi) => {
      const name = w !== null && typeof w === 'object' ? (w as Json).name : undefined
      if (typeof name === 'string' && RESERVED_WORKSPACE_NAMES.has(name)) {
        const { origin, inner } = map.locate(['workspaces', wi, 'name'])
        const pos = origin === null ? { line: null, column: null } : position(origin, inner)
        problems.push({ file: origin?.file ?? source, line: pos.line, column: pos.column, field: `workspaces[${wi}].name`, message: `"${name}" is reserved for agnet's own paths; choose another workspace name` })
      }
    })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const locate = (path: Array<string | number>): ConfigProblem => {
    const { origin, inner } = map.locate(path)
    const pos = origin === null ? { line: null, column: null } : position(origin, inner)
    return { file: origin?.file ?? source, line: pos.line, column: pos.column, field: fieldName(path), message: '' }
  }
  return { input: expanded as unknown as ConfigInput, files, source: root, locate }
}

/** Locates a field of the merged config, for problems found later (compile). */
export function fieldName (path: Array<string | number>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : (out === '' ? p : `.${p}`)
  return out
}

function pointerToPath (pointer: string): Array<string | number> {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map(s => {
    const u = s.replace(/~1/g, '/').replace(/~0/g, '~')
    return /^\d+$/.test(u) ? Number(u) : u
  })
}

/** AJV reports every branch of a union; keep the most useful one per location. */
function dedupe (errors: ErrorObject[]): ErrorObject[] {
  const byPath = new Map<string, ErrorObject[]>()
  for (const e of errors) {
    const key = e.keyword === 'additionalProperties' ? `${e.instancePath}#${(e.params as { additionalProperty: string }).additionalProperty}` : e.instancePath
    const list = byPath.get(key) ?? []
    list.push(e)
    byPath.set(key, list)
  }
  const out: ErrorObject[] = []
  for (const list of byPath.values()) {
    const specific = list.filter(e => e.keyword !== 'anyOf' && e.keyword !== 'type' && e.keyword !== 'const')
    const consts = list.filter(e => e.keyword === 'const')
    if (consts.length > 1) {
      const allowed = consts.map(e => JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)).join(', ')
      out.push({ ...consts[0]!, keyword: 'enum', message: `must be one of ${allowed}`, params: {} })
    } else out.push(specific[0] ?? list[0]!)
  }
  return out
}

function describe (e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties': return 'unknown field; check its spelling against the schema (schema/agnet.schema.json)'
    case 'required': return `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`
    case 'pattern': {
      const p = (e.params as { pattern: string }).pattern
      if (p.startsWith('^[a-z0-9]([a-z0-9-]')) return 'expected lower-case letters, digits and hyphens, starting and ending with a letter or digit, at most 49 characters'
      if (p.includes('(ms|s|m|h)')) return 'expected a duration such as 30s, 250ms, 5m or 2h, or a number of milliseconds'
      if (p.includes('KiB')) return 'expected a size such as 32MiB, 512KiB or a number of bytes'
      return `expected a value matching ${p}`
    }
    case 'format': return `expected a ${(e.params as { format: string }).format} value`
    default: return `expected: ${e.message ?? e.keyword}`
  }
}


// Step one and two of the config pipeline: YAML (a file or a folder) → one validated
// ConfigInput. Every problem found is reported, each with file, line, field and what was
// expected, so `agnet config check` can print them all at once.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { LineCounter, parseAllDocuments, type Document } from 'yaml'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import type { ValidateFunction } from 'ajv'
import { Config, type ConfigInput } from './schema.js'
import { isManifest, manifestToEntry } from './manifests.js'
import { RESERVED_WORKSPACE_NAMES } from './defaults.js'
import { ConfigError, dedupe, describe, fieldName, pointerToPath, type ConfigProblem } from './problems.js'
import { SourceMap, position, type Origin } from './source-map.js'

// Importers of the loader find the problem types here too.
export { ConfigError, fieldName, formatProblem, type ConfigProblem } from './problems.js'

/** YAML is bounded: big or deeply nested files and alias bombs are refused, so a config can never exhaust memory or stack. */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024 * 1024
export const MAX_ALIAS_COUNT = 100
export const MAX_DEPTH = 64
const MAX_FILES = 10000

export interface LoadedConfig {
  input: ConfigInput
  /** The files read, for the watcher. */
  files: string[]
  /** The path given (file or folder). */
  source: string
  /** Where a field of the merged config was written, for problems found after validation. */
  locate: (path: Array<string | number>) => ConfigProblem
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

/** The YAML files of a config folder, in load order (hidden entries skipped). */
export function listYamlFiles (dir: string, out: string[]): void {
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
  // An empty file is what a truncate-then-write leaves for a moment: it is never a config, so
  // a reload that catches it refuses (and retries) instead of serving a config without it.
  if (out.docs.length === 0 && !list.some(d => d.errors.length > 0)) {
    problems.push({ file, line: null, column: null, field: '', message: 'the file is empty (no YAML document, or only comments); a config file must hold at least one mapping', kind: 'empty-file' })
  }
  return out
}

type Json = Record<string, unknown>
const ARRAY_KEYS = ['workspaces', 'users', 'regions'] as const

/** The files that workspaces name in `manifests:` (relative to the file naming them). */
function manifestFilesNamed (parsed: ReadonlyMap<string, ParsedFile | null>): Set<string> {
  const named = new Set<string>()
  for (const [file, p] of parsed) {
    for (const d of p?.docs ?? []) {
      const workspaces = (d.value as { workspaces?: unknown }).workspaces
      if (!Array.isArray(workspaces)) continue
      for (const ws of workspaces) {
        const list = ws !== null && typeof ws === 'object' ? (ws as Json).manifests : undefined
        if (!Array.isArray(list)) continue
        for (const rel of list) {
          if (typeof rel !== 'string') continue
          const target = resolve(dirname(file), rel)
          try {
            if (statSync(target).isDirectory()) { const found: string[] = []; listYamlFiles(target, found); for (const f of found) named.add(f) } else named.add(target)
          } catch { /* a missing path is reported where the manifests are read */ }
        }
      }
    }
  }
  return named
}

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
      } else {
        // Sections (server, auth, ...) and anything else are defined once; a non-list
        // `workspaces` replaces the empty default so the schema reports its type.
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

  // Every file is parsed first: a folder may also hold the manifests its workspaces list, and
  // those are read below as that workspace's manifests, not as top-level config.
  const parsedFiles = new Map<string, ParsedFile | null>(files.map(f => [f, parseFile(f, problems)]))
  const claimed = manifestFilesNamed(parsedFiles)
  for (const [file, parsed] of parsedFiles) {
    if (parsed === null || claimed.has(file)) continue
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
        problems.push(map.problemAt(['workspaces', wi, 'manifests', mi], `no such file or folder: ${basename(p)}`, source))
        return
      }
      for (const f of found) {
        const seen = parsedFiles.has(f)
        if (!seen) files.push(f)
        const parsed = seen ? parsedFiles.get(f) ?? null : parseFile(f, problems)
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
        problems.push(map.problemAt(path, `environment variable ${name} is not set (use \${${name}:-default} for a default)`, source))
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
      problems.push(map.problemAt(fieldPath, describe(e), source))
    }
  }
  // Reserved names are checked here too, so one run reports them beside schema problems.
  if (Array.isArray(expanded.workspaces)) {
    (expanded.workspaces as unknown[]).forEach((w, wi) => {
      const name = w !== null && typeof w === 'object' ? (w as Json).name : undefined
      if (typeof name === 'string' && RESERVED_WORKSPACE_NAMES.has(name)) {
        problems.push(map.problemAt(['workspaces', wi, 'name'], `"${name}" is reserved for agnet's own paths; choose another workspace name`, source))
      }
    })
  }
  const locate = (path: Array<string | number>): ConfigProblem => map.problemAt(path, '', source)
  if (problems.length > 0) throw new ConfigError(problems, { input: expanded, files, source: root, locate })
  return { input: expanded as unknown as ConfigInput, files, source: root, locate }
}

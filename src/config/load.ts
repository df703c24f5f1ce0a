// Step two of the config pipeline: the parsed files (yaml-files.ts) merged into one document
// (lists joined, sections defined once, Blaxel manifests converted into their workspace's
// entries), ${ENV} references expanded, and the result validated into one ConfigInput. Every
// problem found is reported, each with file, line, field and what was expected, so
// `agnet config check` can print them all at once.
import { basename, dirname, resolve } from 'node:path'
import type { Document, LineCounter } from 'yaml'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import type { ValidateFunction } from 'ajv'
import { Config, type ConfigInput } from './schema.js'
import { isManifest, manifestToEntry } from './manifests.js'
import { RESERVED_WORKSPACE_NAMES } from './defaults.js'
import { ConfigError, dedupe, describe, errorParam, fieldName, pointerToPath, type ConfigProblem } from './problems.js'
import { SourceMap, position, type Origin } from './source-map.js'
import { filesAt, parseFile, type ParsedFile } from './yaml-files.js'
import { isRecord, type Json } from './parsed.js'

// Importers of the loader find the problem types here too.
export { ConfigError, fieldName, formatProblem, type ConfigProblem } from './problems.js'

export interface LoadedConfig {
  input: ConfigInput
  /** The files read, for the watcher. */
  files: string[]
  /** The path given (file or folder). */
  source: string
  /** Where a field of the merged config was written, for problems found after validation. */
  locate: (path: Array<string | number>) => ConfigProblem
}

let validator: ValidateFunction<ConfigInput> | null = null
function getValidator (): ValidateFunction<ConfigInput> {
  if (validator === null) {
    const ajv = new Ajv2019({ allErrors: true, strict: false, allowUnionTypes: true })
    addFormats.default(ajv)
    validator = ajv.compile<ConfigInput>(Config)
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

/** The elements of a list, or none when it is not one. */
function listOf (v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

const ARRAY_KEYS: ReadonlySet<string> = new Set(['workspaces', 'users', 'regions'])

/** The files that workspaces name in `manifests:` (relative to the file naming them). */
function manifestFilesNamed (parsed: ReadonlyMap<string, ParsedFile | null>): Set<string> {
  const named = new Set<string>()
  for (const [file, p] of parsed) {
    for (const d of p?.docs ?? []) {
      if (!isRecord(d.value)) continue
      for (const ws of listOf(d.value.workspaces)) {
        if (!isRecord(ws)) continue
        for (const rel of listOf(ws.manifests)) {
          if (typeof rel !== 'string') continue
          try {
            for (const f of filesAt(resolve(dirname(file), rel))) named.add(f)
          } catch { /* a missing path is reported where the manifests are read */ }
        }
      }
    }
  }
  return named
}

export interface LoadOptions { env?: NodeJS.ProcessEnv }

/** The files of a config source; throws ConfigError when there are none. */
function sourceFiles (source: string, root: string): string[] {
  let files: string[]
  try {
    files = filesAt(root)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError([{ file: source, line: null, column: null, field: '', message: 'no such file or folder' }])
  }
  if (files.length === 0) throw new ConfigError([{ file: source, line: null, column: null, field: '', message: 'no .yaml or .yml file in this folder' }])
  return files
}

/** Reads, merges, expands and validates. Throws ConfigError listing every problem. */
export function loadConfig (source: string, opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env
  const problems: ConfigProblem[] = []
  const root = resolve(source)
  const files = sourceFiles(source, root)

  const workspaces: unknown[] = []
  const merged: Json = { workspaces }
  // The lists files add to (workspaces, users, regions); a non-list value is left to the schema.
  const lists = new Map<string, unknown[]>([['workspaces', workspaces]])
  const listFor = (k: string): unknown[] | undefined => {
    let list = lists.get(k)
    if (list === undefined && ARRAY_KEYS.has(k) && merged[k] === undefined) {
      list = []
      lists.set(k, list)
      merged[k] = list
    }
    return list
  }
  const map = new SourceMap()
  const pendingManifests: Array<{ origin: Origin; value: Json; workspace: string | null }> = []
  const manifestDirs = new Map<string, string>() // workspace → config dir, for relative manifest paths

  const absorb = (file: string, doc: Document, lines: LineCounter, value: unknown, forcedWorkspace: string | null): void => {
    const origin: Origin = { file, doc, lines, base: [], kind: null }
    if (isManifest(value)) {
      const md = value.metadata
      const named = isRecord(md) && typeof md.workspace === 'string' ? md.workspace : null
      pendingManifests.push({ origin, value, workspace: forcedWorkspace ?? named })
      return
    }
    if (forcedWorkspace !== null) {
      problems.push({ file, line: 1, column: 1, field: '', message: 'a file listed in a workspace\'s manifests must hold Blaxel manifests (apiVersion: blaxel.ai/v1alpha1)' })
      return
    }
    if (!isRecord(value)) {
      problems.push({ file, line: 1, column: 1, field: '', message: 'expected a mapping at the top of the document' })
      return
    }
    map.setRoot(origin)
    for (const [k, v] of Object.entries(value)) {
      const list = Array.isArray(v) ? listFor(k) : undefined
      if (list !== undefined && Array.isArray(v)) {
        v.forEach((item: unknown, i) => {
          map.set(`/${k}/${list.length}`, { ...origin, base: [k, i] })
          list.push(item)
          if (k === 'workspaces' && isRecord(item) && typeof item.name === 'string') manifestDirs.set(item.name, dirname(file))
        })
      } else {
        // Sections (server, auth, ...) and anything else are defined once; a non-list
        // `workspaces` replaces the list so the schema reports its type.
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
  workspaces.forEach((ws, wi) => {
    if (!isRecord(ws)) return
    const list = ws.manifests
    const wsName = ws.name
    if (!Array.isArray(list) || typeof wsName !== 'string') return
    const base = manifestDirs.get(wsName) ?? root
    list.forEach((rel: unknown, mi) => {
      if (typeof rel !== 'string') return
      const p = resolve(base, rel)
      let found: string[]
      try {
        found = filesAt(p)
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
    let wi = workspaces.findIndex(w => isRecord(w) && w.name === m.workspace)
    const found = workspaces[wi]
    let ws: Json
    if (isRecord(found)) ws = found
    else {
      wi = workspaces.length
      ws = { name: m.workspace }
      workspaces.push(ws)
    }
    const section = ws[converted.section]
    const arr = Array.isArray(section) ? section : []
    ws[converted.section] = arr
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
    if (isRecord(v)) {
      const out: Json = {}
      for (const [k, x] of Object.entries(v)) out[k] = expand(x, [...path, k])
      return out
    }
    return v
  }
  const expanded = expand(merged, [])

  const validate = getValidator()
  const valid = validate(expanded)
  if (!valid) {
    for (const e of dedupe(validate.errors ?? [])) {
      const path = pointerToPath(e.instancePath)
      const fieldPath = e.keyword === 'additionalProperties' ? [...path, errorParam(e, 'additionalProperty')] : path
      // A field whose variable is missing was reported already; its empty value says nothing more.
      if (envFailed.has(fieldName(fieldPath))) continue
      problems.push(map.problemAt(fieldPath, describe(e), source))
    }
  }
  // Reserved names are checked here too, so one run reports them beside schema problems.
  if (isRecord(expanded)) {
    listOf(expanded.workspaces).forEach((w, wi) => {
      const name = isRecord(w) ? w.name : undefined
      if (typeof name === 'string' && RESERVED_WORKSPACE_NAMES.has(name)) {
        problems.push(map.problemAt(['workspaces', wi, 'name'], `"${name}" is reserved for agnet's own paths; choose another workspace name`, source))
      }
    })
  }
  const locate = (path: Array<string | number>): ConfigProblem => map.problemAt(path, '', source)
  if (!valid || problems.length > 0) throw new ConfigError(problems, { input: expanded, files, source: root, locate })
  return { input: expanded, files, source: root, locate }
}

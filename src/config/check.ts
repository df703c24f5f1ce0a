// `agnet config check` in one pass: the loader's problems (YAML, schema, environment), then
// the compiler's (duplicates, dangling references, unknown regions) found by compiling what is
// left once the invalid entries are set aside, then warnings about a config that loads but
// will not do what its author likely meant (a model no region may serve, an open run plane).
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import type { ValidateFunction } from 'ajv'
import { Config, type ConfigInput } from './schema.js'
import { ConfigError, formatProblem, type ConfigProblem, type PartialConfig } from './problems.js'
import { loadConfig, type LoadedConfig } from './load.js'
import { isRecord } from './parsed.js'
import { compileRuntime } from './compile.js'
import type { Runtime } from '../core/runtime.js'
import { DispatcherRegistry } from '../proxy/dispatchers.js'

export interface CheckResult {
  ok: boolean
  problems: ConfigProblem[]
  /** Loads, but likely not what was meant. */
  warnings: ConfigProblem[]
  summary: { workspaces: number; models: number; deployments: number; files: number } | null
}

type Path = Array<string | number>
const DROP = Symbol('drop')

/** `workspaces[0].models[1].runtime.type` → ['workspaces', 0, 'models', 1, 'runtime', 'type']. */
export function parseField (field: string): Path {
  const out: Path = []
  for (const [, name, index] of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (index !== undefined) out.push(Number(index))
    else if (name !== undefined) out.push(name)
  }
  return out
}

function key (path: Path): string { return JSON.stringify(path) }

/**
 * What to set aside for a problem: an unknown field alone; otherwise the innermost list entry
 * holding the field (a model, a policy, a region), so the rest compiles; a field outside any
 * list is removed and its default applies. Null: a problem of a whole file or document (YAML,
 * unreadable), which was not merged, so nothing is left to set aside.
 */
export function dropFor (p: ConfigProblem): Path | null {
  if (p.field === '') return null
  const path = parseField(p.field)
  if (p.message.startsWith('unknown field')) return path
  let last = -1
  path.forEach((s, i) => { if (typeof s === 'number') last = i })
  return last < 0 ? path : path.slice(0, last + 1)
}

interface Pruned { value: unknown; names: Set<string>; toOriginal: (path: Path) => Path }

/** A copy without the dropped paths, and the way back from its list indexes to the original's. */
export function prune (input: unknown, drops: readonly Path[]): Pruned {
  const dropped = new Set(drops.map(key))
  const names = new Set<string>()
  const kept = new Map<string, number[]>() // pruned path of a list → original index of each entry
  const walk = (v: unknown, orig: Path, now: Path): unknown => {
    if (dropped.has(key(orig))) {
      if (isRecord(v) && typeof v.name === 'string') names.add(v.name)
      return DROP
    }
    if (Array.isArray(v)) {
      const out: unknown[] = []
      const idx: number[] = []
      v.forEach((x, i) => {
        const r = walk(x, [...orig, i], [...now, out.length])
        if (r !== DROP) { out.push(r); idx.push(i) }
      })
      kept.set(key(now), idx)
      return out
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) {
        const r = walk(x, [...orig, k], [...now, k])
        if (r !== DROP) out[k] = r
      }
      return out
    }
    return v
  }
  const value = walk(input, [], [])
  const toOriginal = (path: Path): Path => {
    const out: Path = []
    const now: Path = []
    for (const s of path) {
      out.push(typeof s === 'number' ? (kept.get(key(now))?.[s] ?? s) : s)
      now.push(s)
    }
    return out
  }
  return { value, names, toOriginal }
}

let validator: ValidateFunction<ConfigInput> | null = null
function isValid (v: unknown): v is ConfigInput {
  if (validator === null) {
    const ajv = new Ajv2019({ strict: false, allowUnionTypes: true })
    addFormats.default(ajv)
    validator = ajv.compile<ConfigInput>(Config)
  }
  return validator(v)
}

/** The compiler's problems about what is left of an invalid config, in the original's places. */
function compileRest (partial: PartialConfig, reported: readonly ConfigProblem[], env: NodeJS.ProcessEnv): ConfigProblem[] {
  const drops: Path[] = []
  for (const p of reported) {
    const d = dropFor(p)
    if (d !== null) drops.push(d)
  }
  const pruned = prune(partial.input, drops)
  const input = pruned.value
  if (!isValid(input)) return []
  const loaded: LoadedConfig = {
    input,
    files: partial.files,
    source: partial.source,
    locate: path => partial.locate(pruned.toOriginal(path))
  }
  const dispatchers = new DispatcherRegistry()
  try {
    compileRuntime(loaded, { dispatchers, env })
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) return []
    // A reference to an entry set aside is not a second mistake.
    return err.problems.filter(p => ![...pruned.names].some(n => p.message.startsWith('unknown') && p.message.includes(`"${n}"`)))
  } finally {
    void dispatchers.destroyAll()
  }
}

function warningsOf (rt: Runtime, loaded: LoadedConfig): ConfigProblem[] {
  const out: ConfigProblem[] = []
  // auth.open: true says the open plane is meant; only an open plane by omission is worth a word.
  if (!rt.identity.required && !rt.identity.declaredOpen) {
    out.push({ file: loaded.source, line: null, column: null, field: '', message: 'no API key, service account or external issuer is configured: the run plane is open, and anyone who reaches the port may call every model (set auth.open: true to say this is intended)' })
  }
  rt.input.workspaces.forEach((wsIn, wi) => {
    const ws = rt.workspaces.get(wsIn.name)
    ;(wsIn.models ?? []).forEach((mIn, mi) => {
      const m = ws?.models.get(mIn.name)
      const route = m === undefined ? undefined : rt.network.models.get(m.key)
      if (route?.violation != null) out.push({ ...loaded.locate(['workspaces', wi, 'models', mi, 'name']), message: `no region can serve this model: ${route.violation.message}` })
    })
  })
  return out
}

/** One line per problem: a reference repeated per deployment is one mistake. */
function unique (problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>()
  return problems.filter(p => { const k = formatProblem(p); if (seen.has(k)) return false; seen.add(k); return true })
}

export async function checkConfig (path: string, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  let loaded: LoadedConfig
  try {
    loaded = loadConfig(path, { env })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    const rest = err.partial === null ? [] : compileRest(err.partial, err.problems, env)
    return { ok: false, problems: unique([...err.problems, ...rest]), warnings: [], summary: null }
  }
  const dispatchers = new DispatcherRegistry()
  try {
    const rt = compileRuntime(loaded, { dispatchers, env })
    let models = 0
    for (const ws of rt.workspaces.values()) models += ws.models.size
    return { ok: true, problems: [], warnings: warningsOf(rt, loaded), summary: { workspaces: rt.workspaces.size, models, deployments: rt.deployments.length, files: loaded.files.length } }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return { ok: false, problems: unique(err.problems), warnings: [], summary: null }
  } finally {
    await dispatchers.destroyAll()
  }
}

// What the config pipeline reports: a problem with its file, line, column and field, and the
// translation of AJV's schema errors into messages that say what was expected.
import type { ErrorObject } from 'ajv'

export interface ConfigProblem {
  file: string
  line: number | null
  column: number | null
  field: string
  message: string
  /** Set for a file with no document: a reload that meets it may be looking at a file mid-write. */
  kind?: 'empty-file'
}

/**
 * What was read before the problems were found: the merged, expanded document (not valid
 * against the schema) and where each of its fields was written. `agnet config check` compiles
 * the valid parts of it, so one run reports the problems the schema cannot see as well.
 */
export interface PartialConfig {
  readonly input: unknown
  readonly files: string[]
  readonly source: string
  readonly locate: (path: Array<string | number>) => ConfigProblem
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[]
  readonly partial: PartialConfig | null
  constructor (problems: ConfigProblem[], partial: PartialConfig | null = null) {
    super(problems.map(formatProblem).join('\n'))
    this.problems = problems
    this.partial = partial
  }
}

export function formatProblem (p: ConfigProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}${p.column === null ? '' : `:${p.column}`}`
  return `${where}: ${p.field === '' ? '(root)' : p.field}: ${p.message}`
}

/** `['workspaces', 0, 'name']` → `workspaces[0].name`. */
export function fieldName (path: Array<string | number>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : (out === '' ? p : `.${p}`)
  return out
}

/** A JSON pointer (AJV's instancePath) → path segments, array indexes as numbers. */
export function pointerToPath (pointer: string): Array<string | number> {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map(s => {
    const u = s.replace(/~1/g, '/').replace(/~0/g, '~')
    return /^\d+$/.test(u) ? Number(u) : u
  })
}

/** A parameter of a schema error as AJV names it (additionalProperty, missingProperty, ...), as text. */
export function errorParam (e: ErrorObject, name: string): string {
  const params: Record<string, unknown> = e.params
  const v = params[name]
  return typeof v === 'string' ? v : JSON.stringify(v) ?? ''
}

/** AJV reports every branch of a union; keep the most useful one per location. */
export function dedupe (errors: ErrorObject[]): ErrorObject[] {
  const byPath = new Map<string, ErrorObject[]>()
  for (const e of errors) {
    const key = e.keyword === 'additionalProperties' ? `${e.instancePath}#${errorParam(e, 'additionalProperty')}` : e.instancePath
    const list = byPath.get(key) ?? []
    list.push(e)
    byPath.set(key, list)
  }
  const out: ErrorObject[] = []
  for (const list of byPath.values()) {
    const specific = list.filter(e => e.keyword !== 'anyOf' && e.keyword !== 'type' && e.keyword !== 'const')
    const consts = list.filter(e => e.keyword === 'const')
    const [firstConst] = consts
    const chosen = specific[0] ?? list[0]
    if (firstConst !== undefined && consts.length > 1) {
      const allowed = consts.map(e => JSON.stringify(e.params.allowedValue)).join(', ')
      out.push({ ...firstConst, keyword: 'enum', message: `must be one of ${allowed}`, params: {} })
    } else if (chosen !== undefined) out.push(chosen)
  }
  return out
}

/** One schema error → what was expected, in words. */
export function describe (e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties': return 'unknown field; check its spelling against the schema (schema/agnet.schema.json)'
    case 'required': return `missing required field "${errorParam(e, 'missingProperty')}"`
    case 'pattern': {
      const p = errorParam(e, 'pattern')
      if (p.startsWith('^[a-z0-9]([a-z0-9-]')) return 'expected lower-case letters, digits and hyphens, starting and ending with a letter or digit, at most 49 characters'
      if (p.includes('(ms|s|m|h)')) return 'expected a duration such as 30s, 250ms, 5m or 2h, or a number of milliseconds'
      if (p.includes('KiB')) return 'expected a size such as 32MiB, 512KiB or a number of bytes'
      return `expected a value matching ${p}`
    }
    case 'enum': return (e.message ?? 'expected one of the allowed values').replace(/^must be one of/, 'expected one of')
    case 'format': return `expected a ${errorParam(e, 'format')} value`
    default: return `expected: ${e.message ?? e.keyword}`
  }
}

// Step one of the config pipeline: the YAML files of a config (a file or a folder) read and
// parsed, within bounds. Big or deeply nested files and alias bombs are refused, so a config
// can never exhaust memory or stack; every problem is reported with its file and line.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { LineCounter, parseAllDocuments, type Document } from 'yaml'
import { ConfigError, type ConfigProblem } from './problems.js'
import { errorCode, errorMessage } from './parsed.js'

export const MAX_CONFIG_FILE_BYTES = 64 * 1024 * 1024
export const MAX_ALIAS_COUNT = 100
export const MAX_DEPTH = 64
const MAX_FILES = 10000

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

/** The files a path names: the path itself, or the YAML files of the folder it is. Throws when it does not exist. */
export function filesAt (path: string): string[] {
  const found: string[] = []
  if (statSync(path).isDirectory()) listYamlFiles(path, found)
  else found.push(path)
  return found
}

function depthOf (v: unknown, limit: number, d = 0): number {
  if (d > limit) return d
  if (Array.isArray(v)) { let m = d; for (const x of v) m = Math.max(m, depthOf(x, limit, d + 1)); return m }
  if (v !== null && typeof v === 'object') { let m = d; for (const x of Object.values(v)) m = Math.max(m, depthOf(x, limit, d + 1)); return m }
  return d
}

export interface ParsedDocument { doc: Document; lines: LineCounter; value: unknown }
export interface ParsedFile { file: string; docs: ParsedDocument[] }

/** The documents of one file as plain values; null when the file cannot be read. */
export function parseFile (file: string, problems: ConfigProblem[]): ParsedFile | null {
  let text: string
  try {
    const size = statSync(file).size
    if (size > MAX_CONFIG_FILE_BYTES) {
      problems.push({ file, line: null, column: null, field: '', message: `file is ${size} bytes; at most ${MAX_CONFIG_FILE_BYTES} are read` })
      return null
    }
    text = readFileSync(file, 'utf8')
  } catch (err) {
    problems.push({ file, line: null, column: null, field: '', message: `cannot read: ${errorCode(err) ?? 'error'}` })
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
      problems.push({ file, line: null, column: null, field: '', message: `YAML: ${errorMessage(err).split('\n')[0] ?? 'invalid'}` })
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

#!/usr/bin/env node
// Renders the generated parts of README.md: the config reference from the schema's
// descriptions and the error-code table from the error catalogue, each between its markers.
// test/unit/readme.test.ts renders the same from src/ and fails when the README drifts.
// usage: npm run build && node scripts/readme.mjs
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const REPO = fileURLToPath(new URL('../', import.meta.url))

/** @param {string} s */
const cell = s => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A short type for a JSON Schema node: duration, size, 'a' | 'b', string[], map, ... */
export function typeOf (node) {
  if (node.const !== undefined) return JSON.stringify(node.const)
  if (Array.isArray(node.anyOf)) {
    const parts = node.anyOf
    if (parts.some(p => typeof p.pattern === 'string' && p.pattern.includes('ms|s|m|h'))) return 'duration'
    if (parts.some(p => typeof p.pattern === 'string' && p.pattern.includes('KiB'))) return 'size'
    return [...new Set(parts.map(typeOf))].join(' \\| ')
  }
  if (node.type === 'array') {
    const inner = typeOf(node.items ?? {})
    return inner.includes('|') ? `(${inner})[]` : `${inner}[]`
  }
  if (node.type === 'object') return node.properties !== undefined ? 'object' : 'map'
  if (node.type === 'string' && node.format !== undefined) return node.format
  return node.type ?? 'any'
}

/** Rows [path, type, required, description] for every field under `node`. */
function rows (node, path, out) {
  if (node.type === 'array' && node.items !== undefined) {
    rows(node.items, `${path}[]`, out)
    return
  }
  if (Array.isArray(node.anyOf)) {
    // A union of an object form with a scalar (e.g. Blaxel's location shapes): describe the object.
    const obj = node.anyOf.find(p => p.type === 'object' && p.properties !== undefined)
    if (obj !== undefined) rows(obj, path, out)
    return
  }
  if (node.type !== 'object') return
  if (node.properties === undefined) {
    const inner = Object.values(node.patternProperties ?? {})[0]
    if (inner !== undefined && inner.type === 'object') rows(inner, `${path}.<key>`, out)
    return
  }
  const required = new Set(node.required ?? [])
  for (const [name, child] of Object.entries(node.properties)) {
    const p = path === '' ? name : `${path}.${name}`
    out.push([p, typeOf(child), required.has(name), child.description ?? ''])
    rows(child, p, out)
  }
}

/** The config reference: one table per top-level key, every field with its type and description. */
export function renderConfigReference (schema) {
  const parts = []
  const required = new Set(schema.required ?? [])
  for (const [name, child] of Object.entries(schema.properties)) {
    const out = []
    rows(child, name, out)
    parts.push(`#### \`${name}\`${required.has(name) ? ' (required)' : ''}\n\n${child.description ?? ''} Type: ${typeOf(child)}.\n`)
    if (out.length > 0) {
      parts.push('| Field | Type | Description |\n|---|---|---|')
      parts.push(out.map(([p, t, req, d]) => `| \`${p}\` | ${t} | ${req ? '**required.** ' : ''}${cell(d)} |`).join('\n') + '\n')
    }
  }
  return parts.join('\n')
}

/** The error answers agnet gives itself, one row per catalogue entry (a code may answer with several statuses). */
export function renderErrorCodes (catalogue) {
  const lines = ['| Code | Status | Retryable | Default message | Action (`action`) | Do not (`do_not`) |', '|---|---|---|---|---|---|']
  for (const e of Object.values(catalogue)) lines.push(`| \`${e.code}\` | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${cell(e.message)} | ${cell(e.action)} | ${cell(e.doNot)} |`)
  return lines.join('\n') + '\n'
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function splice (readme, name, body) {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const i = readme.indexOf(start)
  const j = readme.indexOf(end)
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} ... ${end} block`)
  return `${readme.slice(0, i + start.length)}\n${body}${readme.slice(j)}`
}

/** The text between the markers, as splice() writes it. */
export function between (readme, name) {
  const start = `<!-- ${name}:start -->`
  const i = readme.indexOf(start)
  const j = readme.indexOf(`<!-- ${name}:end -->`)
  if (i < 0 || j < i) return null
  return readme.slice(i + start.length + 1, j)
}

async function main () {
  const schema = JSON.parse(readFileSync(`${REPO}schema/agnet.schema.json`, 'utf8'))
  const { CATALOGUE } = await import(pathToFileURL(`${REPO}dist/core/errors.js`).href)
  let readme = readFileSync(`${REPO}README.md`, 'utf8')
  readme = splice(readme, 'config-reference', renderConfigReference(schema))
  readme = splice(readme, 'error-codes', renderErrorCodes(CATALOGUE))
  writeFileSync(`${REPO}README.md`, readme)
  process.stdout.write('README.md: config reference and error codes rendered\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(err => { process.stderr.write(`${err.message}\n`); process.exit(1) })
}

#!/usr/bin/env node
// Measures the shape of src/: the import arrows between layers (and how many point upward or
// sideways between stages), import cycles between files (type-only imports included: a cycle
// of types still ties the files together), `as` casts, and files over 300 lines.
// Usage: node scripts/module-graph.mjs [srcDir] [--list]
// The layers are the ones ARCHITECTURE.md draws; a file is placed by its path (layerOf).
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

const args = process.argv.slice(2)
const list = args.includes('--list')
const root = resolve(args.find(a => !a.startsWith('--')) ?? 'src')

const STAGES = new Set(['auth', 'access', 'routing', 'usage', 'proxy', 'faults', 'translate'])
const CONFIG_INPUT = new Set(['schema', 'default-values', 'defaults', 'parsed', 'yaml-files', 'problems', 'source-map', 'manifests', 'compile-context', 'load', 'load-worker', 'load-off-thread', 'snapshot'])
const UTIL = new Set(['format', 'logger', 'line-writer'])

/** [layer name, rank]: an import from a lower rank to a higher one points upward. */
export function layerOf (file) {
  const parts = file.split('/')
  const base = parts[parts.length - 1].replace(/\.(d\.)?ts$/, '')
  if (parts.length === 1) {
    if (base === 'errors') return ['core', 0] // the catalogue before it moved into core/
    if (base === 'server') return ['process', 6] // the process around the app: starts mocks, listens
    return ['app', 5]
  }
  const folder = parts[0]
  if (folder === 'core') return ['core', 0]
  if (folder === 'config') {
    if (base === 'runtime') return ['core', 0] // the runtime types before they moved into core/
    if (base === 'schema') return ['schema', 0] // the config's input shape: a typebox leaf
    if (base === 'default-values') return ['schema', 0] // the table of defaults the schema reads: a leaf
    if (CONFIG_INPUT.has(base)) return ['config-input', 1]
    return ['config-build', 3]
  }
  if (folder === 'observability') return UTIL.has(base) ? ['util', 1] : ['observability', 3]
  if (STAGES.has(folder)) return [`stage:${folder}`, 2]
  if (folder === 'edge') return ['edge', 3.5] // the HTTP surface's shared checks: above observers, below planes
  if (folder === 'run-plane' || folder === 'control-plane' || folder === 'playground' || folder === 'http') return [`plane:${folder}`, 4]
  return [`tool:${folder}`, 6]
}

function walk (dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

const files = walk(root)
const rel = f => relative(root, f)
const edges = new Map()
let casts = 0
const castsByFile = new Map()
const long = []

for (const f of files) {
  const text = readFileSync(f, 'utf8')
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (lines > 300) long.push(`${rel(f)} (${lines})`)
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true)
  const targets = new Set()
  const visit = node => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      targets.add(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteral(node.arguments[0])) {
      targets.add(node.arguments[0].text)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      targets.add(node.argument.literal.text)
    }
    if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && !(ts.isTypeReferenceNode(node.type) && node.type.typeName.getText(sf) === 'const')) {
      casts++
      castsByFile.set(rel(f), (castsByFile.get(rel(f)) ?? 0) + 1)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  const to = new Set()
  for (const t of targets) {
    if (!t.startsWith('.')) continue
    const target = resolve(dirname(f), t).replace(/\.js$/, '.ts')
    if (files.includes(target)) to.add(rel(target))
  }
  edges.set(rel(f), to)
}

// Arrows between layers (one per pair of folders, as a reader of the tree sees them).
const arrows = new Map()
for (const [from, tos] of edges) {
  for (const to of tos) {
    const a = layerOf(from)
    const b = layerOf(to)
    const fromFolder = from.includes('/') ? from.split('/')[0] : `(${from})`
    const toFolder = to.includes('/') ? to.split('/')[0] : `(${to})`
    if (fromFolder === toFolder && a[0] === b[0]) continue
    const key = `${fromFolder} -> ${toFolder}`
    let kind = 'down'
    if (b[1] > a[1]) kind = 'upward'
    else if (a[0] !== b[0] && a[1] === b[1] && a[0].startsWith('stage:')) kind = 'sideways'
    else if (a[0] !== b[0] && a[1] === b[1] && a[0].startsWith('plane:')) kind = 'sideways'
    else if (b[1] === a[1] && a[0] === b[0]) kind = 'same'
    const prev = arrows.get(key)
    const rank = { upward: 3, sideways: 2, down: 1, same: 0 }
    if (prev === undefined || rank[kind] > rank[prev.kind]) arrows.set(key, { kind, example: `${from} -> ${to}` })
  }
}

// Cycles: strongly connected components of more than one file (Tarjan).
let index = 0
const idx = new Map()
const low = new Map()
const onStack = new Set()
const stack = []
const sccs = []
function strong (v) {
  idx.set(v, index); low.set(v, index); index++
  stack.push(v); onStack.add(v)
  for (const w of edges.get(v) ?? []) {
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))) } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)))
  }
  if (low.get(v) === idx.get(v)) {
    const comp = []
    let w
    do { w = stack.pop(); onStack.delete(w); comp.push(w) } while (w !== v)
    if (comp.length > 1 || (edges.get(v)?.has(v) ?? false)) sccs.push(comp.sort())
  }
}
for (const v of edges.keys()) if (!idx.has(v)) strong(v)

const all = [...arrows.entries()].filter(([, v]) => v.kind !== 'same')
const up = all.filter(([, v]) => v.kind === 'upward')
const side = all.filter(([, v]) => v.kind === 'sideways')
console.log(`files: ${files.length}`)
console.log(`arrows between folders: ${all.length}; upward: ${up.length}; sideways between stages or planes: ${side.length}`)
console.log(`import cycles: ${sccs.length}`)
console.log(`as casts: ${casts}`)
console.log(`files over 300 lines: ${long.length}`)
if (list) {
  for (const [k, v] of up) console.log(`  upward   ${k}   (${v.example})`)
  for (const [k, v] of side) console.log(`  sideways ${k}   (${v.example})`)
  for (const c of sccs) console.log(`  cycle    ${c.join(' <-> ')}`)
  for (const l of long) console.log(`  long     ${l}`)
  for (const [f, n] of [...castsByFile.entries()].sort((x, y) => y[1] - x[1])) console.log(`  casts    ${n} ${f}`)
}

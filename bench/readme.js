#!/usr/bin/env node
// Renders the README's benchmark table from a results JSON, between the markers
// <!-- bench:start --> and <!-- bench:end --> (appended at the end when missing); nothing
// else in the README is touched. bench/ab.js results (what routing, token accounting, faults
// and translation cost; one build against another) follow the table: the ones named with
// --ab (repeatable), else the newest.
// usage: node bench/readme.js [bench/results/<file>.json] [--ab bench/results/<file>-ab.json]...
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderAbSummary, renderReadmeTable, spliceReadme } from './report.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const README = path.join(REPO, 'README.md')

function newest (kind) {
  const dir = path.join(HERE, 'results')
  const runs = fs.readdirSync(dir)
    .filter(f => f.endsWith('.json') && !f.startsWith('soak-') && !f.includes('-profile'))
    .map(f => ({ f, r: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }))
    .filter(x => x.r.schema === 1 && Array.isArray(x.r.rows) && (x.r.kind ?? 'full') === kind)
    .sort((a, b) => a.r.startedAt.localeCompare(b.r.startedAt))
  return runs.length === 0 ? null : path.join(dir, runs[runs.length - 1].f)
}

const argv = process.argv.slice(2)
const abArgs = []
for (let at = argv.indexOf('--ab'); at >= 0; at = argv.indexOf('--ab')) abArgs.push(argv.splice(at, 2)[1])
const fileArg = argv[0] ?? newest('full')
if (fileArg === null) throw new Error('no results in bench/results: run `npm run bench` first')
const file = path.resolve(fileArg)
const newestAb = newest('ab')
const abFiles = abArgs.length > 0 ? abArgs.map(a => path.resolve(a)) : newestAb === null ? [] : [newestAb]
if (!fs.existsSync(README)) {
  console.error(`${README} does not exist yet; nothing rendered`)
  process.exit(1)
}
const result = JSON.parse(fs.readFileSync(file, 'utf8'))
let table = renderReadmeTable(result, path.relative(REPO, file))
for (const abFile of abFiles) table += '\n\n' + renderAbSummary(JSON.parse(fs.readFileSync(abFile, 'utf8')), path.relative(REPO, abFile))
fs.writeFileSync(README, spliceReadme(fs.readFileSync(README, 'utf8'), table))
console.log(`README.md: benchmark table rendered from ${[file, ...abFiles].map(f => path.relative(REPO, f)).join(', ')}`)

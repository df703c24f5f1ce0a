#!/usr/bin/env node
// Renders the README's benchmark table from a results JSON, between the markers
// <!-- bench:start --> and <!-- bench:end --> (appended at the end when missing); nothing
// else in the README is touched.
// usage: node bench/readme.js [bench/results/<file>.json]   (default: the newest full run)
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderReadmeTable, spliceReadme } from './report.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const README = path.join(REPO, 'README.md')

function newestRun () {
  const dir = path.join(HERE, 'results')
  const runs = fs.readdirSync(dir)
    .filter(f => f.endsWith('.json') && !f.startsWith('soak-') && !f.includes('-profile'))
    .map(f => ({ f, r: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }))
    .filter(x => x.r.schema === 1 && Array.isArray(x.r.rows))
    .sort((a, b) => a.r.startedAt.localeCompare(b.r.startedAt))
  if (runs.length === 0) throw new Error('no results in bench/results: run `npm run bench` first')
  return path.join(dir, runs[runs.length - 1].f)
}

const file = path.resolve(process.argv[2] ?? newestRun())
if (!fs.existsSync(README)) {
  console.error(`${README} does not exist yet; nothing rendered`)
  process.exit(1)
}
const result = JSON.parse(fs.readFileSync(file, 'utf8'))
const table = renderReadmeTable(result, path.relative(REPO, file))
fs.writeFileSync(README, spliceReadme(fs.readFileSync(README, 'utf8'), table))
console.log(`README.md: benchmark table rendered from ${path.relative(REPO, file)}`)

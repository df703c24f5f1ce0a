#!/usr/bin/env node
// How long a config reload holds up requests: starts agnet on the scale config (10,000
// workspaces × 10 models, 100,000 keys; bench/configs.js), polls /healthz every 50 ms, sends
// SIGHUP and reports the reload time and the slowest /healthz answer while it ran.
// usage: node bench/reload-stall.js [--config FILE]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './lib/args.js'
import { startNode, stopAll } from './lib/children.js'
import { request } from './lib/http.js'
import { writeScaleConfig } from './configs.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const args = parseArgs(process.argv.slice(2))
const dir = path.join(HERE, 'results', 'tmp', `reload-stall-${Date.now()}`)
fs.mkdirSync(dir, { recursive: true })
const file = args.config ?? path.join(dir, 'scale.yaml')
if (args.config === undefined) writeScaleConfig(file, 'http://127.0.0.1:1')

const t0 = performance.now()
const agnet = startNode('agnet', [path.join(HERE, '..', 'dist/cli/main.js'), 'serve', '--config', file, '--port', '0', '--host', '127.0.0.1'], { dir })
const m = await agnet.waitFor(/"msg":"agnet listening"/, { timeoutMs: 300_000, pollMs: 5 })
const url = `http://127.0.0.1:${JSON.parse(m.input).port}/healthz`
console.log(`${(fs.statSync(file).size / 1048576).toFixed(1)} MiB config; listening after ${(performance.now() - t0).toFixed(0)} ms`)

let worst = 0
let polls = 0
let stop = false
const poller = (async () => {
  while (!stop) {
    const s = performance.now()
    await request(url)
    worst = Math.max(worst, performance.now() - s)
    polls++
    await new Promise(resolve => setTimeout(resolve, 50))
  }
})()
await new Promise(resolve => setTimeout(resolve, 500))
worst = 0
const from = agnet.logSize()
const r0 = performance.now()
agnet.proc.kill('SIGHUP')
await agnet.waitFor(/"msg":"config reloaded"/, { from, timeoutMs: 300_000, pollMs: 5 })
const reloadMs = performance.now() - r0
stop = true
await poller
await stopAll()
console.log(`reload ${reloadMs.toFixed(0)} ms; slowest /healthz answer meanwhile ${worst.toFixed(0)} ms (${polls} polls in all)`)

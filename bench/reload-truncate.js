#!/usr/bin/env node
// What callers see while a config file is half-written: starts agnet on a config folder
// (models in one file, keys in another), sends requests from 8 loops, empties the models file
// for --empty-ms (default 400) as an editor's truncate-then-write does, writes it back, and
// counts the answers by status. Goal: every answer 200.
// usage: node bench/reload-truncate.js [--empty-ms 400] [--rounds 3]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './lib/args.js'
import { startNode, stopAll } from './lib/children.js'
import { request } from './lib/http.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const args = parseArgs(process.argv.slice(2))
const emptyMs = Number(args['empty-ms'] ?? 400)
const rounds = Number(args.rounds ?? 3)
const dir = path.join(HERE, 'results', 'tmp', `reload-truncate-${Date.now()}`)
fs.mkdirSync(dir, { recursive: true })
const KEY = 'agnet_bench_truncate_key_0123456789abcdef'
const models = `workspaces:
  - name: acme
    members: [{ user: ann, role: member }]
    models:
      - { name: gpt, runtime: { type: openai, model: m }, deployments: [{ region: us-pdx-1, url: "mock://" }] }
`
fs.writeFileSync(path.join(dir, 'models.yaml'), models)
fs.writeFileSync(path.join(dir, 'auth.yaml'), `users:\n  - name: ann\n    apiKeys: [{ name: k, value: "${KEY}" }]\n`)

const agnet = startNode('agnet', [path.join(HERE, '..', 'dist/cli/main.js'), 'serve', '--config', dir, '--port', '0', '--host', '127.0.0.1'], { dir })
const m = await agnet.waitFor(/"msg":"agnet listening"/, { timeoutMs: 60_000, pollMs: 5 })
const url = `http://127.0.0.1:${JSON.parse(m.input).port}/acme/models/gpt/v1/chat/completions`
const body = JSON.stringify({ model: 'm', max_tokens: 3, messages: [{ role: 'user', content: 'x' }] })
const headers = { 'content-type': 'application/json', 'x-blaxel-authorization': `Bearer ${KEY}` }

for (let round = 1; round <= rounds; round++) {
  const byStatus = new Map()
  let stop = false
  const loops = Array.from({ length: 8 }, async () => {
    while (!stop) {
      const r = await request(url, { method: 'POST', headers, body })
      byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1)
    }
  })
  await new Promise(resolve => setTimeout(resolve, 200))
  fs.writeFileSync(path.join(dir, 'models.yaml'), '')
  await new Promise(resolve => setTimeout(resolve, emptyMs))
  fs.writeFileSync(path.join(dir, 'models.yaml'), models)
  await new Promise(resolve => setTimeout(resolve, 1000))
  stop = true
  await Promise.all(loops)
  const total = [...byStatus.values()].reduce((a, b) => a + b, 0)
  const bad = total - (byStatus.get(200) ?? 0)
  console.log(`round ${round}: file empty ${emptyMs} ms; ${total} requests, ${bad} not 200 ${JSON.stringify(Object.fromEntries(byStatus))}`)
}
await stopAll()

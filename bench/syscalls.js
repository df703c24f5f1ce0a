#!/usr/bin/env node
// System calls per request of each proxy process (strace -c -f attached for a fixed number of
// requests): shows whether a change adds socket writes, thread-pool hops (futex) or log writes.
// Linux with strace only; strace slows the process, so only counts are reported, never time.
// usage: node bench/syscalls.js [--requests 5000] [--configs open,open-nolog,full-memory]
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, list } from './lib/args.js'
import fs from 'node:fs'
import { spawn } from 'node:child_process'
import autocannon from 'autocannon'
import { startNode, stopAll } from './lib/children.js'
import { smallConfigs, writeConfig, PREFIX, BENCH_KEY } from './configs.js'
import { REQUEST_BODY, CHAT_PATH } from './scenarios.js'

const B = path.dirname(fileURLToPath(import.meta.url))
const args = parseArgs(process.argv.slice(2))
const dir = path.join(B, 'results', 'tmp', `syscalls-${Date.now()}`)
fs.mkdirSync(dir, { recursive: true })
const up = startNode('upstream', [`${B}/servers/upstream.js`], { dir })
const upUrl = (await up.waitFor(/upstream on (http\S+)/))[1]
const targets = []
for (const ref of ['fastify-min', 'undici-raw']) {
  const c = startNode(ref, [`${B}/servers/gw-${ref}.js`, upUrl, PREFIX], { dir })
  targets.push({ name: ref, pid: c.pid, url: (await c.waitFor(/ on (http\S+)/))[1] })
}
const cfg = smallConfigs(upUrl)
for (const n of list(args.configs, ['open', 'open-nolog', 'full-memory'])) {
  const c = startNode(`agnet-${n}`, [path.join(B, '..', 'dist/cli/main.js'), 'serve', '--config', writeConfig(dir, n, cfg[n]), '--port', '0', '--host', '127.0.0.1'], { dir })
  const m = await c.waitFor(/agnet listening/)
  targets.push({ name: `agnet-${n}`, pid: c.pid, url: `http://127.0.0.1:${JSON.parse(m.input).port}` })
}
const N = Number(args.requests ?? 5000)
const run = (url, amount) => new Promise((r, j) => autocannon({ url: url + PREFIX + CHAT_PATH, connections: 10, amount, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: REQUEST_BODY }, (e, res) => e ? j(e) : r(res)))
for (const t of targets) {
  await run(t.url, 3000)
  const out = path.join(dir, `${t.name}.strace`)
  const st = spawn('strace', ['-c', '-f', '-o', out, '-p', String(t.pid)])
  await new Promise(r => setTimeout(r, 1000))
  const res = await run(t.url, N)
  st.kill('SIGINT'); await new Promise(r => st.once('exit', r))
  const lines = fs.readFileSync(out, 'utf8').split('\n').filter(l => /^\s*\d/.test(l))
  // per request, the calls made at least once every five requests
  const calls = lines.map(l => l.trim().split(/\s+/)).map(f => ({ name: f[f.length - 1], calls: Number(f[3]) })).filter(x => x.calls / N >= 0.2 && x.name !== 'total').sort((a, b) => b.calls - a.calls)
  console.log(`${t.name.padEnd(18)} ${res.requests.total} req  ` + calls.map(x => `${x.name} ${(x.calls / N).toFixed(2)}`).join('  '))
}
await stopAll()

#!/usr/bin/env node
// Memory soak (not a CI test): agnet under a fixed moderate rate for --minutes (default 10),
// its RSS (/proc/<pid>/status) and V8 heap (process.memoryUsage over a fork() IPC channel)
// sampled every --sample seconds. After warm-up the per-minute RSS and heap floor (lowest
// heapUsed of the minute ≈ live data after the last GC) must stay flat.
// usage: node bench/soak.js [--minutes 10] [--rate 500] [--conns 10] [--sample 2] [--warmup-minutes 2]
//   [--config full-memory|policies|key|open] [--dist DIR]
import fs from 'node:fs'
import path from 'node:path'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { parseArgs } from './lib/args.js'
import { describeMachine } from './lib/machine.js'
import { procCpuSec, rssKiB } from './lib/procstat.js'
import { startNode, stopAll } from './lib/children.js'
import { request } from './lib/http.js'
import { smallConfigs, writeConfig } from './configs.js'
import { SCENARIOS, REQUEST_BODY, CHAT_PATH, chatUrl, headersOf, checkScenario } from './scenarios.js'
import { median } from './report.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const args = parseArgs(process.argv.slice(2))
const OPTS = {
  minutes: Number(args.minutes ?? 10),
  rate: Number(args.rate ?? 500),
  conns: Number(args.conns ?? 10),
  sampleS: Number(args.sample ?? 2),
  warmupMinutes: Number(args['warmup-minutes'] ?? 2),
  config: args.config ?? null,
  dist: path.resolve(args.dist ?? path.join(REPO, 'dist'))
}
const log = (...a) => console.log(...a)
const MiB = b => b / 1048576

/** Least-squares slope of y over x. */
export function slope (xs, ys) {
  const n = xs.length
  if (n < 2) return NaN
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2 }
  return num / den
}

async function main () {
  const startedAt = new Date().toISOString()
  const runId = `soak-${startedAt.replace(/[-:]/g, '').replace(/\..*/, 'Z')}`
  const dir = path.join(HERE, 'results', 'tmp', runId)
  fs.mkdirSync(dir, { recursive: true })
  const machine = describeMachine(REPO)
  const upstream = startNode('upstream', [path.join(HERE, 'servers/upstream.js')], { dir })
  const upstreamUrl = (await upstream.waitFor(/upstream on (http\S+)/))[1]
  const configs = smallConfigs(upstreamUrl)
  const env = { dir, urls: new Map(), pids: new Map(), startFailures: new Map(), upstreamUrl, referenceBody: (await request(upstreamUrl + CHAT_PATH, { method: 'POST', body: REQUEST_BODY })).body, jwt: null }

  // the richest config whose features are really on (or the one asked for)
  const candidates = OPTS.config !== null ? [OPTS.config] : ['full-memory', 'policies', 'key', 'open']
  let agnet = null
  let chosen = null
  for (const name of candidates) {
    const file = writeConfig(dir, name, configs[name])
    const logFd = fs.openSync(path.join(dir, `agnet-${name}.log`), 'w')
    const child = fork(path.join(HERE, 'servers/agnet-ipc.js'), [OPTS.dist, file], { stdio: ['ignore', logFd, logFd, 'ipc'] })
    fs.closeSync(logFd)
    const port = await new Promise((resolve, reject) => {
      child.once('message', m => (m?.type === 'listening' ? resolve(m.port) : reject(new Error('unexpected message'))))
      child.once('exit', code => reject(new Error(`agnet exited with ${code}; see ${dir}/agnet-${name}.log`)))
    })
    const s = SCENARIOS.find(x => x.server === `agnet:${name}`)
    env.urls.set(s.server, `http://127.0.0.1:${port}`)
    const reason = await checkScenario(env, s)
    if (reason === null) { agnet = child; chosen = s; break }
    log(`config ${name}: not available (${reason}); trying the next`)
    child.disconnect()
    await new Promise(resolve => child.once('exit', resolve))
  }
  if (agnet === null) throw new Error('no agnet config passed its check')
  log(`soak: ${chosen.label}, ${OPTS.rate} req/s over ${OPTS.conns} connections for ${OPTS.minutes} min, sampling every ${OPTS.sampleS} s (agnet pid ${agnet.pid})`)

  let nextId = 0
  const pending = new Map()
  agnet.on('message', m => { if (m?.type === 'memory') { pending.get(m.id)?.(m.usage); pending.delete(m.id) } })
  const memory = () => new Promise(resolve => { const id = nextId++; pending.set(id, resolve); agnet.send({ type: 'memory', id }) })

  const samples = []
  const t0 = Date.now()
  let cpu0 = procCpuSec(agnet.pid)
  let last = t0
  const timer = setInterval(async () => {
    const now = Date.now()
    const cpu = procCpuSec(agnet.pid)
    const u = await memory()
    const s = { t: (now - t0) / 1000, rssMiB: rssKiB(agnet.pid) / 1024, heapUsedMiB: MiB(u.heapUsed), heapTotalMiB: MiB(u.heapTotal), externalMiB: MiB(u.external), arrayBuffersMiB: MiB(u.arrayBuffers), cpuPct: 100 * (cpu - cpu0) / ((now - last) / 1000) }
    cpu0 = cpu
    last = now
    samples.push(s)
    if (samples.length % Math.max(1, Math.round(60 / OPTS.sampleS)) === 0) log(`${(s.t / 60).toFixed(1).padStart(5)} min  rss ${s.rssMiB.toFixed(1)} MiB  heap used ${s.heapUsedMiB.toFixed(1)} / total ${s.heapTotalMiB.toFixed(1)} MiB  external ${s.externalMiB.toFixed(1)} MiB  cpu ${s.cpuPct.toFixed(0)}%`)
  }, OPTS.sampleS * 1000)

  const statuses = new Map()
  const res = await new Promise((resolve, reject) => {
    const inst = autocannon({ url: chatUrl(env, chosen), connections: OPTS.conns, overallRate: OPTS.rate, duration: OPTS.minutes * 60, method: 'POST', headers: headersOf(env, chosen), body: REQUEST_BODY }, (err, r) => (err ? reject(err) : resolve(r)))
    inst.on('response', (_c, status) => statuses.set(status, (statuses.get(status) ?? 0) + 1))
  })
  clearInterval(timer)
  agnet.disconnect()
  await new Promise(resolve => agnet.once('exit', resolve))
  await stopAll()

  // per-minute aggregates after warm-up: RSS median, heap floor (min heapUsed)
  const minutes = []
  for (let m = 0; m < OPTS.minutes; m++) {
    const in_ = samples.filter(s => s.t > m * 60 && s.t <= (m + 1) * 60)
    if (in_.length === 0) continue
    minutes.push({ minute: m + 1, rssMiB: median(in_.map(s => s.rssMiB)), rssMaxMiB: Math.max(...in_.map(s => s.rssMiB)), heapFloorMiB: Math.min(...in_.map(s => s.heapUsedMiB)), heapTotalMiB: median(in_.map(s => s.heapTotalMiB)), externalMiB: median(in_.map(s => s.externalMiB)) })
  }
  const after = minutes.filter(m => m.minute > OPTS.warmupMinutes)
  const first = after[0]
  const lastM = after[after.length - 1]
  const summary = {
    scenario: chosen.name,
    requests: res.requests.total,
    rps: res.requests.total / res.duration,
    statuses: Object.fromEntries(statuses),
    errors: res.errors,
    timeouts: res.timeouts,
    latencyP50: res.latency.p50,
    latencyP99: res.latency.p99,
    rssFirstMiB: first?.rssMiB,
    rssLastMiB: lastM?.rssMiB,
    rssSlopeMiBPerMin: slope(after.map(m => m.minute), after.map(m => m.rssMiB)),
    // the per-minute maximum is steadier than the median while V8 grows and shrinks its heap
    rssMaxSlopeMiBPerMin: slope(after.map(m => m.minute), after.map(m => m.rssMaxMiB)),
    heapFloorFirstMiB: first?.heapFloorMiB,
    heapFloorLastMiB: lastM?.heapFloorMiB,
    heapFloorSlopeMiBPerMin: slope(after.map(m => m.minute), after.map(m => m.heapFloorMiB))
  }
  const result = { schema: 1, kind: 'soak', startedAt, finishedAt: new Date().toISOString(), machine, options: OPTS, summary, minutes, samples }
  const out = path.join(HERE, 'results', `soak-${startedAt.slice(0, 10)}-${machine.commitShort ?? 'nogit'}.json`)
  fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n')
  const lines = [
    `## agnet soak, ${startedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${machine.commitShort}${machine.srcDirty ? ' (+ uncommitted src/ changes)' : ''}`,
    '',
    `${chosen.label}; ${OPTS.rate} req/s target over ${OPTS.conns} connections for ${OPTS.minutes} min: ${summary.requests.toLocaleString('en-US')} requests (${summary.rps.toFixed(0)} req/s), statuses ${JSON.stringify(summary.statuses)}, ${summary.errors} errors, p50 ${summary.latencyP50} ms, p99 ${summary.latencyP99} ms (autocannon, 1 ms resolution).`,
    '',
    '| minute | RSS median MiB | RSS max MiB | heap floor MiB (min heapUsed) | heap total MiB | external MiB |',
    '|---|---|---|---|---|---|',
    ...minutes.map(m => `| ${m.minute}${m.minute <= OPTS.warmupMinutes ? ' (warm-up)' : ''} | ${m.rssMiB.toFixed(1)} | ${m.rssMaxMiB.toFixed(1)} | ${m.heapFloorMiB.toFixed(1)} | ${m.heapTotalMiB.toFixed(1)} | ${m.externalMiB.toFixed(1)} |`),
    '',
    `After warm-up: RSS ${summary.rssFirstMiB?.toFixed(1)} → ${summary.rssLastMiB?.toFixed(1)} MiB (slope of the per-minute median ${summary.rssSlopeMiBPerMin.toFixed(2)} MiB/min, of the per-minute max ${summary.rssMaxSlopeMiBPerMin.toFixed(2)} MiB/min); heap floor ${summary.heapFloorFirstMiB?.toFixed(1)} → ${summary.heapFloorLastMiB?.toFixed(1)} MiB (slope ${summary.heapFloorSlopeMiBPerMin.toFixed(2)} MiB/min).`
  ]
  log('\n' + lines.join('\n'))
  log(`\nresults: ${path.relative(process.cwd(), out)}`)
}

main().catch(async err => { console.error(err); await stopAll(); process.exit(1) })

#!/usr/bin/env node
// `npm run bench`: every scenario interleaved in one run, each checked before it is timed.
// Upstream, reference proxies and every agnet run in their own child processes; this process
// only generates load (autocannon's programmatic API) and reads /proc.
// usage: node bench/run.js [--rounds 3] [--duration 10] [--warmup 3] [--conns 50,1]
//   [--scenarios a,b,...] [--sse-streams 20] [--sse-batches 5] [--no-sse] [--no-scale-timing]
//   [--profile] [--pin] [--dist DIR] [--out FILE]
// --pin gives the proxies (agnet and the reference proxies) CPU 0 and the load generator and
// upstream CPU 1: each proxy then runs on a core of its own, so its req/s is set by its own
// cost per request instead of by how the scheduler shares two cores (the cleanest way to
// measure what one feature costs: compare the paired rows of two configs).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFile } from 'node:child_process'
import autocannon from 'autocannon'
import { parseArgs, list } from './lib/args.js'
import { describeMachine } from './lib/machine.js'
import { procCpuSec, rssKiB, machineTicks, machineDelta } from './lib/procstat.js'
import { startNode, stopAll, pin } from './lib/children.js'
import { request, upstreamCount } from './lib/http.js'
import { smallConfigs, writeConfig, writeScaleConfig, SCALE, PREFIX } from './configs.js'
import { SCENARIOS, REQUEST_BODY, CHAT_PATH, SSE_PATH, chatUrl, headersOf, checkScenario, deleteRedisKeys } from './scenarios.js'
import { measureSse } from './sse.js'
import { percentile, renderMarkdown, median } from './report.js'
import { summariseProfile } from './lib/profile.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const args = parseArgs(process.argv.slice(2))
// --dist runs agnet from another build (e.g. `tsc --outDir` of a snapshot, to compare builds)
const CLI = path.join(path.resolve(args.dist ?? path.join(REPO, 'dist')), 'cli/main.js')
const OPTS = {
  rounds: Number(args.rounds ?? 3),
  duration: Number(args.duration ?? 10),
  warmup: Number(args.warmup ?? 3),
  conns: list(args.conns, ['50', '1']).map(Number),
  scenarios: list(args.scenarios, SCENARIOS.map(s => s.name)),
  sse: args['no-sse'] === undefined,
  sseStreams: Number(args['sse-streams'] ?? 20),
  sseBatches: Number(args['sse-batches'] ?? 5),
  scaleTiming: args['no-scale-timing'] === undefined,
  profile: args.profile !== undefined,
  pin: args.pin !== undefined,
  dist: args.dist ?? null
}
const log = (...a) => console.log(...a)
const PROXY_CPUS = OPTS.pin ? '0' : undefined
const LOAD_CPUS = OPTS.pin ? '1' : undefined

function selectScenarios () {
  const unknown = OPTS.scenarios.filter(n => !SCENARIOS.some(s => s.name === n))
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map(s => s.name).join(', ')}`)
  const names = new Set(OPTS.scenarios)
  // the references every ratio is taken against, and the small config the scale one is compared with
  names.add('direct')
  names.add('fastify-min')
  if (names.has('agnet-scale')) names.add('agnet-key')
  return SCENARIOS.filter(s => names.has(s.name))
}

function load (url, connections, duration, headers, record) {
  return new Promise((resolve, reject) => {
    let lat = new Float64Array(1 << 18)
    let n = 0
    const statuses = new Map()
    const inst = autocannon({ url, connections, pipelining: 1, duration, method: 'POST', headers, body: REQUEST_BODY }, (err, res) => {
      if (err) return reject(err)
      resolve({ res, lat: lat.subarray(0, n), statuses })
    })
    if (record) {
      // autocannon's histogram has 1 ms resolution; keep float ms ourselves (as the baseline does)
      inst.on('response', (_client, status, _bytes, ms) => {
        if (n === lat.length) { const b = new Float64Array(lat.length * 2); b.set(lat); lat = b }
        lat[n++] = ms
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      })
    }
  })
}

async function measure (env, s, connections, round) {
  const url = chatUrl(env, s)
  const headers = headersOf(env, s)
  await load(url, connections, OPTS.warmup, headers, false)
  const proxyPid = s.name === 'direct' ? 0 : env.pids.get(s.server)
  const upstreamPid = env.pids.get('upstream')
  const up0 = await upstreamCount(env.upstreamUrl)
  const monoStartUs = Number(process.hrtime.bigint() / 1000n)
  const c0 = { proxy: procCpuSec(proxyPid), upstream: procCpuSec(upstreamPid), gen: process.cpuUsage(), m: machineTicks() }
  const { res, lat, statuses } = await load(url, connections, OPTS.duration, headers, true)
  const gen = process.cpuUsage(c0.gen)
  const monoEndUs = Number(process.hrtime.bigint() / 1000n)
  const m = machineDelta(c0.m, machineTicks())
  const c1 = { proxy: procCpuSec(proxyPid), upstream: procCpuSec(upstreamPid) }
  const upstreamRequests = await upstreamCount(env.upstreamUrl) - up0
  const sorted = Float64Array.from(lat).sort()
  const completed = res.requests.total
  const secs = res.duration
  const expected = statuses.get(s.expect) ?? 0
  const problems = []
  if (completed === 0) problems.push('no request completed')
  if (res.errors > 0 || res.timeouts > 0) problems.push(`${res.errors} errors, ${res.timeouts} timeouts`)
  if (expected !== sorted.length) problems.push(`statuses ${JSON.stringify(Object.fromEntries(statuses))}, expected only ${s.expect}`)
  const perRequest = s.expect === 200 ? 1 : 0
  // autocannon stops the warm-up and the run with requests in flight: the upstream may see up
  // to `connections` more per edge
  if (Math.abs(upstreamRequests - perRequest * completed) > 2 * connections + 5) problems.push(`the upstream saw ${upstreamRequests} requests for ${completed} completed`)
  const row = {
    ts: new Date().toISOString(),
    round,
    scenario: s.name,
    connections,
    durationS: secs,
    rps: completed / secs,
    completed,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    errors: res.errors,
    timeouts: res.timeouts,
    statuses: Object.fromEntries(statuses),
    upstreamRequests,
    proxyCpuUsPerReq: proxyPid ? (c1.proxy - c0.proxy) / completed * 1e6 : NaN,
    proxyCpuPct: proxyPid ? 100 * (c1.proxy - c0.proxy) / secs : NaN,
    upstreamCpuUsPerReq: (c1.upstream - c0.upstream) / completed * 1e6,
    genCpuPct: 100 * (gen.user + gen.system) / 1e6 / secs,
    machineBusyPct: m.busyPct,
    stealPct: m.stealPct,
    valid: problems.length === 0,
    problems,
    monoStartUs,
    monoEndUs
  }
  log(`r${round} c=${String(connections).padEnd(3)} ${s.name.padEnd(20)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50.toFixed(2)}  p99 ${row.p99.toFixed(2)} ms  cpu ${Number.isFinite(row.proxyCpuUsPerReq) ? row.proxyCpuUsPerReq.toFixed(0).padStart(4) : '   -'} µs/req (${Number.isFinite(row.proxyCpuPct) ? row.proxyCpuPct.toFixed(0) : '-'}%)  box ${row.machineBusyPct.toFixed(0)}% steal ${row.stealPct.toFixed(1)}%${row.valid ? '' : `  ⚠ ${problems.join('; ')}`}`)
  return row
}

function timeCommand (argv) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    execFile(process.execPath, argv, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${argv.join(' ')} failed: ${stderr || err.message}`))
      resolve({ ms: performance.now() - t0, stdout: stdout.trim() })
    })
  })
}

async function startAgnet (env, name, file) {
  const nodeArgs = OPTS.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(env.dir, 'prof', name)}`] : []
  const t0 = performance.now()
  const child = startNode(`agnet-${name}`, [CLI, 'serve', '--config', file, '--port', '0', '--host', '127.0.0.1'], { dir: env.dir, nodeArgs, cpus: PROXY_CPUS })
  try {
    const m = await child.waitFor(/"msg":"agnet listening"/, { timeoutMs: 180_000, pollMs: 2 })
    const startMs = performance.now() - t0
    const port = JSON.parse(m.input).port
    env.urls.set(`agnet:${name}`, `http://127.0.0.1:${port}`)
    env.pids.set(`agnet:${name}`, child.pid)
    env.children.set(`agnet:${name}`, child)
    return startMs
  } catch (err) {
    env.startFailures.set(`agnet:${name}`, `agnet did not start with the ${name} config: ${String(err.message).split('\n').slice(0, 6).join(' | ')}`)
    await child.stop()
    return NaN
  }
}

async function reloadMs (env, name, times) {
  const child = env.children.get(`agnet:${name}`)
  const out = []
  for (let i = 0; i < times; i++) {
    const from = child.logSize()
    const t0 = performance.now()
    child.proc.kill('SIGHUP')
    await child.waitFor(/"msg":"config reloaded"/, { from, timeoutMs: 300_000, pollMs: 1 })
    out.push(performance.now() - t0)
  }
  return out
}

/** A full run leaves about 1 GB of server logs and generated configs: keep only the newest few. */
function pruneOldRuns (tmp, keep) {
  if (!fs.existsSync(tmp)) return
  const runs = fs.readdirSync(tmp).filter(f => /^\d{8}T\d{6}Z$/.test(f)).sort()
  for (const f of runs.slice(0, Math.max(0, runs.length - keep))) fs.rmSync(path.join(tmp, f), { recursive: true, force: true })
}

async function main () {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`)
  const startedAt = new Date().toISOString()
  const runId = startedAt.replace(/[-:]/g, '').replace(/\..*/, 'Z')
  const dir = path.join(HERE, 'results', 'tmp', runId)
  pruneOldRuns(path.dirname(dir), 2)
  fs.mkdirSync(dir, { recursive: true })
  const machine = describeMachine(REPO)
  const selected = selectScenarios()
  const env = { dir, urls: new Map(), pids: new Map(), children: new Map(), startFailures: new Map(), jwt: null, redisPrefix: `agnet-bench-${runId}:`, upstreamUrl: '', referenceBody: '' }
  log(`agnet bench ${runId}: ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, commit ${machine.commitShort}${machine.srcDirty ? ' (+ uncommitted src/ changes)' : ''}`)
  log(`rounds=${OPTS.rounds} duration=${OPTS.duration}s warmup=${OPTS.warmup}s conns=${OPTS.conns} scenarios=${selected.map(s => s.name).join(',')}`)
  log(`servers' logs: ${path.relative(REPO, dir)}/`)

  if (OPTS.pin) pin(process.pid, LOAD_CPUS)
  const upstream = startNode('upstream', [path.join(HERE, 'servers/upstream.js')], { dir, cpus: LOAD_CPUS })
  env.upstreamUrl = (await upstream.waitFor(/upstream on (http\S+)/))[1]
  env.urls.set('upstream', env.upstreamUrl)
  env.pids.set('upstream', upstream.pid)
  env.referenceBody = (await request(env.upstreamUrl + CHAT_PATH, { method: 'POST', body: REQUEST_BODY })).body

  const servers = new Set(selected.map(s => s.server))
  for (const ref of ['fastify-min', 'undici-raw']) {
    if (!servers.has(ref)) continue
    const c = startNode(ref, [path.join(HERE, `servers/gw-${ref}.js`), env.upstreamUrl, PREFIX], { dir, cpus: PROXY_CPUS })
    env.urls.set(ref, (await c.waitFor(/ on (http\S+)/))[1])
    env.pids.set(ref, c.pid)
  }

  // configs; the small key config starts alone first so its start time is comparable with the scale one
  const configs = smallConfigs(env.upstreamUrl, { redisPrefix: env.redisPrefix })
  const files = {}
  for (const [name, c] of Object.entries(configs)) files[name] = writeConfig(dir, name, c)
  const startMs = {}
  const agnetNames = [...servers].filter(x => x.startsWith('agnet:')).map(x => x.slice(6))
  const wantScale = agnetNames.includes('scale')
  if (agnetNames.includes('key')) startMs.key = await startAgnet(env, 'key', files.key)
  await Promise.all(agnetNames.filter(n => n !== 'key' && n !== 'scale').map(async n => { startMs[n] = await startAgnet(env, n, files[n]) }))
  let scale = null
  if (wantScale) {
    const scaleFile = path.join(dir, 'scale.yaml')
    writeScaleConfig(scaleFile, env.upstreamUrl)
    scale = {
      shape: { workspaces: SCALE.workspaces, modelsPerWorkspace: SCALE.modelsPerWorkspace, keys: SCALE.workspaces * SCALE.keysPerWorkspace },
      fileMiB: fs.statSync(scaleFile).size / 1048576,
      checkMs: { small: NaN, scale: NaN },
      startMs: { small: startMs.key, scale: NaN },
      reloadMs: { small: [], scale: [] },
      rssMiB: { small: NaN, scale: NaN }
    }
    if (OPTS.scaleTiming) {
      log('timing `agnet config check` (small, then scale)…')
      scale.checkMs.small = (await timeCommand([CLI, 'config', 'check', files.key])).ms
      const big = await timeCommand([CLI, 'config', 'check', scaleFile])
      scale.checkMs.scale = big.ms
      log(`  small ${scale.checkMs.small.toFixed(0)} ms, scale ${scale.checkMs.scale.toFixed(0)} ms (${big.stdout})`)
    }
    log('starting agnet with the scale config…')
    scale.startMs.scale = await startAgnet(env, 'scale', scaleFile)
    log(`  listening after ${scale.startMs.scale.toFixed(0)} ms`)
  }

  // checks: a scenario is timed only when it answers right and its feature is really on
  const scenarios = []
  for (const s of selected) {
    let reason
    try { reason = await checkScenario(env, s) } catch (err) { reason = `check failed: ${err.message}` }
    scenarios.push({ name: s.name, label: s.label, status: reason === null ? 'ok' : 'skipped', reason })
    log(`check ${s.name.padEnd(20)} ${reason === null ? 'ok' : `NOT AVAILABLE: ${reason}`}`)
  }
  const timed = selected.filter(s => scenarios.find(x => x.name === s.name).status === 'ok')

  const rows = []
  for (let round = 1; round <= OPTS.rounds; round++) {
    // rotate the order each round so no scenario always runs right after the same neighbour
    const order = timed.map((_, i) => timed[(i + round - 1) % timed.length])
    for (const c of OPTS.conns) for (const s of order) rows.push(await measure(env, s, c, round))
  }

  let sse = []
  if (OPTS.sse) {
    const sseTargets = ['direct', 'fastify-min', 'agnet-open', 'agnet-full-memory']
      .map(n => timed.find(s => s.name === n)).filter(Boolean)
      .map(s => ({ name: s.name, url: chatUrl(env, s).replace(CHAT_PATH, SSE_PATH), headers: { ...headersOf(env, s), accept: 'text/event-stream' } }))
    sse = await measureSse(sseTargets, { rounds: OPTS.rounds, batches: OPTS.sseBatches, streams: OPTS.sseStreams, log })
  }

  if (scale !== null && env.children.has('agnet:scale')) {
    scale.rssMiB.scale = rssKiB(env.pids.get('agnet:scale')) / 1024
    scale.rssMiB.small = rssKiB(env.pids.get('agnet:key')) / 1024
    if (OPTS.scaleTiming) {
      log('timing SIGHUP reloads…')
      scale.reloadMs.small = await reloadMs(env, 'key', 5)
      scale.reloadMs.scale = await reloadMs(env, 'scale', 1)
      log(`  small ${median(scale.reloadMs.small).toFixed(1)} ms, scale ${median(scale.reloadMs.scale).toFixed(0)} ms`)
    }
  }

  await stopAll()
  if (selected.some(s => s.tokens === 'redis')) await deleteRedisKeys(env.redisPrefix)
  let profiles = null
  if (OPTS.profile) {
    profiles = {}
    for (const name of agnetNames) {
      const pdir = path.join(dir, 'prof', name)
      const f = fs.existsSync(pdir) ? fs.readdirSync(pdir).find(x => x.endsWith('.cpuprofile')) : undefined
      // only the measured windows of the scenarios this process served
      const windows = rows.filter(r => selected.find(s => s.name === r.scenario)?.server === `agnet:${name}`).map(r => [r.monoStartUs, r.monoEndUs])
      if (f !== undefined && windows.length > 0) profiles[name] = summariseProfile(JSON.parse(fs.readFileSync(path.join(pdir, f), 'utf8')), 25, windows)
    }
  }

  const result = { schema: 1, runId, startedAt, finishedAt: new Date().toISOString(), machine, options: OPTS, scenarios, rows, sse, scale, startMs, profiles }
  const outFile = args.out ? path.resolve(args.out) : path.join(HERE, 'results', `${startedAt.slice(0, 10)}-${machine.commitShort ?? 'nogit'}${OPTS.profile ? '-profile' : ''}.json`)
  fs.writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n')
  const md = renderMarkdown(result)
  // latest.md follows the recorded runs only (not profile runs or runs written elsewhere with --out)
  if (!OPTS.profile && !args.out) fs.writeFileSync(path.join(HERE, 'results', 'latest.md'), md)
  log('\n' + md)
  if (profiles !== null) {
    for (const [name, p] of Object.entries(profiles)) {
      log(`\n### CPU profile of agnet (${name} config): ${p.busySamples} busy samples, ${p.idlePct.toFixed(1)}% idle`)
      log(p.byPackage.map(x => `${x.pct.toFixed(1).padStart(5)}% ${x.name}`).join('\n'))
      log('-- top self time')
      log(p.topFunctions.map(x => `${x.pct.toFixed(1).padStart(5)}% ${x.name}`).join('\n'))
    }
  }
  log(`results: ${path.relative(process.cwd(), outFile)}`)
}

main().catch(async err => {
  console.error(err)
  await stopAll()
  process.exit(1)
})

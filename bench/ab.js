#!/usr/bin/env node
// `npm run bench:ab`: what routing and token accounting cost per request, measured the way a
// few-percent difference survives a shared 2-core machine. The full bench (run.js) compares
// scenarios in separate runs half a minute apart; on this box the speed of the same process
// drifts by ±15% from one second to the next (other tenants of the host), which drowns a 5%
// effect. The variants (bench/configs.js abConfigs: a single-deployment model, the same model
// routed among 4 regions × 3 deployments by policies, that routed model metered by maxToken,
// the first two again in a config of 1,000 models, a fault in force on another model, and the
// mk3 pair: a ~1 KB chat request and its ~1 KB answer passed through to an OpenAI-type model
// (pass-1k) and translated for an Anthropic-type mk3 model (mk3-1k), both answered by the
// upstream process in the provider's own form) are measured:
//   --mode together (default): all at the same time, each variant in its own agnet process
//     (identical processes per config; which process serves which variant rotates every
//     round), so every variant lives through the same slow and fast seconds; each one's CPU
//     time per request is read from /proc over the same window.
//   --mode turns: one process per config serves all its variants, which take turns in short
//     runs; with --profile, a CPU profile per variant, and for each question the functions
//     whose self time per request differs most between its two variants.
// Upstream in its own process, as always.
//   --versus DIR: everything on (the metered model) in this build against the build in DIR
//     (its dist/, e.g. a `git archive` of another commit, built), one process each, at the
//     same time: does a change make the hot path slower?
//   --only a,b: only these variants (and the comparisons between them), e.g.
//     `--only pass-1k,mk3-1k` for the translation cost alone.
// usage: node bench/ab.js [--mode together|turns] [--pairs 12] [--duration 2] [--warmup 3]
//   [--conns 50] [--profile] [--versus DIR] [--only a,b] [--out FILE]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { list, parseArgs } from './lib/args.js'
import { describeMachine } from './lib/machine.js'
import { procCpuSec } from './lib/procstat.js'
import { startNode, stopAll } from './lib/children.js'
import { request } from './lib/http.js'
import { abConfigs, writeConfig, WORKSPACE, BENCH_KEY, EU_REGIONS } from './configs.js'
import { REQUEST_BODY, KB_REQUEST_BODY, CHAT_PATH } from './scenarios.js'
import { median } from './report.js'
import { diffSelfTime, selfTimePerRequest, summariseProfile } from './lib/profile.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const CLI = path.join(REPO, 'dist/cli/main.js')
const args = parseArgs(process.argv.slice(2))
const OPTS = {
  pairs: Number(args.pairs ?? 12),
  duration: Number(args.duration ?? 2),
  warmup: Number(args.warmup ?? 3),
  conns: Number(args.conns ?? 50),
  mode: args.mode ?? 'together',
  profile: args.profile !== undefined,
  versus: args.versus === undefined ? null : path.resolve(args.versus),
  only: list(args.only, null)
}
if (OPTS.versus !== null && OPTS.mode !== 'together') throw new Error('--versus runs both builds at the same time (--mode together)')
if (!['together', 'turns'].includes(OPTS.mode)) throw new Error(`--mode is together or turns, not ${OPTS.mode}`)
if (OPTS.profile && OPTS.mode !== 'turns') throw new Error('--profile needs --mode turns (one profile per variant)')
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }
const log = (...a) => console.log(...a)

/**
 * The variants: which process, which model, which request body; `routed` when the policies
 * allow only EU regions; `kb` the id the ~1 KB answer must carry (proof it came from the
 * upstream's /kb route in the provider's form and, for mk3, went through the translation).
 */
const ALL_CASES = OPTS.versus !== null
  ? [
      { name: 'before', server: 'small', model: 'metered', routed: true, cli: path.join(OPTS.versus, 'dist/cli/main.js') },
      { name: 'after', server: 'small', model: 'metered', routed: true, cli: CLI }
    ]
  : [
      { name: 'single', server: 'small', model: 'single' },
      { name: 'routed', server: 'small', model: 'routed', routed: true },
      { name: 'metered', server: 'small', model: 'metered', routed: true },
      { name: 'big-single', server: 'big', model: 'single' },
      { name: 'big-routed', server: 'big', model: 'routed', routed: true },
      { name: 'fault-elsewhere', server: 'faulted', model: 'single' },
      { name: 'pass-1k', server: 'small', model: 'pass-1k', body: KB_REQUEST_BODY, kb: 'chatcmpl-kb' },
      { name: 'mk3pass-1k', server: 'small', model: 'mk3pass-1k', body: KB_REQUEST_BODY, kb: 'chatcmpl-kb' },
      { name: 'mk3-1k', server: 'small', model: 'mk3-1k', body: KB_REQUEST_BODY, kb: 'msg_kb' }
    ]
const CASES = OPTS.only === null ? ALL_CASES : ALL_CASES.filter(c => OPTS.only.includes(c.name))
if (OPTS.only !== null) {
  const unknown = OPTS.only.filter(n => !ALL_CASES.some(c => c.name === n))
  if (unknown.length > 0) throw new Error(`--only: no variant ${unknown.join(', ')} (variants: ${ALL_CASES.map(c => c.name).join(', ')})`)
}
/**
 * The questions: `with` against `without`. The target is a ratio both req/s (with ÷ without)
 * and CPU per request (without ÷ with) must reach, or, with `maxAddedUs`, the most CPU time
 * per request `with` may add over `without`.
 */
const ALL_COMPARISONS = OPTS.versus !== null
  ? [{ what: `everything on (key, policies, latency routing, maxToken in memory): this build vs ${OPTS.versus}`, with: 'after', without: 'before', target: 0.98 }]
  : [
      { what: 'routing among 4 regions × 3 deployments (policies, latency) vs one deployment', with: 'routed', without: 'single', target: 0.95 },
      { what: 'the routed model in a config of 1,000 models vs one deployment in it', with: 'big-routed', without: 'big-single', target: 0.95 },
      { what: 'the routed model in a config of 1,000 models vs one deployment in a small config', with: 'big-routed', without: 'single', target: 0.95 },
      { what: 'maxToken accounting (memory store) vs the same routed model without it', with: 'metered', without: 'routed', target: 0.9 },
      { what: 'a network fault in force on another model (fault table looked up) vs no fault', with: 'fault-elsewhere', without: 'single', target: 0.99 },
      { what: 'mk3 translation (Anthropic) vs passthrough, 1 KB request and answer', with: 'mk3-1k', without: 'pass-1k', maxAddedUs: 15 },
      { what: 'mk3 translation (Anthropic) vs mk3 passthrough (OpenAI type, `model` replaced), 1 KB request and answer', with: 'mk3-1k', without: 'mk3pass-1k', maxAddedUs: 15 }
    ]
const COMPARISONS = ALL_COMPARISONS.filter(c => CASES.some(x => x.name === c.with) && CASES.some(x => x.name === c.without))

function load (url, duration, body, connections = OPTS.conns) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, pipelining: 1, duration, method: 'POST', headers: HEADERS, body }, (err, res) => {
      if (err) reject(err)
      else resolve(res)
    })
  })
}

async function check (url, c) {
  const r = await request(url, { method: 'POST', headers: HEADERS, body: c.body ?? REQUEST_BODY })
  if (r.status !== 200) throw new Error(`${c.name}: expected 200, got ${r.status}: ${r.body.slice(0, 200)}`)
  const region = r.headers['x-agnet-region']
  if (c.routed === true && !EU_REGIONS.includes(region)) throw new Error(`${c.name}: served from ${region}, the policies allow only EU regions`)
  if (c.kb !== undefined) {
    const answer = JSON.parse(r.body)
    if (answer.object !== 'chat.completion' || answer.id !== c.kb || (answer.choices?.[0]?.message?.content ?? '').length < 800) throw new Error(`${c.name}: expected the ~1 KB chat.completion ${c.kb}, got ${r.body.slice(0, 200)}`)
  }
  if (c.model === 'metered' && r.headers.ratelimit === undefined) throw new Error(`${c.name}: no RateLimit header, accounting is not on`)
}

async function main () {
  const startedAt = new Date().toISOString()
  const dir = path.join(HERE, 'results', 'tmp', `ab-${startedAt.replace(/[-:]/g, '').replace(/\..*/, 'Z')}`)
  fs.mkdirSync(dir, { recursive: true })
  const machine = describeMachine(REPO)
  log(`agnet A/B bench: ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, commit ${machine.commitShort}${machine.srcDirty ? ' (+ uncommitted src/ changes)' : ''}`)
  log(`pairs=${OPTS.pairs} duration=${OPTS.duration}s warmup=${OPTS.warmup}s conns=${OPTS.conns}; logs in ${path.relative(REPO, dir)}/`)

  const upstream = startNode('upstream', [path.join(HERE, 'servers/upstream.js')], { dir })
  const upstreamUrl = (await upstream.waitFor(/upstream on (http\S+)/))[1]
  // together: one process per variant (named config:index); turns: one process per config
  const servers = new Map()
  for (const [name, cfg] of Object.entries(abConfigs(upstreamUrl))) {
    const file = writeConfig(dir, `ab-${name}`, cfg)
    const mine = CASES.filter(c => c.server === name).length
    if (mine === 0) continue
    const copies = OPTS.mode === 'together' ? mine : 1
    for (let i = 0; i < copies; i++) {
      const nodeArgs = OPTS.profile && name === 'small' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'prof')}`] : []
      const cli = CASES.filter(c => c.server === name)[i]?.cli ?? CLI
      const child = startNode(`agnet-${name}-${i}`, [cli, 'serve', '--config', file, '--port', '0', '--host', '127.0.0.1'], { dir, nodeArgs })
      const m = await child.waitFor(/"msg":"agnet listening"/, { timeoutMs: 180_000, pollMs: 2 })
      servers.set(`${name}:${i}`, { url: `http://127.0.0.1:${JSON.parse(m.input).port}`, pid: child.pid })
    }
  }
  /** The process serving case `c` in round `pair`: rotates among the copies of its config. */
  const serverOf = (c, pair) => {
    if (OPTS.mode === 'turns') return `${c.server}:0`
    const group = CASES.filter(x => x.server === c.server)
    // Two builds: each variant stays on the process of its own build.
    if (OPTS.versus !== null) return `${c.server}:${group.indexOf(c)}`
    return `${c.server}:${(group.indexOf(c) + pair) % group.length}`
  }
  const urlOf = (c, server) => `${servers.get(server).url}/${WORKSPACE}/models/${c.model}${CHAT_PATH}`
  for (const server of servers.keys()) {
    for (const c of CASES.filter(x => server.startsWith(`${x.server}:`))) await check(urlOf(c, server), c)
  }
  // warm every process on every variant it will serve
  for (const server of servers.keys()) {
    for (const c of CASES.filter(x => server.startsWith(`${x.server}:`))) await load(urlOf(c, server), OPTS.warmup / 2, c.body ?? REQUEST_BODY)
  }

  /** Measures case `c` on its process over one load run; `upstreamShared` when others run meanwhile. */
  const measureOne = async (c, pair, upstreamShared) => {
    const server = serverOf(c, pair)
    const pid = servers.get(server).pid
    const cpu0 = procCpuSec(pid)
    const up0 = procCpuSec(upstream.pid)
    const monoStartUs = Number(process.hrtime.bigint() / 1000n)
    const res = await load(urlOf(c, server), OPTS.duration, c.body ?? REQUEST_BODY)
    const monoEndUs = Number(process.hrtime.bigint() / 1000n)
    const cpu = procCpuSec(pid) - cpu0
    const upCpu = procCpuSec(upstream.pid) - up0
    const ok = res['2xx']
    const bad = res.requests.total - ok + res.errors + res.timeouts
    const upUsPerReq = upstreamShared ? NaN : upCpu / ok * 1e6
    return { pair, case: c.name, server, rps: ok / res.duration, cpuUsPerReq: cpu / ok * 1e6, cpuPct: 100 * cpu / res.duration, upUsPerReq, relCost: upstreamShared ? NaN : cpu / upCpu, bad, monoStartUs, monoEndUs }
  }
  const show = row => log(`p${String(row.pair).padEnd(3)} ${row.case.padEnd(11)} ${row.server.padEnd(8)} ${row.rps.toFixed(0).padStart(6)} req/s  cpu ${row.cpuUsPerReq.toFixed(1).padStart(6)} µs/req (${row.cpuPct.toFixed(0)}%)${Number.isFinite(row.relCost) ? `  upstream ${row.upUsPerReq.toFixed(1)} µs/req  agnet÷upstream ${row.relCost.toFixed(2)}` : ''}${row.bad > 0 ? `  ⚠ ${row.bad} non-2xx or errors` : ''}`)

  const rows = []
  for (let pair = 1; pair <= OPTS.pairs; pair++) {
    if (OPTS.mode === 'together') {
      const got = await Promise.all(CASES.map(c => measureOne(c, pair, true)))
      for (const row of got) { rows.push(row); show(row) }
      continue
    }
    // turns: rotate so no variant always follows the same neighbour
    for (const c of CASES.map((_, i) => CASES[(i + pair - 1) % CASES.length])) {
      const row = await measureOne(c, pair, false)
      rows.push(row)
      show(row)
    }
  }
  await stopAll()
  let profiles = null
  if (OPTS.profile) {
    const pdir = path.join(dir, 'prof')
    const f = fs.readdirSync(pdir).find(x => x.endsWith('.cpuprofile'))
    const prof = JSON.parse(fs.readFileSync(path.join(pdir, f), 'utf8'))
    profiles = {}
    for (const c of CASES.filter(x => x.server === 'small')) {
      const p = summariseProfile(prof, 30, rows.filter(r => r.case === c.name).map(r => [r.monoStartUs, r.monoEndUs]))
      profiles[c.name] = p
      log(`\n### CPU profile, ${c.name}: ${p.busySamples} busy samples, ${p.idlePct.toFixed(1)}% idle`)
      log(p.byPackage.map(x => `${x.pct.toFixed(1).padStart(5)}% ${x.name}`).join('\n'))
      log('-- top self time')
      log(p.topFunctions.map(x => `${x.pct.toFixed(1).padStart(5)}% ${x.name}`).join('\n'))
    }
    // Where each question's `with` variant spends more: self time per request, function by function.
    const perRequest = name => {
      const mine = rows.filter(r => r.case === name)
      const requests = mine.reduce((n, r) => n + r.rps * (r.monoEndUs - r.monoStartUs) / 1e6, 0)
      return selfTimePerRequest(prof, mine.map(r => [r.monoStartUs, r.monoEndUs]), requests)
    }
    for (const c of COMPARISONS) {
      if (!CASES.some(x => x.name === c.with && x.server === 'small') || !CASES.some(x => x.name === c.without && x.server === 'small')) continue
      const d = diffSelfTime(perRequest(c.without), perRequest(c.with))
      log(`\n### CPU profile, ${c.with} − ${c.without}: self time per request ${d.totalB.toFixed(1)} − ${d.totalA.toFixed(1)} = ${(d.totalB - d.totalA).toFixed(1)} µs (the JS thread's samples only)`)
      log(d.top.map(x => `${(x.diff >= 0 ? '+' : '') + x.diff.toFixed(2).padStart(6)} µs  (${x.a.toFixed(2)} → ${x.b.toFixed(2)})  ${x.name}`).join('\n'))
    }
  }

  const ratios = (a, b, f) => {
    const out = []
    for (let p = 1; p <= OPTS.pairs; p++) {
      const x = rows.find(r => r.pair === p && r.case === a)
      const y = rows.find(r => r.pair === p && r.case === b)
      if (x !== undefined && y !== undefined) out.push(f(x, y))
    }
    return out.sort((u, v) => u - v)
  }
  const q = (s, p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]
  const results = COMPARISONS.map(c => {
    const rps = ratios(c.with, c.without, (x, y) => x.rps / y.rps)
    const cpu = ratios(c.with, c.without, (x, y) => y.cpuUsPerReq / x.cpuUsPerReq)
    const added = ratios(c.with, c.without, (x, y) => x.cpuUsPerReq - y.cpuUsPerReq)
    const rel = ratios(c.with, c.without, (x, y) => y.relCost / x.relCost).filter(Number.isFinite)
    const r = { ...c, rps: median(rps), rpsQ1: q(rps, 0.25), rpsQ3: q(rps, 0.75), cpu: median(cpu), cpuQ1: q(cpu, 0.25), cpuQ3: q(cpu, 0.75), addedUs: median(added), rel: median(rel), relQ1: q(rel, 0.25), relQ3: q(rel, 0.75) }
    // A CPU budget is judged on the CPU time added alone; a ratio on both throughput and CPU.
    return { ...r, met: c.maxAddedUs !== undefined ? r.addedUs <= c.maxAddedUs : r.rps >= c.target && r.cpu >= c.target }
  })
  const perCase = CASES.map(c => {
    const rs = rows.filter(r => r.case === c.name)
    return { case: c.name, rps: median(rs.map(r => r.rps)), cpuUsPerReq: median(rs.map(r => r.cpuUsPerReq)), relCost: median(rs.map(r => r.relCost)), bad: rs.reduce((a, r) => a + r.bad, 0) }
  })
  const turns = OPTS.mode === 'turns'
  const f3 = v => (Number.isFinite(v) ? v.toFixed(3) : '–')
  const out = []
  out.push(`## agnet A/B bench, ${startedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${machine.commitShort ?? '?'}${machine.srcDirty ? ' (+ uncommitted src/ changes)' : ''}`, '')
  out.push(`${machine.cores} × ${machine.cpuModel}, Node ${machine.node}; mode ${OPTS.mode}: ${OPTS.pairs} rounds of ${OPTS.duration} s, -c ${OPTS.conns} per variant, ${turns ? 'variants taking turns in one agnet process per config' : 'all variants at once, each in its own agnet process (rotating)'}. \`node bench/ab.js --mode ${OPTS.mode} --pairs ${OPTS.pairs} --duration ${OPTS.duration}${OPTS.only === null ? '' : ` --only ${OPTS.only.join(',')}`}\``, '')
  out.push(`| variant | req/s (median) | CPU µs/req (median) |${turns ? ' agnet CPU ÷ upstream CPU (median) |' : ''} non-2xx |`, `|---|---|---|${turns ? '---|' : ''}---|`)
  for (const p of perCase) out.push(`| ${p.case} | ${p.rps.toFixed(0)} | ${p.cpuUsPerReq.toFixed(1)} |${turns ? ` ${f3(p.relCost)} |` : ''} ${p.bad} |`)
  out.push('', `| question | req/s with ÷ without: median [Q1, Q3] | CPU/req without ÷ with: median [Q1, Q3] | CPU µs added (median) |${turns ? ' cost relative to the upstream, without ÷ with: median [Q1, Q3] |' : ''} target | |`, `|---|---|---|---|${turns ? '---|' : ''}---|---|`)
  const targetOf = r => (r.maxAddedUs !== undefined ? `≤ ${r.maxAddedUs} µs added` : `≥ ${r.target}`)
  for (const r of results) out.push(`| ${r.what} | ${f3(r.rps)} [${f3(r.rpsQ1)}, ${f3(r.rpsQ3)}] | ${f3(r.cpu)} [${f3(r.cpuQ1)}, ${f3(r.cpuQ3)}] | ${r.addedUs >= 0 ? '+' : ''}${r.addedUs.toFixed(1)} |${turns ? ` ${f3(r.rel)} [${f3(r.relQ1)}, ${f3(r.relQ3)}] |` : ''} ${targetOf(r)} | ${r.met ? 'met' : 'NOT met'} |`)
  if (turns) out.push('', 'The upstream does the same work for every request, so agnet\'s CPU time divided by the upstream\'s over the same run cancels much of the drift of the machine\'s speed; the upstream\'s cost per request also moves a little with the request rate, so it is a check, not the verdict.')
  const md = out.join('\n') + '\n'
  log('\n' + md)
  const outFile = args.out ? path.resolve(args.out) : path.join(HERE, 'results', `${startedAt.slice(0, 10)}-${machine.commitShort ?? 'nogit'}-ab.json`)
  fs.writeFileSync(outFile, JSON.stringify({ schema: 1, kind: 'ab', startedAt, machine, options: OPTS, rows, perCase, results, profiles, markdown: md }, null, 1) + '\n')
  log(`results: ${path.relative(process.cwd(), outFile)}`)
}

main().catch(async err => {
  console.error(err)
  await stopAll()
  process.exit(1)
})

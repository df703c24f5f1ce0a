// Turns a results JSON (bench/run.js) into ratio tables. Pure functions, no I/O: run.js prints
// and writes bench/results/latest.md with them, readme.js renders the README's table.
// Ratios are paired per round (same round, same load) and then the median is taken: that is
// what survives the noise of a shared 2-core machine.

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile (sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

/** Median (mean of the two middle values for an even count); NaN when empty. */
export function median (values) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return NaN
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/** Per-round f(a)/f(b) (or f(a)-f(b) with op 'diff') for rows of one connection count. */
export function paired (rows, a, b, f, op = 'ratio') {
  const out = []
  for (const ra of rows) {
    if (ra.scenario !== a) continue
    const rb = rows.find(r => r.scenario === b && r.round === ra.round && r.connections === ra.connections)
    if (rb === undefined) continue
    const x = f(ra)
    const y = f(rb)
    const v = op === 'ratio' ? x / y : x - y
    if (Number.isFinite(v)) out.push(v)
  }
  return out
}

export const GOALS = {
  fullOverFastify: 1.5,
  foundationOverFastify: 0.95,
  addedP50Ms: 0.3,
  sseTtfbOverDirect: 2,
  scaleOverSmall: 0.95,
  // routing among 12 deployments, and in a config of 1,000 models, within 5% of one deployment
  routingOverSingle: 0.95,
  // maxToken accounting (memory store) costs at most 10% req/s
  accountingOverNone: 0.9
}

/** What one feature costs: scenario `with` against scenario `without`, paired per round. */
export const FEATURE_COSTS = [
  { what: 'routing: 4 regions × 3 deployments, policies, latency strategy', with: 'agnet-policies', without: 'agnet-key', target: GOALS.routingOverSingle },
  { what: 'routing in a config of 1,000 models', with: 'agnet-models-1000', without: 'agnet-key', target: GOALS.routingOverSingle },
  { what: 'maxToken accounting, memory store', with: 'agnet-full-memory', without: 'agnet-policies', target: GOALS.accountingOverNone },
  { what: 'maxToken accounting, Redis store', with: 'agnet-full-redis', without: 'agnet-policies', target: null }
]

/** The scenario standing for "agnet with everything on", the best available one. */
export function headlineScenario (result) {
  const ok = new Set(result.scenarios.filter(s => s.status === 'ok').map(s => s.name))
  for (const n of ['agnet-full-memory', 'agnet-policies', 'agnet-key', 'agnet-open']) if (ok.has(n)) return n
  return null
}

export function summarise (result) {
  const rows = result.rows ?? []
  const conns = [...new Set(rows.map(r => r.connections))].sort((a, b) => b - a)
  const hi = conns[0]
  const byScenario = result.scenarios.filter(s => s.status === 'ok').map(s => s.name)
  const at = c => rows.filter(r => r.connections === c)
  const c1 = conns.includes(1) ? at(1) : []
  const throughput = byScenario.map(name => {
    const rs = at(hi).filter(r => r.scenario === name)
    const meta = result.scenarios.find(s => s.name === name)
    return {
      scenario: name,
      label: meta.label,
      runs: rs.length,
      valid: rs.every(r => r.valid),
      rps: median(rs.map(r => r.rps)),
      overFastify: median(paired(at(hi), name, 'fastify-min', r => r.rps)),
      overDirect: median(paired(at(hi), name, 'direct', r => r.rps)),
      // the throughput ratio the proxies would reach with a core each: robust when the box is
      // shared and a proxy process does not get a full core (its CPU % < 100)
      cpuOverFastify: name === 'direct' ? NaN : median(paired(at(hi), 'fastify-min', name, r => r.proxyCpuUsPerReq)),
      cpuUsPerReq: name === 'direct' ? NaN : median(rs.map(r => r.proxyCpuUsPerReq)),
      p50: median(rs.map(r => r.p50)),
      p99: median(rs.map(r => r.p99)),
      addedP50c1: name === 'direct' ? 0 : median(paired(c1, name, 'direct', r => r.p50, 'diff')),
      p50c1: median(c1.filter(r => r.scenario === name).map(r => r.p50))
    }
  })
  const sseRows = result.sse ?? []
  const sse = [...new Set(sseRows.map(r => r.scenario))].map(name => {
    const rs = sseRows.filter(r => r.scenario === name)
    return {
      scenario: name,
      ok: rs.reduce((a, r) => a + r.ok, 0),
      streams: rs.reduce((a, r) => a + r.streams, 0),
      ttfbMed: median(rs.map(r => r.ttfbMed)),
      ttfbOverDirect: median(paired(sseRows.map(r => ({ ...r, connections: 0 })), name, 'direct', r => r.ttfbMed)),
      gapMed: median(rs.map(r => r.gapMed)),
      gapP99: median(rs.map(r => r.gapP99)),
      totalMed: median(rs.map(r => r.totalMed))
    }
  })
  const headline = headlineScenario(result)
  const get = n => throughput.find(t => t.scenario === n)
  const goals = []
  const goal = (what, value, target, cmp, note = '') => goals.push({ what, value, target, met: Number.isFinite(value) ? (cmp === '>=' ? value >= target : value < target) : null, cmp, note })
  if (headline !== null && get(headline) !== undefined) {
    const note = headline === 'agnet-full-memory' ? '' : 'agnet-full-memory not available; best available scenario shown'
    goal(`${headline} req/s ÷ bare @fastify/http-proxy at -c ${hi}`, get(headline).overFastify, GOALS.fullOverFastify, '>=', note)
    goal(`${headline} CPU µs/req: bare @fastify/http-proxy's ÷ agnet's at -c ${hi}`, get(headline).cpuOverFastify, GOALS.fullOverFastify, '>=', note)
    if (c1.length > 0) goal(`${headline} p50 added over direct at -c 1 (ms)`, get(headline).addedP50c1, GOALS.addedP50Ms, '<')
  }
  if (get('agnet-open') !== undefined) goal(`agnet-open req/s ÷ bare @fastify/http-proxy at -c ${hi} (foundation)`, get('agnet-open').overFastify, GOALS.foundationOverFastify, '>=')
  for (const s of sse) if (s.scenario.startsWith('agnet')) goal(`SSE TTFB ${s.scenario} ÷ direct`, s.ttfbOverDirect, GOALS.sseTtfbOverDirect, '<')
  const costs = []
  for (const c of FEATURE_COSTS) {
    const rps = paired(at(hi), c.with, c.without, r => r.rps)
    if (rps.length === 0) continue
    const cpu = paired(at(hi), c.without, c.with, r => r.proxyCpuUsPerReq)
    const sorted = [...rps].sort((x, y) => x - y)
    costs.push({ ...c, rounds: rps.length, rps: median(rps), rpsMin: sorted[0], rpsMax: sorted[sorted.length - 1], cpu: median(cpu), addedUs: median(paired(at(hi), c.with, c.without, r => r.proxyCpuUsPerReq, 'diff')) })
    if (c.target !== null) {
      goal(`${c.with} req/s ÷ ${c.without} at -c ${hi} (${c.what})`, median(rps), c.target, '>=')
      goal(`${c.without} CPU µs/req ÷ ${c.with}'s at -c ${hi} (${c.what})`, median(cpu), c.target, '>=')
    }
  }
  let scale = null
  if (result.scale) {
    scale = { ...result.scale, overSmall: median(paired(at(hi), 'agnet-scale', 'agnet-key', r => r.rps)), cpuOverSmall: median(paired(at(hi), 'agnet-key', 'agnet-scale', r => r.proxyCpuUsPerReq)) }
    if (Number.isFinite(scale.overSmall)) goal(`agnet-scale req/s ÷ agnet-key at -c ${hi}`, scale.overSmall, GOALS.scaleOverSmall, '>=')
    if (Number.isFinite(scale.cpuOverSmall)) goal(`agnet-scale CPU µs/req: agnet-key's ÷ agnet-scale's at -c ${hi}`, scale.cpuOverSmall, GOALS.scaleOverSmall, '>=')
  }
  return { connections: conns, hi, throughput, sse, scale, goals, headline, costs }
}

const f = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–')
const signed = (v, d = 2) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(d)}` : '–')
const verdict = g => (g.met === null ? 'n/a' : g.met ? 'met' : 'NOT met')

export function renderMarkdown (result) {
  const s = summarise(result)
  const m = result.machine
  const o = result.options
  const out = []
  out.push(`## agnet benchmark, ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${m.commitShort ?? '?'}${m.srcDirty ? ' (+ uncommitted src/ changes)' : ''}`)
  out.push('')
  out.push(`${m.cores} × ${m.cpuModel}, Node ${m.node}; ${o.rounds} interleaved round(s), ${o.duration} s per run after ${o.warmup} s warm-up, connections ${o.conns.join(', ')}. ${o.pin ? 'Pinned: proxies on CPU 0, generator and upstream on CPU 1.' : 'Generator, proxies and upstream share the machine: compare ratios within this run, not absolute numbers.'}`)
  out.push('')
  out.push(`### Throughput at -c ${s.hi} (medians of per-round values; ratios paired per round)`)
  out.push('')
  out.push('| scenario | req/s | ÷ bare fastify proxy | ÷ direct | proxy CPU µs/req | fastify CPU/req ÷ this | p50 / p99 ms | p50 added at -c 1 (ms) |')
  out.push('|---|---|---|---|---|---|---|---|')
  for (const t of s.throughput) {
    out.push(`| ${t.label}${t.valid ? '' : ' ⚠'} | ${f(t.rps)} | ${f(t.overFastify, 2)} | ${f(t.overDirect, 2)} | ${f(t.cpuUsPerReq)} | ${f(t.cpuOverFastify, 2)} | ${f(t.p50, 2)} / ${f(t.p99, 2)} | ${t.scenario === 'direct' ? `0 (${f(t.p50c1, 2)} ms)` : signed(t.addedP50c1)} |`)
  }
  out.push('', '"fastify CPU/req ÷ this" is the throughput ratio each proxy would reach with a core of its own: on a shared box a proxy often gets less than a core (see `proxyCpuPct` in the JSON), which makes req/s ratios noisy.')
  const invalid = s.throughput.filter(t => !t.valid)
  if (invalid.length > 0) out.push('', `⚠ a measured run had errors, unexpected statuses or an upstream count that did not match: ${invalid.map(t => t.scenario).join(', ')} (see rows[].problems in the JSON).`)
  const skipped = result.scenarios.filter(x => x.status !== 'ok')
  if (skipped.length > 0) {
    out.push('', 'Not measured:')
    for (const x of skipped) out.push(`- ${x.label}: not available — ${x.reason}`)
  }
  if (s.costs.length > 0) {
    out.push('', `### What a feature costs at -c ${s.hi} (the scenario with it ÷ the one without, paired per round)`, '')
    out.push('| feature | with ÷ without, req/s: median (min–max) | CPU µs/req: without ÷ with | CPU µs added per request |')
    out.push('|---|---|---|---|')
    for (const c of s.costs) out.push(`| ${c.what} (${c.with} ÷ ${c.without}, ${c.rounds} rounds) | ${f(c.rps, 3)} (${f(c.rpsMin, 3)}–${f(c.rpsMax, 3)}) | ${f(c.cpu, 3)} | ${signed(c.addedUs, 1)} |`)
  }
  if (s.sse.length > 0) {
    out.push('', `### SSE: ${o.sseStreams} concurrent streams × ${o.sseBatches} batches per round; upstream sends 20 events 1 ms apart + usage + [DONE]`, '')
    out.push('| scenario | complete streams | TTFB median ms | TTFB ÷ direct | inter-event delay median / p99 ms | total median ms |')
    out.push('|---|---|---|---|---|---|')
    for (const x of s.sse) out.push(`| ${x.scenario} | ${x.ok}/${x.streams} | ${f(x.ttfbMed, 2)} | ${x.scenario === 'direct' ? '1' : f(x.ttfbOverDirect, 2)} | ${f(x.gapMed, 2)} / ${f(x.gapP99, 2)} | ${f(x.totalMed, 2)} |`)
  }
  if (s.scale !== null) {
    const sc = s.scale
    out.push('', `### Scale: ${f(sc.shape.workspaces)} workspaces × ${sc.shape.modelsPerWorkspace} models, ${f(sc.shape.keys)} keys (${f(sc.fileMiB, 1)} MiB of YAML)`, '')
    out.push('| | small config (agnet-key) | scale config |')
    out.push('|---|---|---|')
    out.push(`| req/s at -c ${s.hi} (scale ÷ small, paired) | ${f(s.throughput.find(t => t.scenario === 'agnet-key')?.rps)} | ${f(s.throughput.find(t => t.scenario === 'agnet-scale')?.rps)} (${f(sc.overSmall, 3)}) |`)
    out.push(`| proxy CPU µs/req at -c ${s.hi} (small ÷ scale, paired) | ${f(s.throughput.find(t => t.scenario === 'agnet-key')?.cpuUsPerReq)} | ${f(s.throughput.find(t => t.scenario === 'agnet-scale')?.cpuUsPerReq)} (${f(sc.cpuOverSmall, 3)}) |`)
    out.push(`| \`agnet config check\` wall time (process start included) | ${f(sc.checkMs.small)} ms | ${f(sc.checkMs.scale)} ms |`)
    out.push(`| start to "agnet listening" | ${f(sc.startMs.small)} ms | ${f(sc.startMs.scale)} ms |`)
    out.push(`| SIGHUP to "config reloaded" (median) | ${f(median(sc.reloadMs.small))} ms | ${f(median(sc.reloadMs.scale))} ms |`)
    out.push(`| RSS after load | ${f(sc.rssMiB.small)} MiB | ${f(sc.rssMiB.scale)} MiB |`)
  }
  if (s.goals.length > 0) {
    out.push('', '### Goals', '')
    out.push('| goal | measured | target | |')
    out.push('|---|---|---|---|')
    for (const g of s.goals) out.push(`| ${g.what}${g.note ? ` (${g.note})` : ''} | ${f(g.value, 2)} | ${g.cmp} ${g.target} | ${verdict(g)} |`)
  }
  return out.join('\n') + '\n'
}

/** The README's lines on what routing and token accounting cost, from a bench/ab.js result. */
export function renderAbSummary (ab, resultFile) {
  const m = ab.machine
  const out = []
  out.push(`What routing, token accounting and mk3 translation cost per request, from \`npm run bench:ab\` (\`${resultFile}\`, commit ${m.commitShort ?? '?'}, mode ${ab.options.mode}, ${ab.options.pairs} rounds of ${ab.options.duration} s; the variants run side by side so the machine's drift hits them alike):`)
  out.push('')
  out.push('| question | req/s with ÷ without: median [Q1, Q3] | CPU/req without ÷ with: median [Q1, Q3] | CPU µs added | target | |')
  out.push('|---|---|---|---|---|---|')
  for (const r of ab.results) out.push(`| ${r.what} | ${f(r.rps, 3)} [${f(r.rpsQ1, 3)}, ${f(r.rpsQ3, 3)}] | ${f(r.cpu, 3)} [${f(r.cpuQ1, 3)}, ${f(r.cpuQ3, 3)}] | ${signed(r.addedUs, 1)} | ${r.maxAddedUs !== undefined ? `≤ +${r.maxAddedUs} µs` : `≥ ${r.target}`} | ${r.met ? 'met' : 'NOT met'} |`)
  return out.join('\n')
}

/** The compact table that goes between the README's bench markers. */
export function renderReadmeTable (result, resultFile) {
  const s = summarise(result)
  const m = result.machine
  const out = []
  out.push(`Generated by \`node bench/readme.js\` from \`${resultFile}\` (commit ${m.commitShort ?? '?'}, ${m.cores} × ${m.cpuModel}, Node ${m.node}, ${result.options.rounds} interleaved rounds of ${result.options.duration} s). Load generator, proxies and upstream share the machine: read the ratios, not the absolute numbers.`)
  out.push('')
  out.push(`| scenario | req/s -c ${s.hi} | ÷ bare @fastify/http-proxy | proxy CPU µs/req | fastify CPU/req ÷ this | p50 added at -c 1 |`)
  out.push('|---|---|---|---|---|---|')
  for (const t of s.throughput) out.push(`| ${t.label} | ${f(t.rps)} | ${f(t.overFastify, 2)} | ${f(t.cpuUsPerReq)} | ${f(t.cpuOverFastify, 2)} | ${t.scenario === 'direct' ? '0' : `${signed(t.addedP50c1)} ms`} |`)
  const sseAgnet = s.sse.filter(x => x.scenario !== 'direct')
  if (sseAgnet.length > 0) {
    out.push('')
    out.push(`SSE time to first byte with ${result.options.sseStreams} concurrent streams: direct ${f(s.sse.find(x => x.scenario === 'direct')?.ttfbMed, 2)} ms; ${sseAgnet.map(x => `${x.scenario} ${f(x.ttfbMed, 2)} ms (${f(x.ttfbOverDirect, 2)}×)`).join('; ')}.`)
  }
  const skipped = result.scenarios.filter(x => x.status !== 'ok')
  if (skipped.length > 0) out.push('', `Not measured in this run: ${skipped.map(x => `${x.name} (${x.reason})`).join('; ')}.`)
  return out.join('\n')
}

const START = '<!-- bench:start -->'
const END = '<!-- bench:end -->'

/** Replaces the text between the bench markers (appending them at the end when missing). */
export function spliceReadme (readme, table) {
  const a = readme.indexOf(START)
  const b = readme.indexOf(END)
  if (a >= 0 && b > a) return `${readme.slice(0, a + START.length)}\n${table}\n${readme.slice(b)}`
  return `${readme.replace(/\n*$/, '\n')}\n${START}\n${table}\n${END}\n`
}

// `node bench/report.js <results.json>` prints the Markdown of a stored run.
if (process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const fs = await import('node:fs')
  process.stdout.write(renderMarkdown(JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))))
}

// Self time by function and by package of a V8 .cpuprofile (the baseline's proftop.js).
// `windows` ([startUs, endUs] on the monotonic clock, as process.hrtime gives it: V8's
// profile timestamps use the same clock) keeps only the samples taken while load was measured,
// so start-up and config loading do not drown the request path.
export function summariseProfile (p, topN = 25, windows = null) {
  const idx = new Map(p.nodes.map(n => [n.id, n]))
  const cnt = new Map()
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    if (windows !== null && !windows.some(([a, b]) => t >= a && t <= b)) continue
    const s = p.samples[i]
    cnt.set(s, (cnt.get(s) ?? 0) + 1)
  }
  const byFn = new Map()
  const byPkg = new Map()
  let busy = 0
  let idle = 0
  const pkgOf = url => {
    if (!url) return '(native/VM)'
    const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
    if (m) return m[1]
    if (url.startsWith('node:')) return 'node-core'
    const d = url.match(/\/dist\/([^/]+)\//)
    return d ? `agnet ${d[1]}/` : 'agnet'
  }
  for (const [id, c] of cnt) {
    const f = idx.get(id).callFrame
    if (f.functionName === '(idle)') { idle += c; continue }
    busy += c
    const k = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    byFn.set(k, (byFn.get(k) ?? 0) + c)
    const pk = ['(garbage collector)', '(program)'].includes(f.functionName) ? f.functionName : pkgOf(f.url)
    byPkg.set(pk, (byPkg.get(pk) ?? 0) + c)
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, c]) => ({ name, pct: 100 * c / busy }))
  return { busySamples: busy, idlePct: 100 * idle / Math.max(1, busy + idle), byPackage: top(byPkg, 15), topFunctions: top(byFn, topN) }
}

/**
 * Self time per request by function (µs) of the samples taken in `windows`, for `requests`
 * requests served in them: two variants' maps, subtracted, say where one costs more.
 */
export function selfTimePerRequest (p, windows, requests) {
  const idx = new Map(p.nodes.map(n => [n.id, n]))
  const out = new Map()
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0
    t += dt
    if (!windows.some(([a, b]) => t >= a && t <= b)) continue
    const f = idx.get(p.samples[i]).callFrame
    if (f.functionName === '(idle)') continue
    const k = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    // A sample stands for the time until the next one.
    out.set(k, (out.get(k) ?? 0) + (p.timeDeltas[i + 1] ?? dt))
  }
  for (const [k, v] of out) out.set(k, v / Math.max(1, requests))
  return out
}

/** The `topN` functions whose self time per request differs most between `a` and `b` (µs, b − a). */
export function diffSelfTime (a, b, topN = 20) {
  const rows = []
  for (const k of new Set([...a.keys(), ...b.keys()])) rows.push({ name: k, a: a.get(k) ?? 0, b: b.get(k) ?? 0 })
  const total = m => [...m.values()].reduce((x, y) => x + y, 0)
  return {
    totalA: total(a),
    totalB: total(b),
    top: rows.map(r => ({ ...r, diff: r.b - r.a })).sort((x, y) => Math.abs(y.diff) - Math.abs(x.diff)).slice(0, topN)
  }
}

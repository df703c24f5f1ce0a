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

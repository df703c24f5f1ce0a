// SSE pass-through: N concurrent streams per target (the upstream sends 20 `data:` chunks 1 ms
// apart, a usage chunk and `data: [DONE]`). Per stream: time to first body byte, total time,
// the arrival time of every event (→ inter-event delays), body reads. A buffering proxy shows
// TTFB ≈ total, few reads and near-zero gaps followed by one long one. Targets are interleaved
// round by round, as in the perf baseline's sse.js.
import http from 'node:http'
import { percentile } from './report.js'

const SSE_BODY = '{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
export const SSE_EVENTS = 22 // 20 deltas + usage chunk + [DONE]

function oneStream (url, agent, headers) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    let ttfb = -1
    let reads = 0
    let buf = ''
    let events = 0
    const arrivals = []
    const req = http.request(url, { method: 'POST', agent, headers }, res => {
      res.setEncoding('utf8')
      res.on('data', d => {
        const now = Number(process.hrtime.bigint() - t0) / 1e6
        if (ttfb < 0) ttfb = now
        reads++
        buf += d
        // count complete events seen so far; each arrived at this read's time
        let n = 0
        let i = -1
        while ((i = buf.indexOf('\n\n', i + 1)) !== -1) n++
        for (; events < n; events++) arrivals.push(now)
      })
      res.on('end', () => {
        const total = Number(process.hrtime.bigint() - t0) / 1e6
        const gaps = []
        for (let k = 1; k < arrivals.length; k++) gaps.push(arrivals[k] - arrivals[k - 1])
        resolve({ status: res.statusCode, ttfb, total, reads, events, gaps, done: buf.includes('data: [DONE]') })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(SSE_BODY)
  })
}

const med = a => percentile([...a].sort((x, y) => x - y), 50)

/** One batch of `streams` concurrent streams; used by the check before anything is timed. */
export async function sseBatch (target, streams, agent) {
  return await Promise.all(Array.from({ length: streams }, () => oneStream(target.url, agent, target.headers)))
}

/** targets: [{ name, url, headers }]. Returns one row per round and target. */
export async function measureSse (targets, { rounds = 3, batches = 5, streams = 20, log = console.log } = {}) {
  const agents = new Map(targets.map(t => [t.name, new http.Agent({ keepAlive: true, maxSockets: Infinity })]))
  const rows = []
  try {
    for (const t of targets) await sseBatch(t, streams, agents.get(t.name)) // warm connections and JIT
    for (let round = 1; round <= rounds; round++) {
      for (const t of targets) {
        const rs = []
        for (let b = 0; b < batches; b++) rs.push(...await sseBatch(t, streams, agents.get(t.name)))
        const gaps = rs.flatMap(r => r.gaps).sort((x, y) => x - y)
        const row = {
          round,
          scenario: t.name,
          streams: rs.length,
          concurrency: streams,
          ok: rs.filter(r => r.status === 200 && r.done && r.events === SSE_EVENTS).length,
          ttfbMed: med(rs.map(r => r.ttfb)),
          ttfbP95: percentile(rs.map(r => r.ttfb).sort((x, y) => x - y), 95),
          totalMed: med(rs.map(r => r.total)),
          gapMed: percentile(gaps, 50),
          gapP99: percentile(gaps, 99),
          readsMed: med(rs.map(r => r.reads))
        }
        rows.push(row)
        log(`sse r${round} ${t.name.padEnd(22)} ok ${row.ok}/${row.streams}  ttfb med ${row.ttfbMed.toFixed(2)} p95 ${row.ttfbP95.toFixed(2)}  gap med ${row.gapMed.toFixed(2)} p99 ${row.gapP99.toFixed(2)}  total med ${row.totalMed.toFixed(2)} ms  reads ${row.readsMed}`)
      }
    }
  } finally {
    for (const a of agents.values()) a.destroy()
  }
  return rows
}

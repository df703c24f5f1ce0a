// The benchmark's report arithmetic (bench/report.js): paired per-round ratios, medians, goal
// verdicts, skipped scenarios and the README splice. No timing is asserted anywhere.
import { describe, expect, it } from 'vitest'
// @ts-expect-error bench/ is plain JS ESM without type declarations
import { median, paired, percentile, renderAbSummary, renderMarkdown, renderReadmeTable, spliceReadme, summarise } from '../../bench/report.js'

type Row = { round: number, scenario: string, connections: number, rps: number, p50: number, p99: number, proxyCpuUsPerReq: number, valid: boolean }
const row = (round: number, scenario: string, connections: number, rps: number, p50: number, cpu = 100): Row =>
  ({ round, scenario, connections, rps, p50, p99: p50 * 3, proxyCpuUsPerReq: cpu, valid: true })

function fixture (): Record<string, unknown> {
  return {
    schema: 1,
    startedAt: '2026-11-26T01:00:00.000Z',
    machine: { cpuModel: 'Test CPU', cores: 2, node: 'v20.0.0', commitShort: 'abc1234', srcDirty: false },
    options: { rounds: 2, duration: 5, warmup: 2, conns: [50, 1], sseStreams: 20, sseBatches: 5 },
    scenarios: [
      { name: 'direct', label: 'direct', status: 'ok', reason: null },
      { name: 'fastify-min', label: 'fastify', status: 'ok', reason: null },
      { name: 'agnet-open', label: 'agnet open', status: 'ok', reason: null },
      { name: 'agnet-jwt', label: 'agnet jwt', status: 'skipped', reason: 'POST /v0/oauth/token answered 404' }
    ],
    rows: [
      // round 1: agnet 2× fastify; round 2: 1×; round 3 missing its fastify row → not paired
      row(1, 'direct', 50, 10000, 1), row(1, 'fastify-min', 50, 2000, 5), row(1, 'agnet-open', 50, 4000, 4, 80),
      row(2, 'direct', 50, 20000, 1), row(2, 'fastify-min', 50, 3000, 5), row(2, 'agnet-open', 50, 3000, 4, 120),
      row(3, 'agnet-open', 50, 9999, 4),
      row(1, 'direct', 1, 5000, 0.05), row(1, 'fastify-min', 1, 3000, 0.3), row(1, 'agnet-open', 1, 3500, 0.25),
      row(2, 'direct', 1, 5000, 0.07), row(2, 'fastify-min', 1, 3000, 0.3), row(2, 'agnet-open', 1, 3500, 0.17)
    ],
    sse: [
      { round: 1, scenario: 'direct', streams: 100, ok: 100, ttfbMed: 2, totalMed: 30, gapMed: 1, gapP99: 2 },
      { round: 1, scenario: 'agnet-open', streams: 100, ok: 100, ttfbMed: 3, totalMed: 31, gapMed: 1, gapP99: 2 }
    ],
    scale: null
  }
}

describe('bench report', () => {
  it('takes medians and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
    expect(percentile([1, 2, 3, 4], 50)).toBe(2)
    expect(percentile([1, 2, 3, 4], 99)).toBe(4)
  })

  it('pairs ratios and differences by round and connection count only', () => {
    const rows = (fixture().rows as Row[]).filter(r => r.connections === 50)
    expect(paired(rows, 'agnet-open', 'fastify-min', (r: Row) => r.rps)).toEqual([2, 1])
    const c1 = (fixture().rows as Row[]).filter(r => r.connections === 1)
    const d = paired(c1, 'agnet-open', 'direct', (r: Row) => r.p50, 'diff') as number[]
    expect(d.map(x => Number(x.toFixed(2)))).toEqual([0.2, 0.1])
  })

  it('summarises ratios, added latency and goal verdicts', () => {
    const s = summarise(fixture())
    const agnet = s.throughput.find((t: { scenario: string }) => t.scenario === 'agnet-open')
    expect(agnet.overFastify).toBe(1.5)
    expect(agnet.overDirect).toBeCloseTo((0.4 + 0.15) / 2, 10)
    expect(agnet.cpuUsPerReq).toBe(100)
    // fastify spent 100 µs/req both rounds, agnet 80 then 120: ratios 1.25 and 0.8333…
    expect(agnet.cpuOverFastify).toBeCloseTo((1.25 + 100 / 120) / 2, 10)
    expect(agnet.addedP50c1).toBeCloseTo(0.15, 10)
    expect(s.sse.find((x: { scenario: string }) => x.scenario === 'agnet-open').ttfbOverDirect).toBe(1.5)
    const verdicts = Object.fromEntries(s.goals.map((g: { what: string, met: boolean }) => [g.what.split(' ')[0] + (g.what.includes('p50') ? ' p50' : ''), g.met]))
    expect(verdicts).toEqual({ 'agnet-open': true, 'agnet-open p50': true, SSE: true })
    // ≥ 1.5 is judged on the req/s ratio (1.5: met) and on the CPU ratio (1.04: not met)
    expect(s.goals.filter((g: { target: number }) => g.target === 1.5).map((g: { met: boolean }) => g.met)).toEqual([true, false])
    // agnet-open is the headline only because nothing richer ran: the ≥ 1.5 goal is judged on it
    expect(s.headline).toBe('agnet-open')
  })

  it('renders skipped scenarios as not available, with the reason', () => {
    const md = renderMarkdown(fixture())
    expect(md).toContain('| agnet open | 4,000 | 1.50 | 0.28 | 100 |')
    expect(md).toContain('agnet jwt: not available — POST /v0/oauth/token answered 404')
    expect(renderReadmeTable(fixture(), 'bench/results/x.json')).toContain('Not measured in this run: agnet-jwt')
  })

  it('replaces only the text between the README markers, appending them when missing', () => {
    const before = '# agnet\n\ntext\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nafter\n'
    expect(spliceReadme(before, 'new table')).toBe('# agnet\n\ntext\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\nafter\n')
    expect(spliceReadme('# agnet\n\n', 'T')).toBe('# agnet\n\n<!-- bench:start -->\nT\n<!-- bench:end -->\n')
  })

  it('reports what a feature costs from rows paired by round, with the issue targets', () => {
    const r = fixture()
    const rows = r.rows as Row[]
    // routing: 0.96 and 1.00 of agnet-key in req/s → median 0.98; CPU 100 vs 104 and 100
    rows.push(row(1, 'agnet-key', 50, 5000, 4, 100), row(1, 'agnet-policies', 50, 4800, 4, 104),
      row(2, 'agnet-key', 50, 5000, 4, 100), row(2, 'agnet-policies', 50, 5000, 4, 100),
      // accounting: 0.85 and 0.87 of agnet-policies → not within 10%
      row(1, 'agnet-full-memory', 50, 4080, 4, 120), row(2, 'agnet-full-memory', 50, 4350, 4, 118))
    ;(r.scenarios as Array<Record<string, unknown>>).push(...['agnet-key', 'agnet-policies', 'agnet-full-memory'].map(name => ({ name, label: name, status: 'ok', reason: null })))
    const s = summarise(r)
    const routing = s.costs.find((c: { with: string }) => c.with === 'agnet-policies')
    expect(routing.rps).toBeCloseTo(0.98, 5)
    expect(routing.rpsMin).toBeCloseTo(0.96, 5)
    expect(routing.addedUs).toBeCloseTo(2, 5)
    const accounting = s.costs.find((c: { with: string }) => c.with === 'agnet-full-memory')
    expect(accounting.rps).toBeCloseTo(0.86, 2)
    const goal = (what: string): boolean => s.goals.find((g: { what: string }) => g.what.startsWith(what)).met
    expect(goal('agnet-policies req/s ÷ agnet-key')).toBe(true)
    expect(goal('agnet-full-memory req/s ÷ agnet-policies')).toBe(false)
    expect(s.costs.some((c: { with: string }) => c.with === 'agnet-models-1000')).toBe(false) // not measured, not reported
    expect(renderMarkdown(r)).toContain('### What a feature costs')
  })

  it('renders the A/B result for the README', () => {
    const ab = {
      machine: { commitShort: 'abc1234' },
      options: { mode: 'together', pairs: 12, duration: 3 },
      results: [{ what: 'routing', issue: 4, rps: 0.99, rpsQ1: 0.97, rpsQ3: 1.01, cpu: 0.97, cpuQ1: 0.95, cpuQ3: 0.98, addedUs: 2.6, target: 0.95, met: true }]
    }
    const md = renderAbSummary(ab, 'bench/results/x-ab.json')
    expect(md).toContain('`bench/results/x-ab.json`, commit abc1234, mode together, 12 rounds of 3 s')
    expect(md).toContain('| routing | 0.990 [0.970, 1.010] | 0.970 [0.950, 0.980] | +2.6 | ≥ 0.95 | met |')
  })
})

// `--report FILE.html`: one self-contained page (uPlot and its CSS inlined, the result as
// JSON inside it, nothing fetched when it is opened): per origin the stacked share of
// requests by serving region with errors and 429s on top, latency percentiles, and errors,
// 429s, failovers and ejections over time; phases shaded and labelled, fault starts and ends
// marked; a table per phase with the expectations met or missed; the scenario itself.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ScenarioResult } from './scenario-run.js'

const require = createRequire(import.meta.url)

function asset (path: string): string {
  return readFileSync(require.resolve(path), 'utf8')
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** JSON safe inside a <script> element. */
function scriptJson (v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
const ms = (x: number | null): string => x === null ? '-' : `${Math.round(x * 10) / 10} ms`
const secs = (x: number | null): string => x === null ? 'never' : `${(x / 1000).toFixed(1)} s`

function tables (r: ScenarioResult): string {
  const out: string[] = []
  for (const p of r.phases) {
    out.push(`<h3>Phase <span class="phase-name">${esc(p.name)}</span> <small>${p.start.toFixed(1)} s → ${p.end.toFixed(1)} s${p.faults.length === 0 ? '' : ` · faults: ${esc(p.faults.join(', '))}`}</small></h3>`)
    out.push('<table><thead><tr><th>origin</th><th>requests</th><th>regions (share of successes)</th><th>errors</th><th>429</th><th>p50</th><th>p99</th><th>failovers</th></tr></thead><tbody>')
    for (const [origin, o] of Object.entries(p.origins)) {
      const regions = Object.entries(o.regions).map(([k, v]) => `${esc(k)} ${pct(v)}`).join(', ') || '-'
      out.push(`<tr><td>${esc(origin)}</td><td>${o.requests}</td><td>${regions}</td><td>${pct(o.errors)}</td><td>${pct(o.rateLimited)}</td><td>${ms(o.p50)}</td><td>${ms(o.p99)}</td><td>${o.failovers}</td></tr>`)
    }
    out.push('</tbody></table>')
    const ex = r.expectations.filter(e => e.phase === p.name)
    if (ex.length > 0) {
      out.push('<ul class="expect">')
      for (const e of ex) out.push(`<li class="${e.met ? 'met' : 'missed'}">${e.met ? '✓' : '✗'} ${esc(e.origin)}: ${esc(e.what)} <small>(got ${esc(e.actual)})</small></li>`)
      out.push('</ul>')
    }
  }
  return out.join('\n')
}

function faultTable (r: ScenarioResult): string {
  const rows: string[] = []
  for (const f of r.faults) {
    for (const [origin, s] of Object.entries(f.origins)) {
      if (!s.affected) continue
      const active = f.end >= r.durationMs / 1000 - 0.01
      rows.push(`<tr><td>${esc(f.name)}</td><td>${esc(f.effect)}</td><td>${esc(f.regions.join(', '))}</td><td>${esc(origin)}</td><td>${f.start.toFixed(1)} s → ${f.end.toFixed(1)} s</td><td class="tts">${secs(s.timeToShiftMs)}</td><td>${active ? 'n/a' : secs(s.timeToRecoverMs)}</td></tr>`)
    }
  }
  if (rows.length === 0) return ''
  return `<h2>Faults</h2><table><thead><tr><th>fault</th><th>effect</th><th>regions</th><th>origin</th><th>active</th><th>time to shift</th><th>time to recover</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

const CLIENT = `
(function () {
  var R = JSON.parse(document.getElementById('agnet-data').textContent);
  var PALETTE = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];
  var PHASE_BG = ['rgba(59,130,246,0.07)', 'rgba(234,179,8,0.10)'];
  var origins = R.scenario.origins;
  var phases = R.phases;
  var regions = [];
  phases.forEach(function (p) { origins.forEach(function (o) { Object.keys(p.origins[o].regions).forEach(function (k) { if (regions.indexOf(k) < 0) regions.push(k); }); }); });
  regions.sort();
  var colour = {}; regions.forEach(function (k, i) { colour[k] = PALETTE[i % PALETTE.length]; });

  function seriesOf (o) {
    var pts = [];
    phases.forEach(function (p) { p.origins[o].series.forEach(function (s) { pts.push(s); }); });
    var byT = {}; pts.forEach(function (s) {
      var a = byT[s.t];
      if (!a) { byT[s.t] = JSON.parse(JSON.stringify(s)); return; }
      ['offered', 'answered', 'ok', 'rateLimited', 'errors', 'noAnswer', 'failovers'].forEach(function (k) { a[k] += s[k]; });
      Object.keys(s.regions).forEach(function (k) { a.regions[k] = (a.regions[k] || 0) + s.regions[k]; });
      a.p50 = a.p50 == null ? s.p50 : a.p50; a.p95 = a.p95 == null ? s.p95 : a.p95; a.p99 = Math.max(a.p99 || 0, s.p99 || 0);
    });
    return Object.keys(byT).map(Number).sort(function (x, y) { return x - y; }).map(function (t) { return byT[t]; });
  }

  function shade (u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    phases.forEach(function (p, i) {
      var x0 = u.valToPos(p.start, 'x', true), x1 = u.valToPos(p.end, 'x', true);
      ctx.fillStyle = PHASE_BG[i % 2]; ctx.fillRect(x0, top, x1 - x0, h);
    });
    ctx.restore();
  }

  function decorate (u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
    ctx.textAlign = 'left'; ctx.textBaseline = 'alphabetic';
    phases.forEach(function (p, i) {
      var x0 = u.valToPos(p.start, 'x', true), x1 = u.valToPos(p.end, 'x', true);
      ctx.strokeStyle = 'rgba(55,65,81,0.35)'; ctx.lineWidth = devicePixelRatio;
      ctx.beginPath(); ctx.moveTo(x0, top); ctx.lineTo(x0, top + h); ctx.stroke();
      ctx.fillStyle = 'rgba(255,255,255,0.8)'; ctx.fillRect(x0 + 2 * devicePixelRatio, top + 2 * devicePixelRatio, ctx.measureText(p.name).width + 6 * devicePixelRatio, 14 * devicePixelRatio);
      ctx.fillStyle = '#111827';
      ctx.fillText(p.name, x0 + 5 * devicePixelRatio, top + 13 * devicePixelRatio);
    });
    R.faults.forEach(function (f) {
      [[f.start, 'start'], [f.end, 'end']].forEach(function (m) {
        var x = u.valToPos(m[0], 'x', true);
        ctx.strokeStyle = m[1] === 'start' ? '#dc2626' : '#16a34a'; ctx.setLineDash([5, 4]); ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
        ctx.setLineDash([]); ctx.fillStyle = ctx.strokeStyle;
        ctx.fillText(f.name + ' ' + m[1], x + 3 * devicePixelRatio, top + h - 6 * devicePixelRatio);
      });
    });
    ctx.restore();
  }

  function chart (el, title, xs, series, opts) {
    var width = Math.min(1100, el.clientWidth || 900);
    var o = {
      title: title, width: width, height: 220,
      legend: { live: false },
      scales: { x: { time: false, range: [0, R.durationMs / 1000] }, y: opts.y || {} },
      axes: [{ label: 'seconds' }, { label: opts.label || '' }],
      series: [{}].concat(series.map(function (s) { return { label: s.label, stroke: s.stroke, fill: s.fill, width: 1.5, points: { show: false } }; })),
      hooks: { drawClear: [shade], draw: [decorate] }
    };
    return new uPlot(o, [xs].concat(series.map(function (s) { return s.data; })), el);
  }

  var root = document.getElementById('charts');
  origins.forEach(function (o) {
    var pts = seriesOf(o);
    var xs = pts.map(function (s) { return s.t + 0.5; });
    var box = document.createElement('section'); box.className = 'origin';
    box.innerHTML = '<h2>Origin ' + o + '</h2>';
    root.appendChild(box);
    // Stacked: successes by region, then 429s, then errors; cumulative, drawn top layer first.
    var layers = regions.map(function (k) { return { label: k, colour: colour[k], v: pts.map(function (s) { return s.offered ? (s.regions[k] || 0) / s.offered : 0; }) }; });
    layers.push({ label: '429', colour: '#f59e0b', v: pts.map(function (s) { return s.offered ? s.rateLimited / s.offered : 0; }) });
    layers.push({ label: 'errors', colour: '#dc2626', v: pts.map(function (s) { return s.offered ? (s.errors) / s.offered : 0; }) });
    var acc = pts.map(function () { return 0; });
    var cum = layers.map(function (l) { acc = acc.map(function (a, i) { return a + l.v[i]; }); return { label: l.label, colour: l.colour, data: acc.slice() }; });
    var stack = cum.reverse().map(function (c) { return { label: c.label, stroke: c.colour, fill: c.colour + 'cc', data: c.data }; });
    var d1 = document.createElement('div'); box.appendChild(d1);
    chart(d1, o + ': share of requests by serving region', xs, stack, { y: { range: [0, 1.001] }, label: 'share' });
    var d2 = document.createElement('div'); box.appendChild(d2);
    chart(d2, o + ': latency percentiles', xs, [
      { label: 'p50', stroke: '#2563eb', data: pts.map(function (s) { return s.p50; }) },
      { label: 'p95', stroke: '#9333ea', data: pts.map(function (s) { return s.p95; }) },
      { label: 'p99', stroke: '#dc2626', data: pts.map(function (s) { return s.p99; }) }
    ], { label: 'ms' });
    var d3 = document.createElement('div'); box.appendChild(d3);
    chart(d3, o + ': errors, 429s, failovers, ejected deployments', xs, [
      { label: 'errors', stroke: '#dc2626', data: pts.map(function (s) { return s.errors; }) },
      { label: '429', stroke: '#f59e0b', data: pts.map(function (s) { return s.rateLimited; }) },
      { label: 'no answer', stroke: '#111827', data: pts.map(function (s) { return s.noAnswer; }) },
      { label: 'failovers', stroke: '#0891b2', data: pts.map(function (s) { return s.failovers; }) },
      { label: 'ejected', stroke: '#6b7280', data: pts.map(function (s) { return s.ejected; }) }
    ], { label: 'per second' });
  });
  document.body.setAttribute('data-drawn', 'true');
})();
`

export function renderReport (r: ScenarioResult): string {
  const css = asset('uplot/dist/uPlot.min.css')
  const js = asset('uplot/dist/uPlot.iife.min.js')
  const total = r.durationMs / 1000
  const strip = r.phases.map(p => `<div class="phase-label" style="flex:${Math.max(0.001, p.end - p.start)}" title="${p.start.toFixed(1)} s → ${p.end.toFixed(1)} s">${esc(p.name)}${p.faults.length === 0 ? '' : `<br><small>${esc(p.faults.join(', '))}</small>`}</div>`).join('')
  const verdict = r.verdict.passed ? '<p class="verdict pass">PASS: every expectation met</p>' : `<p class="verdict fail">FAIL: ${esc(r.verdict.reasons.join('; '))}</p>`
  const warnings = r.generator.warnings.map(w => `<li>${esc(w)}</li>`).join('')
  const gen = Object.entries(r.generator.origins).map(([o, g]) => `${esc(o)}: offered ${g.asked === null ? 'closed loop' : `${g.asked}/s`}, achieved ${g.achieved}/s`).join(' · ')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agnet scenario: ${esc(r.scenario.file)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${css}</style>
<style>
body { font: 14px/1.45 system-ui, -apple-system, sans-serif; margin: 24px auto; max-width: 1140px; color: #111827; padding: 0 12px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; } h3 { font-size: 14px; margin: 18px 0 6px; }
.meta { color: #4b5563; } .strip { display: flex; border: 1px solid #d1d5db; border-radius: 6px; overflow: hidden; margin: 12px 0; }
.phase-label { padding: 6px 8px; font-weight: 600; font-size: 12px; border-right: 1px solid #d1d5db; background: #eff6ff; }
.phase-label:nth-child(even) { background: #fefce8; } .phase-label:last-child { border-right: 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e7eb; }
.expect { list-style: none; padding: 0; margin: 6px 0; } .met { color: #15803d; } .missed { color: #b91c1c; font-weight: 600; }
.verdict { font-weight: 700; padding: 8px 12px; border-radius: 6px; } .pass { background: #dcfce7; color: #166534; } .fail { background: #fee2e2; color: #991b1b; }
pre { background: #f3f4f6; padding: 12px; border-radius: 6px; overflow: auto; font-size: 12px; } .origin { margin-top: 8px; }
</style></head>
<body>
<h1>agnet scenario: ${esc(r.scenario.workspace)}/${esc(r.scenario.model)}</h1>
<p class="meta">${esc(r.scenario.method)} ${esc(r.url)}/${esc(r.scenario.workspace)}/models/${esc(r.scenario.model)}${esc(r.scenario.path)} · origins ${esc(r.scenario.origins.join(', '))} · ${total.toFixed(1)} s · started ${esc(r.startedAt)} · seed ${r.scenario.seed}</p>
${verdict}
<div class="strip">${strip}</div>
<p class="meta">Generator: ${gen}</p>${warnings === '' ? '' : `<ul class="missed">${warnings}</ul>`}
<div id="charts"></div>
${faultTable(r)}
<h2>Phases</h2>
${tables(r)}
<h2>Scenario</h2>
<pre>${esc(r.scenario.text)}</pre>
<script id="agnet-data" type="application/json">${scriptJson(r)}</script>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script>${CLIENT}</script>
</body></html>
`
}

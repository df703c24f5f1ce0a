#!/usr/bin/env node
// mk3 translation costs, two ways that a shared machine cannot blur much:
//   1. CPU of the translation functions alone (dist/translate), per request: a 1 KB OpenAI chat
//      request parsed and translated for Anthropic, and the provider's 1 KB answer translated
//      back, against the passthrough that does neither; and per stream event.
//   2. Time to first byte of a stream through agnet, translated (an Anthropic mk3 model) and
//      passed through (an OpenAI model), both served by one mock process of their own (never
//      inside agnet's event loop), requests alternating one by one so both see the same
//      machine; and the same two streams asked of the mock directly, so what agnet adds to
//      each is known apart from what the mock takes to start each provider's stream.
// The end-to-end CPU per request is `node bench/ab.js --only mk3pass-1k,mk3-1k` (translation
// alone) or `--only pass-1k,mk3-1k` (against a plain model), after a build.
// usage: node bench/mk3.js [--iterations 50000] [--streams 300]
import path from 'node:path'
import fs from 'node:fs'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { parseArgs } from './lib/args.js'
import { describeMachine } from './lib/machine.js'
import { startNode, stopAll } from './lib/children.js'
import { KB_REQUEST_BODY } from './scenarios.js'
import { median } from './report.js'
import { translateChatBody } from '../dist/translate/plane.js'
import { ANTHROPIC } from '../dist/translate/registry.js'
import { SseTranslatingReader } from '../dist/translate/sse.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const args = parseArgs(process.argv.slice(2))
const ITER = Number(args.iterations ?? 50_000)
const STREAMS = Number(args.streams ?? 300)
const KEY = 'agnet_bench_mk3_0123456789abcdef0123'

function cpuUs (fn, n) {
  const t0 = process.cpuUsage()
  for (let i = 0; i < n; i++) fn(i)
  const d = process.cpuUsage(t0)
  return (d.user + d.system) / n
}

function micro () {
  const raw = Buffer.from(KB_REQUEST_BODY)
  const plan = { translator: ANTHROPIC, runtimeModel: 'claude-3-5-haiku-latest' }
  const text = 'agnet routes tokens across regions while latency stays low. '.repeat(14).trim()
  const native = Buffer.from(JSON.stringify({ id: 'msg_kb', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-latest', content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 230, output_tokens: 210 } }))
  const whole = () => {
    const up = translateChatBody(raw, plan, '/v1/chat/completions')
    const answer = JSON.stringify(ANTHROPIC.response(JSON.parse(native.toString('utf8')), 1700000000, 'claude-3-5-haiku-latest'))
    return up.body.length + answer.length
  }
  const events = ['event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":230,"output_tokens":1}}}\n\n']
  for (let i = 0; i < 100; i++) events.push(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" word${i}"}}\n\n`)
  events.push('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":100}}\n\n', 'event: message_stop\ndata: {"type":"message_stop"}\n\n')
  const chunks = events.map(e => Buffer.from(e))
  const stream = () => {
    const r = new SseTranslatingReader(ANTHROPIC.stream({ rest: '', body: Buffer.alloc(0), stream: true, includeUsage: true }, 1700000000, 'm'))
    let n = 0
    for (const c of chunks) n += r.push(c).length
    return n + r.end().length
  }
  cpuUs(whole, ITER / 5) // warm
  cpuUs(stream, ITER / 50)
  const rounds = []
  for (let k = 0; k < 5; k++) rounds.push({ whole: cpuUs(whole, ITER), perEvent: cpuUs(stream, ITER / 20) / chunks.length })
  return { requestBytes: raw.length, answerBytes: native.length, wholeUs: median(rounds.map(r => r.whole)), perEventUs: median(rounds.map(r => r.perEvent)), rounds }
}

function firstByte (port, model, direct = null) {
  return new Promise((resolve, reject) => {
    const body = direct === 'anthropic'
      ? JSON.stringify({ model: 'claude-3-5-haiku-latest', stream: true, max_tokens: 4096, messages: [{ role: 'user', content: 'hello' }] })
      : JSON.stringify({ model: direct === 'openai' ? 'gpt-4o-mini' : model, stream: true, messages: [{ role: 'user', content: 'hello' }] })
    const reqPath = direct === 'anthropic' ? '/v1/messages' : direct === 'openai' ? '/v1/chat/completions' : `/demo/models/${model}/v1/chat/completions`
    const t0 = process.hrtime.bigint()
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: reqPath, headers: { authorization: `Bearer ${KEY}`, 'x-api-key': 'x', 'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
      if (res.statusCode !== 200) reject(new Error(`${model}: ${res.statusCode}`))
      res.once('data', () => { resolve(Number(process.hrtime.bigint() - t0) / 1e6) })
      res.resume()
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function ttfb (dir) {
  const mock = startNode('mock', [path.join(REPO, 'dist/cli/main.js'), 'mock', '--regions', 'us-pdx-1', '--port', '0'], { dir })
  const mockUrl = (await mock.waitFor(/mock us-pdx-1 on (http\S+)/, { timeoutMs: 60_000, pollMs: 2 }))[1]
  const mockPort = Number(new URL(mockUrl).port)
  const config = {
    version: 1,
    server: { accessLog: false },
    users: [{ name: 'b', apiKeys: [{ name: 'k', value: KEY }] }],
    workspaces: [{
      name: 'demo',
      members: [{ user: 'b', role: 'member' }],
      integrations: [{ name: 'oai', provider: 'openai', baseUrl: mockUrl, apiKey: 'x' }, { name: 'ant', provider: 'anthropic', baseUrl: mockUrl, apiKey: 'x' }],
      models: [
        { name: 'pass', runtime: { type: 'openai', model: 'gpt-4o-mini' }, integrationConnections: ['oai'], deployments: [{ region: 'us-pdx-1' }] },
        { name: 'mk3', runtime: { type: 'anthropic', model: 'claude-3-5-haiku-latest', generation: 'mk3' }, integrationConnections: ['ant'], deployments: [{ region: 'us-pdx-1' }] }
      ]
    }]
  }
  const file = path.join(dir, 'mk3.yaml')
  fs.writeFileSync(file, YAML.stringify(config))
  const child = startNode('agnet-mk3', [path.join(REPO, 'dist/cli/main.js'), 'serve', '--config', file, '--port', '0', '--host', '127.0.0.1'], { dir })
  const m = await child.waitFor(/"msg":"agnet listening"/, { timeoutMs: 120_000, pollMs: 2 })
  const port = JSON.parse(m.input).port
  const kinds = [
    () => firstByte(port, 'pass'),
    () => firstByte(port, 'mk3'),
    () => firstByte(mockPort, null, 'openai'),
    () => firstByte(mockPort, null, 'anthropic')
  ]
  for (let i = 0; i < 50; i++) for (const k of kinds) await k()
  const times = kinds.map(() => [])
  for (let i = 0; i < STREAMS; i++) {
    // rotate the order each round so none is always first after a pause
    for (let j = 0; j < kinds.length; j++) {
      const k = (i + j) % kinds.length
      times[k].push(await kinds[k]())
    }
  }
  await stopAll()
  const [passMs, mk3Ms, directOpenAiMs, directAnthropicMs] = times.map(median)
  return { passMs, mk3Ms, ratio: mk3Ms / passMs, directOpenAiMs, directAnthropicMs, passAddedMs: passMs - directOpenAiMs, mk3AddedMs: mk3Ms - directAnthropicMs, n: STREAMS }
}

const dir = path.join(HERE, 'results', 'tmp', `mk3-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z')}`)
fs.mkdirSync(dir, { recursive: true })
const machine = describeMachine(REPO)
const m = micro()
console.log(`mk3 bench: ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, commit ${machine.commitShort}`)
console.log(`translation functions: ${m.requestBytes} B request + ${m.answerBytes} B answer, translated both ways: ${m.wholeUs.toFixed(2)} µs CPU per request (median of 5 × ${ITER}); stream: ${m.perEventUs.toFixed(2)} µs CPU per event`)
const t = await ttfb(dir)
console.log(`stream time to first byte through agnet, median of ${t.n} each, alternating: passthrough ${t.passMs.toFixed(3)} ms, translated ${t.mk3Ms.toFixed(3)} ms, ratio ${t.ratio.toFixed(3)} (target ≤ 1.10)`)
console.log(`the same streams asked of the mock directly: OpenAI ${t.directOpenAiMs.toFixed(3)} ms, Anthropic ${t.directAnthropicMs.toFixed(3)} ms; agnet adds ${(t.passAddedMs * 1000).toFixed(0)} µs to the passthrough stream's first byte and ${(t.mk3AddedMs * 1000).toFixed(0)} µs to the translated one's`)
fs.writeFileSync(path.join(dir, 'mk3.json'), JSON.stringify({ machine, micro: m, ttfb: t }, null, 2))

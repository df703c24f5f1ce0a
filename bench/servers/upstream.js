// Minimal model backend for the throughput scenarios (same shape as the perf baseline's
// upstream.js): a 249-byte OpenAI-style chat completion with usage, or an SSE stream of 20
// `data:` chunks 1 ms apart then `data: [DONE]` on paths ending in /sse. Keep-alive on.
// GET /__stats answers {"requests": n}: requests seen so far, to prove a proxy really forwards.
// Prints `upstream on http://127.0.0.1:<port>` once listening (port 0 = any).
import http from 'node:http'

const BODY = Buffer.from(JSON.stringify({
  id: 'chatcmpl-9x8y7z',
  object: 'chat.completion',
  created: 1700000000,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 }
}))
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': BODY.length }

// Under /kb: answers of about 1 KB in each provider's own form, for the mk3 translation A/B
// (the same text, so the OpenAI passthrough and the translated Anthropic answer carry alike).
const KB_TEXT = 'agnet routes tokens across regions while latency stays low. '.repeat(14).trim()
const KB_OPENAI = Buffer.from(JSON.stringify({
  id: 'chatcmpl-kb', object: 'chat.completion', created: 1700000000, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: KB_TEXT, refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 230, completion_tokens: 210, total_tokens: 440 }
}))
const KB_ANTHROPIC = Buffer.from(JSON.stringify({
  id: 'msg_kb', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-latest',
  content: [{ type: 'text', text: KB_TEXT }], stop_reason: 'end_turn', stop_sequence: null,
  usage: { input_tokens: 230, output_tokens: 210 }
}))
const KB = new Map([['/kb/v1/chat/completions', KB_OPENAI], ['/kb/v1/messages', KB_ANTHROPIC]])
const SSE_CHUNKS = 20
const SSE_INTERVAL_MS = Number(process.env.SSE_INTERVAL_MS ?? 1)
const LAST_CHUNK = 'data: {"id":"chatcmpl-9x8y7z","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29}}\n\n'

function sse (res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  let i = 0
  const tick = () => {
    if (res.destroyed) return
    if (i < SSE_CHUNKS) {
      res.write(`data: {"id":"chatcmpl-9x8y7z","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok${i}"}}]}\n\n`)
      i++
      setTimeout(tick, SSE_INTERVAL_MS)
    } else {
      res.end(LAST_CHUNK + 'data: [DONE]\n\n')
    }
  }
  tick()
}

let requests = 0
function handler (req, res) {
  if (req.url === '/__stats') {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json' })
    return res.end(JSON.stringify({ requests }))
  }
  requests++
  req.resume() // drain the request body, answer once it is fully read
  req.on('end', () => {
    const q = req.url.indexOf('?')
    const path = q < 0 ? req.url : req.url.slice(0, q)
    if (path.endsWith('/sse')) return sse(res)
    const kb = KB.get(path)
    if (kb !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': kb.length })
      return res.end(kb)
    }
    res.writeHead(200, JSON_HEADERS)
    res.end(BODY)
  })
}

const server = http.createServer({ noDelay: true, keepAlive: true }, handler)
// longer than any proxy's idle-upstream timeout, so the proxy closes idle sockets first
server.keepAliveTimeout = 120_000
server.headersTimeout = 121_000
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`upstream on http://127.0.0.1:${server.address().port}\n`)
})
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(0))

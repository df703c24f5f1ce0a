// A user program built on @blaxel/core, run as its own process by sdk-blaxel.test.ts: the SDK
// reads BL_API_URL, BL_RUN_URL, BL_WORKSPACE, BL_API_KEY / BL_CLIENT_CREDENTIALS when it is
// imported, so each configuration needs a fresh process. It prints one JSON report on stdout.
//   AGNET_SDK_MODE=env    the environment variables only
//   AGNET_SDK_MODE=proxy  initialize({ proxy, workspace, apiKey }) → /api and /run
//   AGNET_SDK_ADVANCE_MS  after the first round, move the SDK's clock forward (token refresh)
import { settings, initialize, authenticate, getModelMetadata, listModels, getWorkspace } from '@blaxel/core'

const MODEL = process.env.AGNET_SDK_MODEL ?? 'gpt-4o-mini'
const report = { tokenRequests: 0, tokens: [], rounds: [] }

// Count the SDK's calls to the token issuer (it calls globalThis.fetch at request time).
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  const res = await realFetch(input, init)
  if (url.endsWith('/oauth/token')) {
    report.tokenRequests++
    const body = await res.clone().json().catch(() => null)
    if (body !== null && typeof body.access_token === 'string') report.tokens.push({ status: res.status, expires_in: body.expires_in, token_type: body.token_type, hasRefresh: typeof body.refresh_token === 'string' })
    else report.tokens.push({ status: res.status })
  }
  return res
}

if (process.env.AGNET_SDK_MODE === 'proxy') {
  const credentials = process.env.AGNET_CLIENT_ID !== undefined
    ? { clientCredentials: { clientId: process.env.AGNET_CLIENT_ID, clientSecret: process.env.AGNET_CLIENT_SECRET } }
    : { apiKey: process.env.AGNET_KEY }
  initialize({ proxy: process.env.AGNET_URL, workspace: process.env.AGNET_WORKSPACE, ...credentials })
}

async function readSse (res) {
  const decoder = new TextDecoder()
  let buf = ''
  let events = 0
  let text = ''
  let usage = null
  let done = false
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk, { stream: true })
    let i
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i)
      buf = buf.slice(i + 2)
      const data = ev.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n')
      if (data === '') continue
      if (data === '[DONE]') { done = true; continue }
      events++
      const j = JSON.parse(data)
      text += j.choices?.[0]?.delta?.content ?? ''
      if (j.usage) usage = j.usage
    }
  }
  return { events, text, usage, done }
}

async function round () {
  const out = {}
  // 1. Model metadata, as every blModel() integration starts.
  const meta = await getModelMetadata(MODEL)
  out.meta = meta === null ? null : { name: meta.metadata?.name, url: meta.metadata?.url, type: meta.spec?.runtime?.type, model: meta.spec?.runtime?.model, status: meta.status }
  // 2. Other control-plane calls of the SDK (the listing answers {data, meta} with its Blaxel-Version).
  const list = await listModels()
  // The SDK sends Blaxel-Version: 2026-04-28, so the listing comes as {data, meta}.
  out.listShape = Array.isArray(list.data) ? 'array' : typeof list.data?.meta === 'object' ? 'page' : 'other'
  out.list = Array.isArray(list.data) ? list.data.map(m => m.metadata.name) : list.data?.data?.map(m => m.metadata.name) ?? null
  const ws = await getWorkspace({ path: { workspaceName: settings.workspace } })
  out.workspace = ws.data?.name ?? null
  // 3. Inference through the URL and the headers the SDK builds.
  await authenticate()
  const base = `${settings.runUrl}/${settings.workspace}/models/${MODEL}`
  out.base = base
  const headers = { ...settings.headers, 'content-type': 'application/json' }
  out.headerNames = Object.keys(settings.headers).map(h => h.toLowerCase()).sort()
  const plain = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: out.meta?.model, messages: [{ role: 'user', content: 'hello from blaxel core' }] }) })
  const pj = await plain.json()
  out.chat = { status: plain.status, region: plain.headers.get('x-agnet-region'), content: pj.choices?.[0]?.message?.content ?? null, usage: pj.usage ?? null, error: pj.error ?? null }
  const streamed = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: out.meta?.model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }] }) })
  out.stream = { status: streamed.status, contentType: streamed.headers.get('content-type'), ...(await readSse(streamed)) }
  return out
}

try {
  report.rounds.push(await round())
  report.tokenRequestsFirstRound = report.tokenRequests
  const advance = Number(process.env.AGNET_SDK_ADVANCE_MS ?? '0')
  if (advance > 0) {
    // The SDK refreshes a client-credentials token once less than half its lifetime is left;
    // it reads the clock with new Date(). Move that clock instead of waiting.
    const RealDate = Date
    globalThis.Date = class extends RealDate {
      constructor (...args) { if (args.length === 0) super(RealDate.now() + advance); else super(...args) }
      static now () { return RealDate.now() + advance }
    }
    report.rounds.push(await round())
  }
} catch (err) {
  report.error = String(err?.stack ?? err)
}
process.stdout.write(JSON.stringify(report) + '\n')

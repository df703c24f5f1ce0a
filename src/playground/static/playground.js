// agnet playground: plain browser JavaScript, no build step, no third-party code. It sends one
// request to the run plane with fetch, reads the answer with a ReadableStream reader (event
// streams are parsed as they arrive) and shows what the gateway decided: status, region,
// deployment, Server-Timing and token usage. The credential lives in sessionStorage only:
// it is gone when the tab closes and never reaches localStorage or the URL.
const $ = (id) => document.getElementById(id)
const SAVED = ['workspace', 'model', 'path', 'origin']
const CREDENTIAL_KEY = 'agnet.playground.credential'
const providerModels = new Map()
let controller = null

// ---- request shapes per provider API ------------------------------------------------------

function apiOf (path) {
  if (path.startsWith('/v1/messages')) return 'anthropic'
  if (path.startsWith('/v1/responses')) return 'responses'
  if (/:(stream)?generateContent/i.test(path)) return 'gemini'
  if (path.startsWith('/v2/chat')) return 'cohere'
  return 'openai'
}

function readMessages () {
  return [...document.querySelectorAll('#messages li')].map(li => ({
    role: li.querySelector('select').value,
    content: li.querySelector('textarea').value
  })).filter(m => m.content.trim() !== '')
}

function buildBody () {
  const path = $('path').value.trim()
  const stream = $('stream').checked
  const model = providerModels.get($('model').value.trim()) ?? $('model').value.trim()
  const messages = readMessages()
  switch (apiOf(path)) {
    case 'anthropic': {
      const system = messages.filter(m => m.role === 'system').map(m => m.content).join('\n')
      const body = { model, max_tokens: 512, messages: messages.filter(m => m.role !== 'system'), stream }
      if (system !== '') body.system = system
      return body
    }
    case 'responses':
      return { model, input: messages, stream }
    case 'gemini':
      return { contents: messages.filter(m => m.role !== 'system').map(m => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })) }
    case 'cohere':
      return { model, messages, stream }
    default:
      return stream ? { model, messages, stream, stream_options: { include_usage: true } } : { model, messages, stream }
  }
}

// ---- reading answers: text and token usage from any provider's JSON or events -------------

function textOf (o) {
  if (o === null || typeof o !== 'object') return ''
  if (Array.isArray(o.choices)) return o.choices.map(c => c.delta?.content ?? c.message?.content ?? c.text ?? '').join('')
  if (o.type === 'content_block_delta') return o.delta?.text ?? ''
  if (o.type === 'response.output_text.delta') return o.delta ?? ''
  if (o.type === 'content-delta') return o.delta?.message?.content?.text ?? ''
  if (Array.isArray(o.candidates)) return o.candidates.map(c => (c.content?.parts ?? []).map(p => p.text ?? '').join('')).join('')
  if (o.object === 'response' && Array.isArray(o.output)) return o.output.flatMap(i => i.content ?? []).map(c => c.text ?? '').join('')
  if (o.type === 'message' && Array.isArray(o.content)) return o.content.map(c => c.text ?? '').join('')
  if (o.message && Array.isArray(o.message.content)) return o.message.content.map(c => c.text ?? '').join('')
  return ''
}

/** Merges what this event or body says about usage into `u` ({input, output, total}). */
function mergeUsage (u, o) {
  if (o === null || typeof o !== 'object') return
  const set = (k, v) => { if (typeof v === 'number') u[k] = v }
  const plain = o.usage ?? o.message?.usage ?? o.response?.usage ?? o.delta?.usage
  if (plain) {
    set('input', plain.prompt_tokens ?? plain.input_tokens ?? plain.tokens?.input_tokens)
    set('output', plain.completion_tokens ?? plain.output_tokens ?? plain.tokens?.output_tokens)
    set('total', plain.total_tokens)
  }
  if (o.usageMetadata) {
    set('input', o.usageMetadata.promptTokenCount)
    set('output', o.usageMetadata.candidatesTokenCount)
    set('total', o.usageMetadata.totalTokenCount)
  }
}

function showUsage (u) {
  if (u.input === undefined && u.output === undefined) return
  const total = u.total ?? (u.input ?? 0) + (u.output ?? 0)
  $('usage').textContent = `input ${u.input ?? '?'} · output ${u.output ?? '?'} · total ${total}`
}

/** Splits an event stream into events as bytes arrive (WHATWG SSE framing). */
function * sseEvents (buffer) {
  let at
  while ((at = buffer.text.search(/\r?\n\r?\n/)) >= 0) {
    const block = buffer.text.slice(0, at)
    buffer.text = buffer.text.slice(at + (buffer.text[at] === '\r' ? 4 : 2))
    let event = 'message'
    const data = []
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    if (data.length > 0) yield { event, data: data.join('\n') }
  }
}

// ---- showing what the gateway decided ------------------------------------------------------

function parseServerTiming (header) {
  if (!header) return []
  return header.split(',').map(part => {
    const [name, ...params] = part.trim().split(';')
    const dur = params.map(p => p.trim()).find(p => p.startsWith('dur='))
    return { name: name.trim(), ms: dur ? Number(dur.slice(4)) : NaN }
  }).filter(t => t.name !== '')
}

function showTiming (rows) {
  const body = $('timing').querySelector('tbody')
  body.replaceChildren()
  const max = Math.max(1, ...rows.map(r => (Number.isFinite(r.ms) ? r.ms : 0)))
  for (const r of rows) {
    const tr = document.createElement('tr')
    tr.dataset.stage = r.name
    const bar = document.createElement('span')
    bar.className = 'bar'
    bar.style.width = `${Math.max(1, (r.ms / max) * 160)}px`
    for (const cell of [r.name, Number.isFinite(r.ms) ? r.ms.toFixed(2) : '–', bar]) {
      const td = document.createElement('td')
      if (typeof cell === 'string') td.textContent = cell
      else td.append(cell)
      tr.append(td)
    }
    body.append(tr)
  }
}

function showError (code, message) {
  $('error').hidden = false
  $('error-code').textContent = code
  $('error-message').textContent = message
}

/** Blaxel edge errors, provider errors (OpenAI, Anthropic, Gemini, Cohere) and control-plane errors. */
function errorOf (status, json) {
  const e = json?.error
  if (e && typeof e === 'object') return { code: String(e.code ?? e.type ?? e.status ?? status), message: String(e.message ?? '') }
  if (typeof json?.message === 'string') return { code: String(json.code ?? status), message: json.message }
  return { code: `HTTP_${status}`, message: '' }
}

function reset () {
  for (const id of ['status', 'region', 'deployment', 'served-origin', 'attempts', 'ratelimit', 'request-id', 'usage']) $(id).textContent = '–'
  $('answer').textContent = ''
  $('raw-response').textContent = ''
  $('error').hidden = true
  showTiming([])
}

// ---- sending -------------------------------------------------------------------------------

function targetUrl () {
  const ws = $('workspace').value.trim()
  const model = $('model').value.trim()
  let path = $('path').value.trim()
  if (path !== '' && !path.startsWith('/')) path = `/${path}`
  return `/${encodeURIComponent(ws)}/models/${encodeURIComponent(model)}${path}`
}

function requestHeaders () {
  const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const credential = $('credential').value.trim()
  if (credential !== '') h['x-blaxel-authorization'] = `Bearer ${credential}`
  const origin = $('origin').value.trim()
  if (origin !== '') h['x-agnet-origin'] = origin
  return h
}

async function send (event) {
  event.preventDefault()
  reset()
  let body
  if (document.querySelector('input[name=mode]:checked').value === 'json') {
    try { body = JSON.stringify(JSON.parse($('raw').value)) } catch (err) { showError('INVALID_JSON', err.message); return }
  } else {
    body = JSON.stringify(buildBody())
  }
  sessionStorage.setItem(CREDENTIAL_KEY, $('credential').value)
  for (const k of SAVED) localStorage.setItem(`agnet.playground.${k}`, $(k).value)
  controller = new AbortController()
  $('send').disabled = true
  $('stop').disabled = false
  $('result').dataset.state = 'sending'
  const started = performance.now()
  let firstByte = NaN
  const usage = {}
  try {
    const res = await fetch(targetUrl(), { method: 'POST', headers: requestHeaders(), body, signal: controller.signal })
    firstByte = performance.now() - started
    $('status').textContent = `${res.status} ${res.statusText}`.trim()
    $('region').textContent = res.headers.get('x-agnet-region') ?? '–'
    $('deployment').textContent = res.headers.get('x-agnet-deployment') ?? '–'
    $('request-id').textContent = res.headers.get('x-request-id') ?? '–'
    // Where the gateway placed the caller, how many deployments it tried, what is left of a token budget.
    $('served-origin').textContent = res.headers.get('x-agnet-origin') ?? '–'
    $('attempts').textContent = res.headers.get('x-agnet-attempts') ?? '–'
    $('ratelimit').textContent = res.headers.get('ratelimit') ?? '–'
    const timing = parseServerTiming(res.headers.get('server-timing'))
    showTiming(timing)
    const isSse = (res.headers.get('content-type') ?? '').includes('text/event-stream')
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    const buffer = { text: '' }
    let raw = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      const chunk = decoder.decode(value, { stream: true })
      raw += chunk
      $('raw-response').textContent = raw
      if (!isSse) continue
      buffer.text += chunk
      for (const ev of sseEvents(buffer)) {
        if (ev.data === '[DONE]') continue
        let o
        try { o = JSON.parse(ev.data) } catch { continue }
        $('answer').textContent += textOf(o)
        mergeUsage(usage, o)
        if (ev.event === 'error' || o.type === 'error') { const e = errorOf(res.status, o); showError(e.code, e.message) }
      }
      showUsage(usage)
    }
    raw += decoder.decode()
    if (!isSse) {
      let json = null
      try { json = JSON.parse(raw) } catch { /* not JSON: shown raw */ }
      if (res.ok) {
        const items = Array.isArray(json) ? json : [json]
        $('answer').textContent = items.map(textOf).join('') || raw
        for (const item of items) mergeUsage(usage, item)
        showUsage(usage)
      } else {
        const e = errorOf(res.status, json)
        showError(res.headers.get('x-blaxel-error-code') ?? e.code, e.message)
      }
    }
    showTiming([...timing, { name: 'first byte (browser)', ms: firstByte }, { name: 'total (browser)', ms: performance.now() - started }])
    $('result').dataset.state = res.ok ? 'done' : 'failed'
  } catch (err) {
    if (err.name === 'AbortError') showError('ABORTED', 'Stopped by you; the gateway cancels the upstream request.')
    else if (Number.isNaN(firstByte)) showError('NETWORK_ERROR', `The gateway could not be reached: ${err.message}`)
    else showError('STREAM_BROKEN', `The answer ended with an error, not a clean finish: ${err.message}`)
    $('result').dataset.state = 'failed'
  } finally {
    $('send').disabled = false
    $('stop').disabled = true
    controller = null
  }
}

// ---- optional control plane (/v0): names to pick from; free text works without it ----------

async function controlPlane (path) {
  const headers = { 'blaxel-version': '2026-04-28' }
  const credential = $('credential').value.trim()
  if (credential !== '') headers['x-blaxel-authorization'] = `Bearer ${credential}`
  const ws = $('workspace').value.trim()
  if (ws !== '') headers['x-blaxel-workspace'] = ws
  try {
    const res = await fetch(`/v0${path}`, { headers })
    if (!res.ok) return []
    const json = await res.json()
    return Array.isArray(json) ? json : Array.isArray(json?.data) ? json.data : []
  } catch { return [] }
}

function fill (listId, values) {
  if (values.length === 0) return
  $(listId).replaceChildren(...values.map(v => { const o = document.createElement('option'); o.value = v; return o }))
}

async function discover () {
  const [workspaces, models, locations] = await Promise.all([controlPlane('/workspaces'), controlPlane('/models'), controlPlane('/locations')])
  fill('workspaces', workspaces.map(w => w?.name ?? w?.metadata?.name).filter(Boolean))
  providerModels.clear()
  for (const m of models) {
    const name = m?.metadata?.name
    if (name && m?.spec?.runtime?.model) providerModels.set(name, m.spec.runtime.model)
  }
  fill('models', models.map(m => m?.metadata?.name).filter(Boolean))
  fill('origins', locations.map(l => l?.region ?? l?.name).filter(Boolean))
}

// ---- the form ------------------------------------------------------------------------------

function addMessage (role = 'user', content = '') {
  const li = document.createElement('li')
  const select = document.createElement('select')
  select.setAttribute('aria-label', 'Role')
  for (const r of ['system', 'user', 'assistant']) { const o = document.createElement('option'); o.value = r; o.textContent = r; select.append(o) }
  select.value = role
  const text = document.createElement('textarea')
  text.rows = 3
  text.value = content
  text.setAttribute('aria-label', 'Message')
  const remove = document.createElement('button')
  remove.type = 'button'
  remove.className = 'remove'
  remove.textContent = 'Remove'
  remove.addEventListener('click', () => { li.remove() })
  li.append(select, remove, text)
  $('messages').append(li)
}

function onMode () {
  const json = document.querySelector('input[name=mode]:checked').value === 'json'
  // Switching to raw JSON starts from what the chat editor would send.
  if (json && $('raw').value.trim() === '') $('raw').value = JSON.stringify(buildBody(), null, 2)
  $('json-editor').hidden = !json
  $('chat-editor').hidden = json
}

function init () {
  for (const k of SAVED) {
    const v = localStorage.getItem(`agnet.playground.${k}`)
    if (v !== null && v !== '') $(k).value = v
  }
  const params = new URLSearchParams(location.search)
  for (const k of SAVED) if (params.has(k)) $(k).value = params.get(k)
  $('credential').value = sessionStorage.getItem(CREDENTIAL_KEY) ?? ''
  addMessage('user', 'Hello! Which region are you answering from?')
  $('add-message').addEventListener('click', () => { addMessage() })
  for (const r of document.querySelectorAll('input[name=mode]')) r.addEventListener('change', onMode)
  $('request').addEventListener('submit', send)
  $('stop').addEventListener('click', () => { controller?.abort() })
  $('workspace').addEventListener('change', () => { void discover() })
  $('credential').addEventListener('change', () => { sessionStorage.setItem(CREDENTIAL_KEY, $('credential').value); void discover() })
  document.body.dataset.ready = 'true'
  void discover()
}

init()

// Runs the README's @blaxel/llamaindex example, as written, in its own process (the SDK reads
// BL_API_URL, BL_RUN_URL, BL_WORKSPACE and BL_API_KEY when it is imported). The example comes
// in AGNET_EXAMPLE; only its model name may be swapped (AGNET_MK3_MODEL) and its import made
// absolute, since it is loaded from a data: URL. What the example prints stays on stdout; what
// the SDK sent and got back is written as JSON to AGNET_REPORT.
import { writeFileSync } from 'node:fs'

const report = { calls: [], error: null }
const pending = []
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  const method = init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')
  const res = await realFetch(input, init)
  const call = { method, url, body: typeof init?.body === 'string' ? JSON.parse(init.body) : null, status: res.status, contentType: res.headers.get('content-type'), region: res.headers.get('x-agnet-region'), text: null }
  report.calls.push(call)
  // A copy of the answer, read as far as the SDK reads it (a stream to its end).
  if (url.includes('/chat/completions')) pending.push(res.clone().text().then(t => { call.text = t }))
  return res
}

const model = process.env.AGNET_MK3_MODEL ?? 'claude-haiku-mk3'
const code = (process.env.AGNET_EXAMPLE ?? '')
  .replaceAll("'@blaxel/llamaindex'", JSON.stringify(import.meta.resolve('@blaxel/llamaindex')))
  .replaceAll("'claude-haiku-mk3'", JSON.stringify(model))
try {
  await import(`data:text/javascript,${encodeURIComponent(code)}`)
  await Promise.all(pending)
} catch (err) {
  report.error = String(err?.stack ?? err)
}
writeFileSync(process.env.AGNET_REPORT, JSON.stringify(report))

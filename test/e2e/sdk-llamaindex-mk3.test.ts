// A real Blaxel integration on agnet's mk3 models: the README's @blaxel/llamaindex example,
// run as written (sdk-llamaindex-client.mjs) against the embedded demo, with only the BL_*
// variables pointing the SDK at agnet. blModel reads the Model resource on BL_API_URL, sees
// generation mk3 and calls {metadata.url}/v1/chat/completions with the OpenAI client; agnet
// translates for the Anthropic and Gemini mock providers and back. The answer's id is the
// provider's own (msg_…, gemini-…), which no OpenAI answer carries: proof it went through
// the translation, not around it.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serve, type Served } from '../../src/server.js'
import { createLogger } from '../../src/observability/logger.js'
import { generateWords } from '../../src/mock/text.js'

const CLIENT = fileURLToPath(new URL('./sdk-llamaindex-client.mjs', import.meta.url))
const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
const KEY = 'agnet_demo_key_for_llamaindex_0123456'
const ANSWER = generateWords(16).join(' ')
const REGIONS = ['us-pdx-1', 'us-was-1', 'eu-lon-1', 'eu-fra-1']

/** The README's ```ts block that imports @blaxel/llamaindex. */
function example (): string {
  const blocks = [...README.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(m => m[1] ?? '')
  const found = blocks.filter(b => b.includes("from '@blaxel/llamaindex'"))
  expect(found).toHaveLength(1)
  return found[0] ?? ''
}

interface Call { method: string; url: string; body: Record<string, unknown> | null; status: number; contentType: string | null; region: string | null; text: string | null }
interface Report { calls: Call[]; error: string | null }

let served: Served
let base: string
const lines: string[] = []

async function runExample (model: string): Promise<{ stdout: string; report: Report }> {
  // An empty home and working directory: no ~/.blaxel, .env or blaxel.toml can leak in.
  const home = mkdtempSync(join(tmpdir(), 'agnet-llamaindex-'))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BL_') && !k.startsWith('BLAXEL_')) env[k] = v
  Object.assign(env, {
    HOME: home,
    DO_NOT_TRACK: '1',
    BL_API_URL: `${base}/v0`,
    BL_RUN_URL: base,
    BL_WORKSPACE: 'demo',
    BL_API_KEY: KEY,
    AGNET_EXAMPLE: example(),
    AGNET_MK3_MODEL: model,
    AGNET_REPORT: join(home, 'report.json')
  })
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [CLIENT], { cwd: home, env, timeout: 60_000 }, (err, out, errOut) => {
      if (err !== null) reject(new Error(`${err.message}\n${errOut}`))
      else resolve(out)
    })
  })
  const report: unknown = JSON.parse(readFileSync(join(home, 'report.json'), 'utf8'))
  return { stdout, report: report as Report }
}

beforeAll(async () => {
  const destination = new Writable({ write (chunk: Buffer, _e, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb() } })
  served = await serve({ port: 0, host: '127.0.0.1', env: { AGNET_DEMO_KEY: KEY, AGNET_DEMO_CLIENT_ID: 'demo-client', AGNET_DEMO_CLIENT_SECRET: 'demo-secret-0123456789' }, banner: false, watch: false, handleSignals: false, logger: createLogger({ level: 'info', destination }) })
  base = `http://127.0.0.1:${served.port}`
})
afterAll(async () => { await served.close() })

describe.each([
  ['claude-haiku-mk3', 'claude-3-5-haiku-latest', (region: string) => `msg_${region}_`],
  ['gemini-flash-mk3', 'gemini-2.0-flash', (region: string) => `gemini-${region}-`]
])('@blaxel/llamaindex blModel(%s) through agnet', (model, providerModel, providerId) => {
  it('answers plain and streamed, translated from the provider\'s own API', async () => {
    const { stdout, report } = await runExample(model)
    expect(report.error).toBeNull()
    // What the example printed: the mock's answer, whole, then streamed.
    expect(stdout).toBe(`${ANSWER}\n${ANSWER}`)

    // The SDK read the model's metadata, then called {metadata.url}/v1/chat/completions with the Blaxel model name.
    expect(report.calls[0]).toMatchObject({ method: 'GET', url: `${base}/v0/models/${model}`, status: 200 })
    const chats = report.calls.filter(c => c.url.endsWith('/chat/completions'))
    expect(chats.map(c => c.url)).toEqual([`${base}/demo/models/${model}/v1/chat/completions`, `${base}/demo/models/${model}/v1/chat/completions`])
    const [plain, streamed] = chats as [Call, Call]
    expect(plain.body).toMatchObject({ model, messages: [{ role: 'user', content: 'Hello' }] })
    expect(plain.body?.stream).toBeFalsy()
    expect(streamed.body).toMatchObject({ model, stream: true })

    // agnet answered both in OpenAI form, from the provider's native answer.
    // The demo model runs in every region: each answer names the one that served it.
    expect(plain.status).toBe(200)
    expect(REGIONS).toContain(plain.region)
    expect(plain.contentType).toBe('application/json')
    const answer: unknown = JSON.parse(plain.text ?? '')
    expect(answer).toMatchObject({ object: 'chat.completion', model: providerModel, choices: [{ message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }] })
    expect(answer).toHaveProperty('id', expect.stringMatching(`^${providerId(plain.region ?? '')}`))
    expect(streamed.status).toBe(200)
    expect(REGIONS).toContain(streamed.region)
    expect(streamed.contentType).toContain('text/event-stream')
    const events = (streamed.text ?? '').split('\n\n').filter(e => e.startsWith('data: ')).map(e => e.slice(6))
    expect(events.at(-1)).toBe('[DONE]')
    const chunks: unknown[] = events.slice(0, -1).map(e => JSON.parse(e))
    expect(chunks.length).toBeGreaterThan(2)
    for (const c of chunks) expect(c).toMatchObject({ object: 'chat.completion.chunk', model: providerModel, id: expect.stringMatching(`^${providerId(streamed.region ?? '')}`) })

    // The access log names the model and where it ran, for both calls.
    const served = lines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.msg === 'request' && l.model === model && l.method === 'POST')
    expect(served).toHaveLength(2)
    expect(served.map(l => [l.workspace, l.status, l.outcome, l.region])).toEqual([['demo', 200, 'ok', plain.region], ['demo', 200, 'ok', streamed.region]])
  }, 90_000)
})

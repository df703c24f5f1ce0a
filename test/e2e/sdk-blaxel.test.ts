// @blaxel/core, unmodified, pointed at agnet the way a user does it: BL_API_URL, BL_RUN_URL,
// BL_WORKSPACE and BL_API_KEY (or BL_CLIENT_CREDENTIALS, or initialize({ proxy })). The SDK
// reads its environment at import time, so each configuration runs in its own node process
// (sdk-blaxel-client.mjs) that fetches the model metadata, lists, and then sends a completion
// and a stream to the URL and with the headers the SDK builds.
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { CLIENT_ID, CLIENT_SECRET, SDK_CONFIG, USER_KEY } from './sdk-config.js'

const CLIENT = fileURLToPath(new URL('./sdk-blaxel-client.mjs', import.meta.url))

interface Round {
  meta: { name: string; url: string; type: string; model: string; status: string } | null
  list: string[] | null
  listShape: string
  workspace: string | null
  base: string
  headerNames: string[]
  chat: { status: number; region: string | null; content: string | null; usage: { prompt_tokens: number } | null }
  stream: { status: number; contentType: string | null; events: number; text: string; usage: { prompt_tokens: number; completion_tokens: number } | null; done: boolean }
}
interface Report { tokenRequests: number; tokenRequestsFirstRound: number; tokens: Array<{ status: number; expires_in?: number; token_type?: string; hasRefresh?: boolean }>; rounds: Round[]; error?: string }

async function runClient (env: Record<string, string>): Promise<Report> {
  // An empty home and working directory: no ~/.blaxel/config.yaml, .env or blaxel.toml of the
  // machine can leak into the SDK's configuration.
  const home = mkdtempSync(join(tmpdir(), 'agnet-blaxel-home-'))
  const clean: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BL_') && !k.startsWith('BLAXEL_')) clean[k] = v
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [CLIENT], { cwd: home, env: { ...clean, HOME: home, DO_NOT_TRACK: '1', ...env }, timeout: 60_000 }, (err, out, errOut) => {
      if (err !== null) reject(new Error(`${err.message}\n${errOut}`))
      else resolve(out)
    })
  })
  const report = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Report
  if (report.error !== undefined) throw new Error(report.error)
  return report
}

function expectInference (r: Round, base: string): void {
  expect(r.base).toBe(base)
  expect(r.chat.status).toBe(200)
  expect(r.chat.region).toBe('eu-fra-1')
  expect(r.chat.content?.length).toBeGreaterThan(0)
  expect(r.chat.usage?.prompt_tokens).toBe(4)
  expect(r.stream.status).toBe(200)
  expect(r.stream.contentType).toContain('text/event-stream')
  expect(r.stream.events).toBeGreaterThan(2)
  expect(r.stream.done).toBe(true)
  expect(r.stream.text.length).toBeGreaterThan(0)
  expect(r.stream.usage?.prompt_tokens).toBe(2)
}

describe('@blaxel/core through agnet', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(`${SDK_CONFIG}\nauth:\n  issuer:\n    tokenTtl: 2h\n`) })
  afterAll(async () => { await gw.close() })

  it('works with BL_API_URL, BL_RUN_URL, BL_WORKSPACE and BL_API_KEY', async () => {
    const report = await runClient({ BL_API_URL: `${gw.url}/v0`, BL_RUN_URL: gw.url, BL_WORKSPACE: 'demo', BL_API_KEY: USER_KEY })
    const r = report.rounds[0] as Round
    expect(r.meta).toEqual({ name: 'gpt-4o-mini', url: `${gw.url}/demo/models/gpt-4o-mini`, type: 'openai', model: 'gpt-4o-mini', status: 'DEPLOYED' })
    expect(r.listShape).toBe('page')
    expect(r.list?.sort()).toEqual(['claude-haiku', 'gpt-4o-mini', 'my-model'])
    expect(r.workspace).toBe('demo')
    expect(r.headerNames).toEqual(['blaxel-version', 'user-agent', 'x-blaxel-authorization', 'x-blaxel-workspace'])
    expectInference(r, `${gw.url}/demo/models/gpt-4o-mini`)
    expect(report.tokenRequests).toBe(0)
  })

  it('works with initialize({ proxy }) through the /api and /run aliases', async () => {
    const report = await runClient({ AGNET_SDK_MODE: 'proxy', AGNET_URL: gw.url, AGNET_WORKSPACE: 'demo', AGNET_KEY: USER_KEY })
    const r = report.rounds[0] as Round
    expect(r.meta?.name).toBe('gpt-4o-mini')
    expect(r.workspace).toBe('demo')
    expectInference(r, `${gw.url}/run/demo/models/gpt-4o-mini`)
  })

  it('works with initialize({ proxy, clientCredentials }): the token comes from /api/oauth/token', async () => {
    const report = await runClient({ AGNET_SDK_MODE: 'proxy', AGNET_URL: gw.url, AGNET_WORKSPACE: 'demo', AGNET_CLIENT_ID: CLIENT_ID, AGNET_CLIENT_SECRET: CLIENT_SECRET })
    expect(report.tokenRequests).toBe(1)
    expect(report.tokens[0]?.status).toBe(200)
    const r = report.rounds[0] as Round
    expect(r.meta?.name).toBe('gpt-4o-mini')
    expectInference(r, `${gw.url}/run/demo/models/gpt-4o-mini`)
  })

  it('works with BL_CLIENT_CREDENTIALS: a token from agnet\'s issuer, refreshed before it expires', async () => {
    const report = await runClient({
      BL_API_URL: `${gw.url}/v0`,
      BL_RUN_URL: gw.url,
      BL_WORKSPACE: 'demo',
      BL_CLIENT_CREDENTIALS: Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64'),
      // 61 minutes into a 2-hour token: less than half its life left, so the SDK must refresh.
      AGNET_SDK_ADVANCE_MS: String(61 * 60 * 1000)
    })
    expect(report.tokens[0]).toEqual({ status: 200, expires_in: 7200, token_type: 'Bearer', hasRefresh: true })
    expect(report.rounds).toHaveLength(2)
    const [first, second] = report.rounds as [Round, Round]
    expect(first.meta?.url).toBe(`${gw.url}/demo/models/gpt-4o-mini`)
    expectInference(first, `${gw.url}/demo/models/gpt-4o-mini`)
    // One token serves the whole first round; once the clock moved, the SDK asks for a new one.
    expect(report.tokenRequestsFirstRound).toBe(1)
    expect(report.tokenRequests).toBeGreaterThan(1)
    expect(report.tokens.every(t => t.status === 200)).toBe(true)
    expectInference(second, `${gw.url}/demo/models/gpt-4o-mini`)
  })

  it('gets no metadata and no completion with a wrong key', async () => {
    const report = await runClient({ BL_API_URL: `${gw.url}/v0`, BL_RUN_URL: gw.url, BL_WORKSPACE: 'demo', BL_API_KEY: 'agnet_wrong_key_00000000000000000' })
    // The SDK turns the 401 on GET /models/{name} into null metadata; the run plane refuses the key too.
    const r = (report as Report).rounds[0] as Round
    expect(r.meta).toBeNull()
    expect(r.chat.status).toBe(401)
    expect(r.stream.status).toBe(401)
  })
})

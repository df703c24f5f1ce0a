// Facts the README states, recomputed from the running code so they cannot drift: after how
// many requests the demo's capped model refuses (from the embedded default config and its mock
// providers, on a clock held at the start of a minute), and what the Anthropic SDK sends.
import type http from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream } from '../helpers/net.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const README = readFileSync(join(REPO, 'README.md'), 'utf8')
const DEFAULT_CONFIG = readFileSync(join(REPO, 'config', 'default.yaml'), 'utf8')
const KEY = 'agnet_readme_facts_key_0123456789'
const ENV = { ...process.env, AGNET_DEMO_KEY: KEY, AGNET_DEMO_CLIENT_ID: 'facts-client', AGNET_DEMO_CLIENT_SECRET: 'facts-secret-0123456789' }

/** README prose with line breaks and repeated spaces folded, for sentence matching. */
const PROSE = README.replace(/\s+/g, ' ')

function ordinal (n: number): string {
  const rest = n % 100
  if (rest >= 11 && rest <= 13) return `${n}th`
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`
}

let gw: TestGateway
// Held 1 s into a minute for the whole test: one window, whatever the wall clock does.
const minuteStart = Math.floor(Date.now() / 60_000) * 60_000 + 1000

beforeAll(async () => {
  gw = await startGateway(DEFAULT_CONFIG, { env: ENV, usageClock: () => minuteStart })
})
afterAll(async () => { await gw.close() })

describe('README facts', () => {
  it('the capped demo model: tokens a request, requests that pass and the first refused', async () => {
    const block = /```sh\n(for i in \$\(seq 1 (\d+)\)[\s\S]*?gpt-4o-mini-capped[\s\S]*?)```/.exec(README)
    expect(block, 'the README has the capped model\'s loop').not.toBeNull()
    const body = /-d '([^']+)'/.exec(block?.[1] ?? '')?.[1] ?? ''
    const loopCount = Number(block?.[2])
    const limit = Number(/name: demo-token-cap[\s\S]*?total: (\d+)/.exec(DEFAULT_CONFIG)?.[1])
    const claim = /allows (\d+) tokens a minute\. With the body below each request uses (\d+) tokens, so the first (\d+) requests of a minute pass \(the (\d+(?:st|nd|rd|th)) crosses the limit and completes\) and the (\d+(?:st|nd|rd|th)) is the first one refused/.exec(PROSE)
    expect(claim, 'the README states the numbers in the expected sentence').not.toBeNull()

    let perRequest = -1
    let firstRefused = -1
    for (let i = 1; i <= 500 && firstRefused < 0; i++) {
      const res = await fetch(`${gw.url}/demo/models/gpt-4o-mini-capped/v1/chat/completions`, {
        method: 'POST', headers: { 'x-blaxel-authorization': `Bearer ${KEY}`, 'content-type': 'application/json' }, body
      })
      const answer = await res.json() as { usage?: { total_tokens: number } }
      if (res.status === 429) { firstRefused = i; break }
      expect(res.status).toBe(200)
      const used = answer.usage?.total_tokens ?? -1
      if (perRequest < 0) perRequest = used
      // The sentence assumes every answer costs the same.
      expect(used).toBe(perRequest)
    }
    expect(firstRefused).toBeGreaterThan(1)
    expect({
      limit: Number(claim?.[1]),
      perRequest: Number(claim?.[2]),
      passing: Number(claim?.[3]),
      crossing: claim?.[4],
      refused: claim?.[5]
    }).toEqual({
      limit,
      perRequest,
      passing: firstRefused - 1,
      crossing: ordinal(firstRefused - 1),
      refused: ordinal(firstRefused)
    })
    // The loop the README prints runs long enough to show the refusal.
    expect(loopCount).toBeGreaterThan(firstRefused)
  })

  it('what the Anthropic SDK sends, and that the README\'s way of sending the key works', async () => {
    expect(PROSE).toContain('**Anthropic SDK**: version 1 (the one tested here) sends its `apiKey` as `Authorization: Bearer <apiKey>`, plus `anthropic-version`, and no `x-api-key`, so `apiKey: process.env.AGNET_DEMO_KEY` alone works. Older versions send `x-api-key`, a provider header that is never a Blaxel credential (alone it gets 401 `AUTHENTICATION_REQUIRED`).')
    const version = (JSON.parse(readFileSync(join(REPO, 'node_modules', '@anthropic-ai', 'sdk', 'package.json'), 'utf8')) as { version: string }).version
    expect(version).toMatch(/^1\./)
    const seen: http.IncomingHttpHeaders[] = []
    const capture = await startUpstream((req, res) => {
      seen.push(req.headers)
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }))
      })
    })
    const message = { model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user' as const, content: 'Hello' }] }
    try {
      // The README's constructor, pointed at a server that only records what arrives.
      await new Anthropic({ apiKey: 'replaced', baseURL: `${capture.url}/demo/models/claude-haiku`, maxRetries: 0, defaultHeaders: { 'X-Blaxel-Authorization': `Bearer ${KEY}` } }).messages.create(message)
    } finally { capture.close() }
    expect(seen).toHaveLength(1)
    expect(seen[0]?.authorization).toBe('Bearer replaced')
    expect(seen[0]?.['x-api-key']).toBeUndefined()
    expect(seen[0]?.['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(seen[0]?.['x-blaxel-authorization']).toBe(`Bearer ${KEY}`)

    // Through the demo: the key as apiKey alone works; x-api-key alone (older SDKs) is no
    // credential; the README's header works.
    const alone = new Anthropic({ apiKey: KEY, baseURL: `${gw.url}/demo/models/claude-haiku`, maxRetries: 0 })
    expect((await alone.messages.create(message)).type).toBe('message')
    const older = await fetch(`${gw.url}/demo/models/claude-haiku/v1/messages`, { method: 'POST', headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: JSON.stringify(message) })
    expect(older.status).toBe(401)
    expect(((await older.json()) as { error: { code: string } }).error.code).toBe('AUTHENTICATION_REQUIRED')
    const readme = new Anthropic({ apiKey: 'replaced', baseURL: `${gw.url}/demo/models/claude-haiku`, maxRetries: 0, defaultHeaders: { 'X-Blaxel-Authorization': `Bearer ${KEY}` } })
    const answer = await readme.messages.create(message)
    expect(answer.type).toBe('message')
  })
})

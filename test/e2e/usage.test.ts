// Token-usage policies end to end with the in-memory store: real gateway, real mock providers.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import type { RequestRecord } from '../../src/core/request-record.js'
import type { CurrentWindows, TokenUsage } from '../../src/core/usage.js'
import type { AdmissionRequest, CheckResult, Settlement } from '../../src/usage/store.js'

/** The one-minute window starting at `start` (the models read here have one limit). */
function windowAt (start: number): CurrentWindows {
  return { starts: [start], ends: [start + 60_000], at () { return this }, secondsToReset: () => 1 }
}
/** A check that reads the counts: reserves nothing, learns nothing. */
const read = (now: number): AdmissionRequest =>
  ({ admittedAt: now, bytes: 0, hint: -1, reserve: { input: 0, output: 0, total: 0 }, learn: false, learned: false })

const MODELS = (provider: string, integration: string): string => `
      - name: ${provider}
        runtime: { type: ${provider} }
        integrationConnections: [${integration}]
        deployments: [{ region: eu-fra-1 }]
        policies: [big]`

const CONFIG = `
workspaces:
  - name: demo
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
      - { name: ant, provider: anthropic, baseUrl: "mock://", apiKey: "ant-upstream" }
      - { name: gem, provider: gemini, baseUrl: "mock://", apiKey: "gem-upstream" }
      - { name: coh, provider: cohere, baseUrl: "mock://", apiKey: "coh-upstream" }
    policies:
      - { name: big, type: maxToken, maxTokens: { granularity: day, total: 100000000 } }
      - { name: cap, type: maxToken, maxTokens: { granularity: minute, total: 50 } }
      - { name: out-cap, type: maxToken, maxTokens: { granularity: hour, step: 2, output: 40 } }
      - { name: watch, type: maxToken, dryRun: true, maxTokens: { granularity: minute, total: 20 } }
      - { name: burst, type: maxToken, maxTokens: { granularity: minute, total: 2000 } }
      - { name: burst-cold, type: maxToken, maxTokens: { granularity: minute, total: 2000 } }
      - { name: burst-unsaid, type: maxToken, maxTokens: { granularity: minute, total: 2000 } }
      - { name: held-cap, type: maxToken, maxTokens: { granularity: minute, total: 2000 } }
    models:${MODELS('openai', 'oai')}${MODELS('anthropic', 'ant')}${MODELS('gemini', 'gem')}${MODELS('cohere', 'coh')}
      - name: capped
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [cap, out-cap]
      - name: watched
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [watch]
      - name: burst
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [burst]
      - name: cold
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [burst-cold]
      - name: unsaid
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [burst-unsaid]
      - name: held
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
        policies: [held-cap]
      - name: free
        runtime: { type: openai }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
`

interface Finished { usage: TokenUsage | null; status: number; outcome: string }

describe('token usage (memory store)', () => {
  let gw: TestGateway
  let clock = Date.parse('2026-11-25T10:00:00Z')
  const finished = new Map<string, Finished>()
  const waiters = new Map<string, (f: Finished) => void>()
  let seq = 0

  beforeAll(async () => {
    gw = await startGateway(CONFIG, {
      usageClock: () => clock,
      observe: (ctx: RequestRecord, outcome: string) => {
        const f = { usage: ctx.usage === null ? null : { ...ctx.usage }, status: ctx.status, outcome }
        finished.set(ctx.id, f)
        waiters.get(ctx.id)?.(f)
      }
    })
  })
  afterAll(async () => { await gw.close() })

  /** Resolves when the gateway has settled request `id` (after the client saw its end). */
  async function settled (id: string): Promise<Finished> {
    const f = finished.get(id)
    if (f !== undefined) return f
    return await new Promise(resolve => { waiters.set(id, resolve) })
  }

  async function call (model: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ res: Response; text: string; id: string; done: Finished }> {
    const id = `usage-${++seq}`
    const res = await fetch(`${gw.url}/demo/models/${model}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers },
      body: JSON.stringify(body)
    })
    const text = await res.text()
    return { res, text, id, done: await settled(id) }
  }

  const exact = (input: number, output: number): TokenUsage => ({ input, output, total: input + output, estimated: false })

  describe('exact accounting per provider format', () => {
    const chat = { messages: [{ role: 'user', content: 'one two three' }], max_tokens: 5 }
    it('OpenAI chat completions, JSON and stream (final usage chunk)', async () => {
      expect((await call('openai', '/v1/chat/completions', chat)).done.usage).toEqual(exact(3, 5))
      const s = await call('openai', '/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } })
      expect(s.text).toContain('data: [DONE]')
      expect(s.done.usage).toEqual(exact(3, 5))
    })
    it('OpenAI Responses, JSON and stream (response.completed)', async () => {
      const body = { input: 'a b c d', max_output_tokens: 6 }
      expect((await call('openai', '/v1/responses', body)).done.usage).toEqual(exact(4, 6))
      expect((await call('openai', '/v1/responses', { ...body, stream: true })).done.usage).toEqual(exact(4, 6))
    })
    it('OpenAI embeddings', async () => {
      expect((await call('openai', '/v1/embeddings', { input: ['a b', 'c d e'], dimensions: 4 })).done.usage).toEqual(exact(5, 0))
    })
    it('Anthropic messages, JSON and stream (message_start + message_delta)', async () => {
      const body = { system: 'be brief', messages: [{ role: 'user', content: 'a b c d' }], max_tokens: 7 }
      expect((await call('anthropic', '/v1/messages', body)).done.usage).toEqual(exact(6, 7))
      expect((await call('anthropic', '/v1/messages', { ...body, stream: true })).done.usage).toEqual(exact(6, 7))
    })
    it('Gemini generateContent, SSE stream and JSON-array stream (usageMetadata)', async () => {
      const body = { contents: [{ parts: [{ text: 'a b' }] }], generationConfig: { maxOutputTokens: 3 } }
      expect((await call('gemini', '/v1beta/models/gemini-2.0-flash:generateContent', body)).done.usage).toEqual(exact(2, 3))
      expect((await call('gemini', '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse', body)).done.usage).toEqual(exact(2, 3))
      expect((await call('gemini', '/v1beta/models/gemini-2.0-flash:streamGenerateContent', body)).done.usage).toEqual(exact(2, 3))
    })
    it('Cohere v2 chat, JSON and stream (usage.tokens)', async () => {
      const body = { messages: [{ role: 'user', content: 'a b c' }], max_tokens: 4 }
      expect((await call('cohere', '/v2/chat', body)).done.usage).toEqual(exact(3, 4))
      expect((await call('cohere', '/v2/chat', { ...body, stream: true })).done.usage).toEqual(exact(3, 4))
    })
    it('a stream without usage is estimated and marked so in the access log', async () => {
      const r = await call('openai', '/v1/chat/completions', { ...chat, stream: true }, { 'x-mock-stream-usage': 'omit' })
      // "the quick agent routes tokens" style words: 5 deltas, estimated as ceil(chars / 4).
      const text = [...r.text.matchAll(/"content":"([^"]*)"/g)].map(m => m[1]).join('')
      expect(r.done.usage).toEqual({ input: Math.ceil(Number(r.res.headers.get('x-test-bytes') ?? JSON.stringify({ ...chat, stream: true }).length) / 4), output: Math.ceil(text.length / 4), total: expect.any(Number), estimated: true })
      const line = gw.logs.map(l => JSON.parse(l) as { reqId?: string; tokens?: TokenUsage }).find(l => l.reqId === r.id)
      expect(line?.tokens?.estimated).toBe(true)
    })
    it('an aborted stream counts what was delivered', async () => {
      const id = `usage-abort-${++seq}`
      const ac = new AbortController()
      const res = await fetch(`${gw.url}/demo/models/anthropic/v1/messages`, {
        method: 'POST',
        signal: ac.signal,
        headers: { 'content-type': 'application/json', 'x-request-id': id, 'x-mock-tps': '20', 'x-mock-answer-words': '400' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'a b c' }], max_tokens: 400, stream: true })
      })
      const reader = (res.body as ReadableStream<Uint8Array>).getReader()
      let seen = ''
      while (!seen.includes('content_block_delta')) seen += new TextDecoder().decode((await reader.read()).value)
      ac.abort()
      const done = await settled(id)
      expect(done.outcome).toBe('client-abort')
      expect(done.usage?.input).toBe(3) // message_start had it
      expect(done.usage?.output).toBeGreaterThan(0)
      expect(done.usage?.output).toBeLessThan(400) // not what was asked, what was delivered
      expect(done.usage?.estimated).toBe(true)
    })
  })

  describe("Blaxel's semantics", () => {
    it('admits until the window is exhausted, the crossing request completes, then 429 until the reset', async () => {
      clock = Date.parse('2026-11-25T11:00:10Z')
      const body = { messages: [{ role: 'user', content: 'one two three' }], max_tokens: 17 } // 20 tokens each
      // The mock answers 16 words unless told otherwise: 17 here, so max_tokens 17 is reached.
      const words = { 'x-mock-answer-words': '17' }
      const a = await call('capped', '/v1/chat/completions', body, words)
      expect(a.res.status).toBe(200)
      expect(a.res.headers.get('ratelimit-policy')).toBe('"cap:total";q=50;w=60;qu="tokens", "out-cap:output";q=40;w=7200;qu="tokens"')
      expect(a.res.headers.get('ratelimit')).toBe('"cap:total";r=50;t=50, "out-cap:output";r=40;t=3590')
      const b = await call('capped', '/v1/chat/completions', body, words)
      expect(b.res.headers.get('ratelimit')).toBe('"cap:total";r=30;t=50, "out-cap:output";r=23;t=3590')
      // 40 used of 50: admitted, and it crosses (60): it still completes.
      const c = await call('capped', '/v1/chat/completions', { ...body, stream: true, stream_options: { include_usage: true } }, words)
      expect(c.res.status).toBe(200)
      expect(c.res.headers.get('ratelimit')).toBe('"cap:total";r=10;t=50, "out-cap:output";r=6;t=3590')
      expect(c.done.usage?.total).toBe(20)
      // Both cap (60 ≥ 50, resets in 50 s) and out-cap (51 ≥ 40, 3590 s) are exhausted.
      const d = await call('capped', '/v1/chat/completions', body, words)
      expect(d.res.status).toBe(429)
      expect(d.res.headers.get('retry-after')).toBe('3590')
      expect(d.res.headers.get('x-should-retry')).toBe('false')
      expect(d.res.headers.get('x-blaxel-error-code')).toBe('POLICY_VIOLATION')
      expect(d.res.headers.get('ratelimit')).toBe('"cap:total";r=0;t=50, "out-cap:output";r=0;t=3590')
      const err = JSON.parse(d.text) as { error: { code: string; status: number; retryable: boolean; message: string } }
      expect(err.error).toMatchObject({ code: 'POLICY_VIOLATION', status: 429, retryable: false })
      expect(err.error.message).toContain('out-cap')
      expect(d.done.usage).toBeNull() // a refused request adds nothing
      expect(gw.app.services.usage.stats.refusedByPolicy.get('demo/capped/out-cap')).toBe(1)
    })

    it('a new window (injected clock) admits again; limits with a longer window still hold', async () => {
      clock = Date.parse('2026-11-25T11:01:00Z')
      // cap (per minute) is fresh but out-cap (2 hours, output 40) is still exhausted.
      const r = await call('capped', '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 1 })
      expect(r.res.status).toBe(429)
      expect(r.res.headers.get('ratelimit')).toBe('"cap:total";r=50;t=60, "out-cap:output";r=0;t=3540')
      clock = Date.parse('2026-11-25T12:00:00Z') // 2-hour windows: 12:00 starts one
      const ok = await call('capped', '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 1 })
      expect(ok.res.status).toBe(200)
      expect(ok.res.headers.get('ratelimit')).toBe('"cap:total";r=50;t=60, "out-cap:output";r=40;t=7200')
    })

    it('models without a maxToken policy carry no RateLimit headers and are not metered', async () => {
      const r = await call('free', '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] })
      expect(r.res.status).toBe(200)
      expect(r.res.headers.get('ratelimit-policy')).toBeNull()
      expect(r.done.usage).toBeNull()
    })

    it('a dry-run policy reports in headers, logs and stats but never refuses', async () => {
      clock = Date.parse('2026-11-25T13:00:00Z')
      const body = { messages: [{ role: 'user', content: 'one two three' }], max_tokens: 17 }
      const words = { 'x-mock-answer-words': '17' }
      for (let i = 0; i < 1; i++) expect((await call('watched', '/v1/chat/completions', body, words)).res.status).toBe(200)
      const r = await call('watched', '/v1/chat/completions', body, words)
      expect(r.res.status).toBe(200)
      expect(r.res.headers.get('x-agnet-dry-run')).toBe('would refuse: watch')
      expect(r.res.headers.get('ratelimit')).toBe('"watch:total";r=0;t=60')
      expect(gw.logs.some(l => l.includes('maxToken dry run') && l.includes(r.id))).toBe(true)
      expect(gw.app.services.usage.stats.dryRunByPolicy.get('demo/watched/watch')).toBe(1)
      const metrics = await (await fetch(`${gw.url}/metrics`)).text()
      expect(metrics).toContain('agnet_usage_dry_run_violations_total{workspace="demo",model="watched",policy="watch"} 1')
      expect(metrics).toContain('agnet_usage_refusals_total{workspace="demo",model="capped",policy="out-cap"} 2')
      expect(metrics).toContain('agnet_usage_store_up 1')
    })
  })

  it('a client that leaves while the store is still answering leaves no reservation behind', async () => {
    const usage = gw.app.services.usage
    const real = usage.storeFor(gw.app.store.current.usage.store)
    let answer: ((r: CheckResult) => void) | null = null
    let checked: (() => void) | null = null
    const checkedP = new Promise<void>(resolve => { checked = resolve })
    const added: Settlement[] = []
    const slow = {
      kind: 'memory' as const,
      async check (): Promise<CheckResult> { checked?.(); return await new Promise<CheckResult>(resolve => { answer = resolve }) },
      add (_ml: unknown, _w: unknown, settlement: Settlement) { added.push(settlement) },
      async close () {}
    }
    const original = usage.storeFor.bind(usage)
    usage.storeFor = () => slow
    try {
      const id = `usage-late-${++seq}`
      const ac = new AbortController()
      const req = fetch(`${gw.url}/demo/models/capped/v1/chat/completions`, { method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json', 'x-request-id': id }, body: '{"messages":[]}' }).catch(() => null)
      await checkedP
      ac.abort()
      await req
      expect((await settled(id)).outcome).toBe('client-abort')
      expect(added).toEqual([]) // nothing reserved yet
      ;(answer as unknown as (r: CheckResult) => void)({ admitted: true, used: [{ input: 0, output: 0, total: 0 }, { input: 0, output: 0, total: 0 }] })
      // The late admission reserved its estimate and released all of it at once, adding nothing.
      await new Promise(resolve => setImmediate(resolve))
      expect(added).toHaveLength(1)
      const { used, released } = added[0] as Settlement
      expect(used).toEqual({ input: 0, output: 0, total: 0 })
      expect(released.total).toBe(released.input + released.output)
      expect(released.total).toBeGreaterThan(0)
    } finally {
      usage.storeFor = original
    }
    expect(real.kind).toBe('memory')
  })

  it('a reload keeps the in-memory counts (the store is rebuilt only when usage.redis changes)', async () => {
    clock = Date.parse('2026-11-25T11:00:30Z')
    const before = await call('capped', '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 1 })
    const result = await gw.rewrite(CONFIG.replace('workspaces:', 'usage: { timeout: 300ms, failMode: closed }\nworkspaces:'))
    expect(result.ok).toBe(true)
    const after = await call('capped', '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 1 })
    expect(after.res.status).toBe(before.res.status)
    expect(after.res.headers.get('ratelimit')).toBe(before.res.headers.get('ratelimit'))
  })

  const PROMPT = { messages: [{ role: 'user', content: 'one two three' }] }

  async function burst (model: string, at: string, n = 200, body: unknown = PROMPT): Promise<{ admitted: number; refused: number; used: number; stored: number; largest: number }> {
    const results = await Promise.all(Array.from({ length: n }, async () => await call(model, '/v1/chat/completions', body, { 'x-mock-latency-ms': '100' })))
    const admitted = results.filter(r => r.res.status === 200)
    const refused = results.filter(r => r.res.status === 429)
    expect(admitted.length + refused.length).toBe(n)
    const used = admitted.reduce((n, r) => n + (r.done.usage?.total ?? 0), 0)
    const store = gw.app.services.usage.currentStore
    const ml = gw.app.store.current.usage.models.get(`demo/${model}`)
    if (store === null || ml === undefined) throw new Error('no store')
    const checked = await store.check(ml, windowAt(Date.parse(at)), read(clock))
    // The most one request used, as the mock reported it: the crossing request's bound.
    const largest = admitted.reduce((m, r) => Math.max(m, r.done.usage?.total ?? 0), 0)
    return { admitted: admitted.length, refused: refused.length, used, stored: checked.used[0]?.total ?? -1, largest }
  }

  const pct = (over: number): string => `${over >= 0 ? '+' : ''}${(100 * over / 2000).toFixed(1)}%`

  it('200 concurrent requests against a small limit overshoot by about one request, and rejected ones add nothing', async () => {
    clock = Date.parse('2026-11-25T14:00:00Z')
    // One request first: the gateway learns what a request of this model uses.
    const first = (await call('burst', '/v1/chat/completions', PROMPT)).done.usage?.total ?? 0
    expect(first).toBeGreaterThan(0)
    const r = await burst('burst', '2026-11-25T14:00:00Z')
    // The store holds exactly what admitted requests used: refusals added nothing and
    // every reservation was released.
    expect(r.stored).toBe(r.used + first)
    expect(r.refused).toBeGreaterThan(0)
    // Reservations keep the overshoot to the estimate's error: far below the in-flight
    // bound (200 requests) and never a multiple of the limit.
    expect(r.stored).toBeGreaterThanOrEqual(2000)
    expect(r.stored - 2000).toBeLessThanOrEqual(2 * first)
    console.log(`memory store, warm, 200 concurrent, limit 2000: admitted ${r.admitted}, refused ${r.refused}, counted ${r.stored} (overshoot ${r.stored - 2000})`)
  })

  it('warm, 400 concurrent requests: the window fills and only the crossing request runs past it (≤ 1%)', async () => {
    clock = Date.parse('2026-11-25T16:00:00Z') // the model learned in the test before
    const r = await burst('burst', '2026-11-25T16:00:00Z', 400)
    expect(r.stored).toBe(r.used)
    expect(r.refused).toBeGreaterThan(0)
    expect(r.stored).toBeGreaterThanOrEqual(2000)
    expect(r.stored - 2000).toBeLessThan(r.largest)
    expect(r.stored - 2000).toBeLessThanOrEqual(20)
    console.log(`memory store, warm, 400 concurrent, limit 2000: admitted ${r.admitted}, refused ${r.refused}, counted ${r.stored} (overshoot ${r.stored - 2000}, ${pct(r.stored - 2000)})`)
  })

  it('cold, 400 concurrent requests that say their max_tokens: each reserves that bound, so the overshoot stays under one request (≤ 10%)', async () => {
    clock = Date.parse('2026-11-25T15:00:00Z')
    const r = await burst('cold', '2026-11-25T15:00:00Z', 400, { ...PROMPT, max_tokens: 24 })
    expect(r.stored).toBe(r.used)
    expect(r.refused).toBeGreaterThan(0)
    expect(r.stored - 2000).toBeLessThan(r.largest)
    expect(r.stored - 2000).toBeLessThanOrEqual(200)
    console.log(`memory store, cold, 400 concurrent with max_tokens, limit 2000: admitted ${r.admitted}, refused ${r.refused}, counted ${r.stored} (overshoot ${r.stored - 2000}, ${pct(r.stored - 2000)})`)
  })

  it('cold, 400 concurrent requests that do not say: usage.reserveOutput is held for each; those it crowds out wait for the first settlement instead of a 429, and the window fills to the crossing request', async () => {
    clock = Date.parse('2026-11-25T17:00:00Z')
    const stats = gw.app.services.usage.stats
    const waitedBefore = stats.coldWaits
    const r = await burst('unsaid', '2026-11-25T17:00:00Z', 400)
    expect(r.stored).toBe(r.used)
    expect(r.refused).toBeGreaterThan(0)
    // 1024 output tokens held per request against 2000 would admit two: the others waited.
    expect(stats.coldWaits - waitedBefore).toBeGreaterThan(0)
    expect(await (await fetch(`${gw.url}/metrics`)).text()).toContain(`agnet_usage_cold_waits_total ${stats.coldWaits}`)
    expect(r.stored).toBeGreaterThanOrEqual(2000)
    expect(r.stored - 2000).toBeLessThan(r.largest)
    expect(r.stored - 2000).toBeLessThanOrEqual(200)
    console.log(`memory store, cold, 400 concurrent without max_tokens (reserveOutput 1024), limit 2000: admitted ${r.admitted}, refused ${r.refused}, counted ${r.stored} (overshoot ${r.stored - 2000}, ${pct(r.stored - 2000)}), ${stats.coldWaits - waitedBefore} waited for the first settlement`)
  })

  it('a request waiting for a cold model to be learned whose client leaves is never admitted and holds nothing', async () => {
    clock = Date.parse('2026-11-25T18:00:00Z')
    const usage = gw.app.services.usage
    // A asks for up to 3000 tokens, so its bound fills the window; its upstream holds it in flight.
    const { admittedCold, park } = usage.cold
    onTestFinished(() => { usage.cold.admittedCold = admittedCold; usage.cold.park = park })
    const admittedA = new Promise<void>(resolve => {
      const admitted = usage.cold.admittedCold.bind(usage.cold)
      usage.cold.admittedCold = (model: string) => { admitted(model); resolve() }
    })
    const parked = new Promise<void>(resolve => {
      const park = usage.cold.park.bind(usage.cold)
      usage.cold.park = (...args: Parameters<typeof park>) => { const r = park(...args); if (r) resolve(); return r }
    })
    const idA = `usage-held-${++seq}`
    const acA = new AbortController()
    const reqA = fetch(`${gw.url}/demo/models/held/v1/chat/completions`, { method: 'POST', signal: acA.signal, headers: { 'content-type': 'application/json', 'x-request-id': idA, 'x-mock-latency-ms': '60000' }, body: JSON.stringify({ ...PROMPT, max_tokens: 3000 }) }).catch(() => null)
    await admittedA
    // B is refused by A's bound, so it waits; its client leaves while it does.
    const idB = `usage-held-${++seq}`
    const acB = new AbortController()
    const reqB = fetch(`${gw.url}/demo/models/held/v1/chat/completions`, { method: 'POST', signal: acB.signal, headers: { 'content-type': 'application/json', 'x-request-id': idB }, body: JSON.stringify({ ...PROMPT, max_tokens: 5 }) }).catch(() => null)
    await parked
    const admittedBefore = usage.stats.admitted
    acB.abort()
    await reqB
    expect((await settled(idB)).outcome).toBe('client-abort')
    // A ends (its client leaves too): B is asked again on the next turn, sees its client gone
    // and reserves nothing; A's bound is released.
    acA.abort()
    await reqA
    expect((await settled(idA)).outcome).toBe('client-abort')
    await new Promise(resolve => setImmediate(resolve))
    expect(usage.stats.admitted).toBe(admittedBefore)
    const store = usage.currentStore
    const ml = gw.app.store.current.usage.models.get('demo/held')
    if (store === null || ml === undefined) throw new Error('no store')
    const checked = await store.check(ml, windowAt(clock - (clock % 60_000)), read(clock))
    expect(checked.used).toEqual([{ input: 0, output: 0, total: 0 }])
  })
})

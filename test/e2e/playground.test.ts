// The playground in a real browser: Debian's chromium driven by playwright-core loads
// /playground from a gateway on port 0, sends a chat request, watches the answer stream in and
// reads the region, timing and token usage the page shows; a wrong key shows the edge error.
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

const CHROMIUM = process.env.AGNET_CHROMIUM ?? '/usr/bin/chromium'
const KEY = 'pg-test-key-5f2b8c1e9a'

const config = (paced: string): string => `
server:
  trustOriginHeader: true
users:
  - name: alice
    apiKeys:
      - { name: alice-key, value: "${KEY}" }
workspaces:
  - name: acme
    members: [{ user: alice, role: member }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "${paced}", apiKey: "sk-upstream" }
      - { name: ant, provider: anthropic, baseUrl: "mock://", apiKey: "sk-ant-upstream" }
    models:
      - name: gpt
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
      - name: claude
        runtime: { type: anthropic, model: claude-3-5-haiku-latest }
        integrationConnections: [ant]
        deployments: [{ region: us-was-1 }]
`

describe('playground in headless Chromium', () => {
  let paced: MockServer
  let gw: TestGateway
  let browser: Browser
  const origins: Array<string | undefined> = []

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`)
    // Ten tokens a second: the answer takes more than a second, so partial text is visible.
    paced = await startMockServer({ region: 'eu-fra-1', tokensPerSecond: 10 })
    gw = await startGateway(config(paced.url), {
      observe: ctx => { origins.push(ctx.req.headers['x-agnet-origin'] as string | undefined) }
    })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
    })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await gw?.close()
    await paced?.close()
  })

  const open = async (): Promise<Page> => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', err => { problems.push(err.message) })
    page.on('console', msg => { if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) problems.push(msg.text()) })
    const res = await page.goto(`${gw.url}/playground`)
    expect(res?.status()).toBe(200)
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'")
    await page.waitForSelector('body[data-ready=true]')
    expect(problems).toEqual([])
    return page
  }

  it('sends a chat request, streams the answer in and shows region, deployment, timing and usage', async () => {
    const page = await open()
    await page.fill('#workspace', 'acme')
    await page.fill('#model', 'gpt')
    await page.fill('#path', '/v1/chat/completions')
    await page.fill('#credential', KEY)
    // With a credential, the names to pick from come from the control plane (/v0).
    await page.dispatchEvent('#credential', 'change')
    await page.waitForSelector('#models option[value=claude]', { state: 'attached' })
    expect(await page.$$eval('#models option', os => os.map(o => (o as HTMLOptionElement).value).sort())).toEqual(['claude', 'gpt'])
    expect(await page.$$eval('#workspaces option', os => os.map(o => (o as HTMLOptionElement).value))).toEqual(['acme'])
    expect(await page.$$eval('#origins option', os => os.map(o => (o as HTMLOptionElement).value))).toContain('eu-fra-1')
    await page.fill('#origin', 'DE')
    await page.fill('#messages li textarea', 'one two three four')
    await page.click('#send')

    // Part of the answer is on screen while the request is still running: it streams in.
    await page.waitForFunction(() => {
      const answer = document.getElementById('answer')?.textContent ?? ''
      return answer.length > 0 && document.getElementById('result')?.dataset.state === 'sending'
    }, undefined, { timeout: 20_000 })
    await page.waitForSelector('#result[data-state=done]', { timeout: 20_000 })

    expect(await page.textContent('#status')).toBe('200 OK')
    expect(await page.textContent('#region')).toBe('eu-fra-1')
    expect(await page.textContent('#deployment')).toBe('eu-fra-1')
    expect(await page.textContent('#served-origin')).toBe('DE')
    expect(await page.textContent('#attempts')).toBe('1')
    expect(await page.textContent('#request-id')).not.toBe('–')
    const answer = (await page.textContent('#answer')) ?? ''
    expect(answer.trim().split(/\s+/)).toHaveLength(16)
    // The usage chunk at the end of the stream (stream_options.include_usage).
    expect(await page.textContent('#usage')).toBe('input 4 · output 16 · total 20')
    const stages = await page.$$eval('#timing tbody tr', rows => rows.map(r => (r as HTMLElement).dataset.stage))
    expect(stages).toEqual(['auth', 'route', 'upstream', 'first byte (browser)', 'total (browser)'])
    expect(await page.isHidden('#error')).toBe(true)
    expect(origins.at(-1)).toBe('DE')

    // The credential stays in this tab's sessionStorage, never in localStorage.
    const stored = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: Object.values(localStorage) }))
    expect(stored.session).toContain(KEY)
    expect(stored.local.join(' ')).not.toContain(KEY)
    await page.close()
  })

  it('sends raw JSON to another provider API and reads its usage', async () => {
    const page = await open()
    await page.fill('#workspace', 'acme')
    await page.fill('#model', 'claude')
    await page.fill('#path', '/v1/messages')
    await page.fill('#credential', KEY)
    await page.check('input[name=mode][value=json]')
    // The raw editor starts from what the chat editor would send, in the Anthropic shape.
    const generated = JSON.parse(await page.inputValue('#raw')) as { max_tokens?: number; messages?: unknown[] }
    expect(generated.max_tokens).toBe(512)
    expect(generated.messages).toHaveLength(1)
    await page.fill('#raw', JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'a b c' }] }))
    await page.click('#send')
    await page.waitForSelector('#result[data-state=done]', { timeout: 20_000 })
    expect(await page.textContent('#region')).toBe('us-was-1')
    expect(((await page.textContent('#answer')) ?? '').trim().split(/\s+/)).toHaveLength(5)
    expect(await page.textContent('#usage')).toBe('input 3 · output 5 · total 8')
    await page.close()
  })

  it('shows an edge error with its code and message', async () => {
    const page = await open()
    await page.fill('#workspace', 'acme')
    await page.fill('#model', 'no-such-model')
    await page.fill('#credential', KEY)
    await page.click('#send')
    await page.waitForSelector('#result[data-state=failed]')
    expect(await page.textContent('#status')).toBe('404 Not Found')
    expect(await page.textContent('#error-code')).toBe('WORKLOAD_NOT_FOUND')
    expect(await page.textContent('#error-message')).toBe('No such model in this workspace.')
    await page.close()
  })

  it('shows AUTHENTICATION_FAILED for a wrong key', async () => {
    const page = await open()
    await page.fill('#workspace', 'acme')
    await page.fill('#model', 'gpt')
    await page.fill('#credential', 'not-the-right-key')
    await page.click('#send')
    await page.waitForSelector('#result[data-state=failed]', { timeout: 20_000 })
    expect(await page.textContent('#status')).toBe('401 Unauthorized')
    expect(await page.textContent('#error-code')).toBe('AUTHENTICATION_FAILED')
    expect(await page.textContent('#error-message')).not.toContain('not-the-right-key')
    await page.close()
  })

  it('checks workspace and model names with a pattern Chromium accepts', async () => {
    const page = await open()
    // Chromium compiles pattern attributes with the v flag, where an unescaped "-" in a class
    // is a syntax error and the check is silently dropped: an invalid name would then pass.
    const validity = async (id: string, value: string): Promise<{ valid: boolean; patternMismatch: boolean }> => {
      await page.fill(id, value)
      return await page.$eval(id, el => { const v = (el as HTMLInputElement).validity; return { valid: v.valid, patternMismatch: v.patternMismatch } })
    }
    for (const id of ['#workspace', '#model']) {
      expect(await validity(id, 'gpt-4o-mini')).toEqual({ valid: true, patternMismatch: false })
      expect(await validity(id, 'Bad_Name')).toEqual({ valid: false, patternMismatch: true })
      expect(await validity(id, '-leading-hyphen')).toEqual({ valid: false, patternMismatch: true })
      expect(await validity(id, 'with space')).toEqual({ valid: false, patternMismatch: true })
    }
    await page.close()
  })

  it('sends a browser that opens the root to the playground', async () => {
    const page = await browser.newPage()
    const res = await page.goto(`${gw.url}/`)
    expect(res?.status()).toBe(200)
    expect(new URL(page.url()).pathname).toBe('/playground')
    await page.waitForSelector('body[data-ready=true]')
    await page.close()
  })
})

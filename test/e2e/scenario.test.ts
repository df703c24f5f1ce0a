// `agnet loadtest --scenario` as a user runs it: the built CLI against a real gateway and real
// mock upstreams. Faults applied and cleared over HTTP at phase boundaries, the --json shape
// outside checks rely on, exit codes 0/1/2, bad input refused before any load, Ctrl-C clearing
// the faults, and the HTML report drawn in headless Chromium with nothing fetched.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { chromium } from 'playwright-core'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startTunableMock, type TunableMock } from '../helpers/tunable-mock.js'
import { runCli, spawnCli } from '../helpers/cli.js'

const CHROMIUM = process.env.AGNET_CHROMIUM ?? '/usr/bin/chromium'
const KEY = 'agnet_test_scenario_admin_0123456789'
let gw: TestGateway
let fra: TunableMock
let lon: TunableMock
const dir = mkdtempSync(join(tmpdir(), 'agnet-scenario-'))

beforeAll(async () => {
  ;[fra, lon] = await Promise.all([startTunableMock('eu-fra-1'), startTunableMock('eu-lon-1')])
  gw = await startGateway(`
server: { trustOriginHeader: true }
users:
  - name: root
    apiKeys: [{ name: root-key, value: "${KEY}" }]
workspaces:
  - name: w
    members: [{ user: root, role: admin }]
    integrations: [{ name: oai, provider: openai, apiKey: "k" }]
    models:
      - name: m
        runtime: { type: openai, model: m }
        integrationConnections: [oai]
        routing: { strategy: priority, ejectAfter: 1, ejectFor: 200ms }
        deployments:
          - { name: fra, region: eu-fra-1, url: "${fra.url}" }
          - { name: lon, region: eu-lon-1, url: "${lon.url}" }
`)
}, 180_000)

afterAll(async () => {
  await gw.close()
  await Promise.all([fra.kill(), lon.kill()])
})

beforeEach(() => { for (const m of [fra, lon]) m.requests = 0 })

function scenario (name: string, body: string): string {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, body)
  return file
}

// Expectations a loaded machine cannot blur: which deployment serves a request is decided
// when the gateway gets to it, which can be seconds after it was sent when the CPU is
// starved, so shares per phase are asserted where they cannot move (the unit tests cover
// the share and shift arithmetic).
const OUTAGE = `workspace: w
model: m
origins: [DE, US]
rate: 10
seed: 7
phases:
  - name: steady
    duration: 1500ms
  - name: fra-down
    duration: 2s
    faults:
      - { name: fra-out, region: eu-fra-1, effect: down }
  - name: recovered
    duration: 2s
expect:
  steady:    { DE: { errors: "<=0.01", regions: { eu-fra-1: ">0" } } }
  fra-down:  { "*": { errors: "<=0.01", regions: { eu-lon-1: ">0" } } }
  recovered: { "*": { errors: "<=0.01" } }
`

async function faultsNow (): Promise<string[]> {
  const res = await fetch(`${gw.url}/v0/network/faults`, { headers: { authorization: `Bearer ${KEY}` } })
  return ((await res.json()) as { faults: Array<{ name: string }> }).faults.map(f => f.name)
}

interface Json {
  phases: Array<{ name: string; start: number; end: number; origins: Record<string, { requests: number; regions: Record<string, number>; errors: number; rateLimited: number; p50: number; p99: number; series: Array<{ t: number; offered: number }> }> }>
  expectations: Array<{ phase: string; origin: string; what: string; met: boolean }>
  faults: Array<{ name: string; origins: Record<string, { affected: boolean; timeToShiftMs: number | null; timeToRecoverMs: number | null }> }>
  generator: { origins: Record<string, { asked: number; achieved: number }> }
}

describe('a scenario run', () => {
  it('applies the phase faults over HTTP, meets its expectations (exit 0), prints the documented --json and clears its faults', async () => {
    const report = join(dir, 'outage.html')
    const r = await runCli(['loadtest', '--scenario', scenario('outage', OUTAGE), '--url', gw.url, '--api-key', KEY, '--json', '--report', report])
    expect(r.stderr).toMatch(/phase fra-down/)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as Json
    expect(j.phases.map(p => p.name)).toEqual(['steady', 'fra-down', 'recovered'])
    const down = j.phases[1] as Json['phases'][number]
    expect(down.end).toBeGreaterThan(down.start)
    for (const o of ['DE', 'US']) {
      const s = down.origins[o] as NonNullable<typeof down.origins[string]>
      expect(s.requests).toBeGreaterThan(0)
      expect(s.regions['eu-lon-1']).toBeGreaterThan(0)
      expect(s).toHaveProperty('errors', 0)
      expect(s).toHaveProperty('rateLimited', 0)
      expect(typeof s.p50).toBe('number')
      expect(typeof s.p99).toBe('number')
      expect(s.series.length).toBeGreaterThan(0)
    }
    // The fault was injected (marked on responses) and the injected refusals failed over.
    const faulted = j.phases.flatMap(p => p.origins.DE?.series ?? []).reduce((a, x) => a + (x as unknown as { faulted: number }).faulted, 0)
    expect(faulted).toBeGreaterThan(0)
    expect(j.expectations.length).toBe(8)
    expect(j.expectations.every(e => e.met)).toBe(true)
    expect(j.expectations).toContainEqual(expect.objectContaining({ phase: 'steady', origin: 'DE', what: 'errors <=0.01', met: true }))
    expect(j.faults[0]?.origins.DE?.affected).toBe(true)
    expect(j.generator.origins.DE?.asked).toBe(10)
    expect(await faultsNow()).toEqual([])
    expect(existsSync(report)).toBe(true)
  }, 300_000)

  it('draws the report in headless Chromium: charts, phases labelled, no console error, nothing fetched', async () => {
    const report = join(dir, 'outage.html')
    if (!existsSync(report)) {
      const r = await runCli(['loadtest', '--scenario', scenario('outage', OUTAGE), '--url', gw.url, '--api-key', KEY, '--report', report])
      expect(r.code).toBe(0)
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
      const problems: string[] = []
      const fetched: string[] = []
      page.on('pageerror', err => { problems.push(err.message) })
      page.on('console', msg => { if (msg.type() === 'error') problems.push(msg.text()) })
      page.on('request', req => { if (!req.url().startsWith('file:')) fetched.push(req.url()) })
      await page.goto(pathToFileURL(report).href)
      await page.waitForSelector('body[data-drawn=true]')
      expect(problems).toEqual([])
      expect(fetched).toEqual([])
      expect(await page.locator('.phase-label').evaluateAll(els => els.map(e => (e.firstChild?.textContent ?? '').trim()))).toEqual(['steady', 'fra-down', 'recovered'])
      // Three charts per origin, each a uPlot canvas that was drawn on.
      expect(await page.locator('.uplot canvas').count()).toBe(6)
      const inked = await page.locator('.uplot canvas').evaluateAll(els => els.map(c => {
        const cv = c as HTMLCanvasElement
        const data = cv.getContext('2d')?.getImageData(0, 0, cv.width, cv.height).data ?? new Uint8ClampedArray()
        let n = 0
        for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) n++
        return n
      }))
      expect(inked.every(n => n > 1000)).toBe(true)
      expect(await page.locator('li.met').count()).toBe(8)
      await page.screenshot({ path: join(dir, 'outage.png') })
      expect(await page.locator('pre').textContent()).toContain('name: fra-down')
      expect(await page.locator('.verdict').textContent()).toMatch(/PASS/)
    } finally {
      await browser.close()
    }
  }, 300_000)

  it('fails (exit 1) when an expectation is not met, and says which', async () => {
    const r = await runCli(['loadtest', '--scenario', scenario('miss', OUTAGE.replace('eu-fra-1: ">0"', 'us-pdx-1: ">=0.9"').replace('origins: [DE, US]', 'origins: [DE, US]\n# model m has no us-pdx-1 deployment: checked against the gateway')), '--url', gw.url, '--api-key', KEY])
    expect(r.code).toBe(2)
    const miss = await runCli(['loadtest', '--scenario', scenario('miss', OUTAGE.replace('errors: "<=0.01", regions: { eu-fra-1: ">0" }', 'errors: "<=0.01", rateLimited: ">=0.5"')), '--url', gw.url, '--api-key', KEY])
    expect(miss.code).toBe(1)
    expect(miss.stdout).toMatch(/✗ steady DE: rateLimited >=0\.5 \(got 0\.0%\)/)
    expect(miss.stdout).toMatch(/FAIL: 1 expectation\(s\) not met/)
  }, 300_000)

  it('never passes when every request failed, even without expectations', async () => {
    const r = await runCli(['loadtest', '--scenario', scenario('all-fail', `workspace: w
model: m
origins: [DE]
rate: 20
phases:
  - name: broken
    duration: 1s
    faults:
      - { name: everything, workspace: w, effect: errors }
`), '--url', gw.url, '--api-key', KEY])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL: every request failed: .*\d+ × 500/)
    expect(await faultsNow()).toEqual([])
  }, 300_000)

  it('refuses a wrong key before any load (exit 2)', async () => {
    const r = await runCli(['loadtest', '--scenario', scenario('outage', OUTAGE), '--url', gw.url, '--api-key', 'agnet_wrong_key_0123456789abcdef'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/refused the credential \(401/)
    expect(fra.requests + lon.requests).toBe(0)
  }, 180_000)

  it('refuses a dead gateway (exit 2)', async () => {
    const r = await runCli(['loadtest', '--scenario', scenario('outage', OUTAGE), '--url', 'http://127.0.0.1:9', '--api-key', KEY])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/cannot be reached/)
  }, 180_000)

  it.each([
    ['an unknown region', OUTAGE.replace('region: eu-fra-1', 'region: eu-par-1'), /bad\.yaml:12: phases\.fra-down\.faults\.fra-out\.region: unknown region "eu-par-1"; valid regions of w\/m: eu-fra-1, eu-lon-1/],
    ['an unknown effect', OUTAGE.replace('effect: down', 'effect: meltdown'), /bad\.yaml:12:\d+: phases\[1\]\.faults\[0\]\.effect: unknown effect "meltdown"; valid effects: down, reset/],
    ['an unknown phase', OUTAGE.replace('  fra-down:  {', '  fra-dwn:  {'), /bad\.yaml:17:3: expect\.fra-dwn: unknown phase "fra-dwn"; valid phases: steady, fra-down, recovered/],
    ['an unknown deployment', OUTAGE.replace('region: eu-fra-1, effect', 'deployment: frankfurt, effect'), /bad\.yaml:12: .*deployment: unknown deployment "frankfurt"; valid deployments of w\/m: fra, lon/]
  ])('refuses %s with exit 2, the file, line, field and valid values, before any load', async (_what, text, message) => {
    const r = await runCli(['loadtest', '--scenario', scenario('bad', text), '--url', gw.url, '--api-key', KEY])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(fra.requests + lon.requests).toBe(0)
    expect(await faultsNow()).toEqual([])
  }, 180_000)

  it('Ctrl-C stops the run and clears the faults it set (exit 2)', async () => {
    const run = spawnCli(['loadtest', '--scenario', scenario('long', `workspace: w
model: m
origins: [DE]
rate: 10
phases:
  - name: down
    duration: 60s
    faults:
      - { name: long-out, region: eu-fra-1, effect: down }
`), '--url', gw.url, '--api-key', KEY])
    await run.waitFor(/phase down/, 60_000)
    expect(await faultsNow()).toEqual(['long-out'])
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(2)
    expect(run.stderr()).toMatch(/interrupted/)
    expect(await faultsNow()).toEqual([])
  }, 300_000)
})

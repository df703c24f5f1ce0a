// The README's generated parts must match their sources: the config reference (schema
// descriptions), the error codes (the catalogue), the CLI verbs and the metric names. Fix a
// drift with `npm run build && node scripts/readme.mjs` (and edit the hand-written tables).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Config } from '../../src/config/schema.js'
import { CATALOGUE } from '../../src/core/errors.js'
import { ConfigStore } from '../../src/config/store.js'
import { GatewayMetrics } from '../../src/observability/metrics.js'
// @ts-expect-error: a plain ESM script without type declarations
import { between, renderConfigReference, renderErrorCodes } from '../../scripts/readme.mjs'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const README = readFileSync(`${REPO}README.md`, 'utf8')
const FIX = 'README.md drifted: run `npm run build && node scripts/readme.mjs`'

describe('README', () => {
  it('carries the config reference generated from the schema', () => {
    expect(between(README, 'config-reference'), FIX).toBe(renderConfigReference(Config))
    // Every field of the schema is in it.
    expect(README).toContain('`workspaces[].models[].deployments[].region`')
    expect(README).toContain('`usage.redis`')
  })

  it('carries the error codes of the catalogue', () => {
    expect(between(README, 'error-codes'), FIX).toBe(renderErrorCodes(CATALOGUE))
  })

  it('follows the structure of STYLE.md: pitch, the two commands, curl, flow, reference, errors, CLI, benchmarks, development', () => {
    const headings = [...README.matchAll(/^## (.+)$/gm)].map(m => m[1] as string)
    const order = ['Run it', 'A first request', 'The request flow', 'Configuration reference', 'Error codes', 'CLI', 'Benchmarks', 'Development']
    const positions = order.map(h => headings.indexOf(h))
    expect(positions.every(p => p >= 0), `missing one of ${order.join(', ')} in ${headings.join(', ')}`).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    for (const h of ['Identity', 'Routing', 'Token usage', 'Control plane and SDKs', 'Several replicas with Redis', 'Playground', 'Metrics', 'Running in a container']) expect(headings).toContain(h)
    expect(README.indexOf('npm ci && npm start')).toBeGreaterThan(0)
    expect(README).toContain('npm ci && npm test')
    expect(README).toMatch(/curl -si? http:\/\/localhost:8080\/demo\/models\//)
    expect(existsSync(`${REPO}bench/README.md`)).toBe(true)
    expect(README).toContain('](bench/README.md)')
    expect(README).toContain('<!-- bench:start -->')
  })

  it('lists every CLI command', () => {
    const cli = `${REPO}dist/cli/main.js`
    if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
    // The README's `npx agnet …` runs the bin itself: the build leaves it executable (tsc alone writes it 0644).
    expect(statSync(cli).mode & 0o111, 'dist/cli/main.js is not executable: npx agnet would fail').not.toBe(0)
    const help = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' })
    const commands = help.slice(help.indexOf('Commands:')).split('\n').slice(1).map(l => l.trim().split(/\s+/)[0] as string).filter(c => c !== '' && c !== 'help')
    expect(commands.length).toBeGreaterThan(5)
    const section = README.slice(README.indexOf('## CLI'), README.indexOf('## Benchmarks'))
    for (const c of commands) expect(section, `agnet ${c} is not in the README's CLI table`).toContain(`\`agnet ${c}`)
  })

  it('documents every metric agnet registers', async () => {
    const store = new ConfigStore(`${REPO}config/default.yaml`, { env: { AGNET_DEMO_KEY: 'k', AGNET_DEMO_CLIENT_ID: 'c', AGNET_DEMO_CLIENT_SECRET: 's' } })
    const metrics = new GatewayMetrics(store, { inFlight: () => 0, processMetrics: false })
    const names = metrics.registry.getMetricsAsArray().map(m => (m as unknown as { name: string }).name)
    metrics.close()
    expect(names.length).toBeGreaterThan(8)
    const section = README.slice(README.indexOf('## Metrics'), README.indexOf('## Running in a container'))
    for (const n of names) expect(section, `${n} is not in the README's metrics table`).toContain(`\`${n}\``)
  })
})

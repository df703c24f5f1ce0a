import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, ConfigError, type ConfigProblem } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import { policyHeaderAt } from '../../../src/usage/headers.js'

function compile (yaml: string): ReturnType<typeof compileRuntime> {
  const p = join(mkdtempSync(join(tmpdir(), 'agnet-usage-')), 'agnet.yaml')
  writeFileSync(p, yaml)
  return compileRuntime(loadConfig(p, { env: {} }), { dispatchers: new DispatcherRegistry() })
}
function problemsOf (yaml: string): ConfigProblem[] {
  try { compile(yaml) } catch (err) { if (err instanceof ConfigError) return err.problems; throw err }
  throw new Error('expected a ConfigError')
}

const config = (policies: string, usage = ''): string => `${usage}
workspaces:
  - name: acme
    integrations: [{ name: oai, provider: openai, baseUrl: "http://127.0.0.1:9" }]
    policies:
${policies}
      - { name: eu, type: location, locations: [{ type: continent, name: EU }] }
    models:
      - { name: m, runtime: { type: openai }, integrationConnections: [oai], policies: [a, b, eu] }
      - { name: free, runtime: { type: openai }, integrationConnections: [oai], policies: [eu] }
`

describe('compiling maxToken policies', () => {
  it('every maxToken policy of a model becomes a limit; location policies do not', () => {
    const rt = compile(config(`      - { name: a, type: maxToken, maxTokens: { granularity: minute, total: 100 } }
      - { name: b, type: maxToken, dryRun: true, maxTokens: { granularity: day, step: 2, input: 5, output: 7 } }`))
    const m = rt.usage.models.get('acme/m')
    expect(m?.limits.map(l => [l.policy, l.key, l.step, l.input, l.output, l.total, l.dryRun])).toEqual([
      ['a', 'acme/m/a/1minute', 1, 0, 0, 100, false],
      ['b', 'acme/m/b/2day', 2, 5, 7, 0, true]
    ])
    expect(m?.policyHeader).toBe('"a:total";q=100;w=60;qu="tokens", "b:input";q=5;w=172800;qu="tokens", "b:output";q=7;w=172800;qu="tokens"')
    expect(rt.usage.models.has('acme/free')).toBe(false)
    expect([...rt.usage.limitedModels]).toEqual(['acme/m'])
    expect(rt.usage.store).toMatchObject({ redis: null, failMode: 'open', timeoutMs: 250, keyPrefix: 'agnet:', id: 'memory' })
  })

  it('a month window has no static RateLimit-Policy (its length varies)', () => {
    const rt = compile(config(`      - { name: a, type: maxToken, maxTokens: { granularity: month, total: 100 } }
      - { name: b, type: maxToken, maxTokens: { granularity: hour, total: 1 } }`))
    const ml = rt.usage.models.get('acme/m')
    expect(ml?.policyHeader).toBeNull()
    // Written per request from the window of the moment: February 2026 has 28 days, March 31.
    const header = (iso: string): string => policyHeaderAt(ml as NonNullable<typeof ml>, Date.parse(iso))
    expect(header('2026-02-10T00:00:00Z')).toBe('"a:total";q=100;w=2419200;qu="tokens", "b:total";q=1;w=3600;qu="tokens"')
    expect(header('2026-03-31T23:59:59Z')).toBe('"a:total";q=100;w=2678400;qu="tokens", "b:total";q=1;w=3600;qu="tokens"')
  })

  it('refuses a policy that checks nothing and a Redis URL that is not one, naming the place', () => {
    const problems = problemsOf(config(`      - { name: a, type: maxToken, maxTokens: { granularity: minute } }
      - { name: b, type: maxToken, maxTokens: { granularity: minute, total: 0 } }`, 'usage: { redis: "http://user:secret@host:6379" }'))
    const messages = problems.map(p => p.message)
    expect(messages).toContain('maxToken policy "a" checks nothing: set input, output or total above 0')
    expect(messages).toContain('maxToken policy "b" checks nothing: set input, output or total above 0')
    const redis = messages.find(m => m.includes('redis://'))
    expect(redis).toBe('"http://***@host:6379" is not a redis:// or rediss:// URL')
    expect(problems.every(p => p.line !== null && p.line > 0)).toBe(true)
  })
})

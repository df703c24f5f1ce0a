import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, ConfigError, expandEnv, type ConfigProblem } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'

function dir (): string { return mkdtempSync(join(tmpdir(), 'agnet-cfg-')) }
function file (d: string, name: string, text: string): string {
  const p = join(d, name)
  writeFileSync(p, text)
  return p
}
function problemsOf (fn: () => unknown): ConfigProblem[] {
  try { fn() } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}
function compile (path: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof compileRuntime> {
  return compileRuntime(loadConfig(path, { env }), { dispatchers: new DispatcherRegistry() })
}

const GOOD = `
workspaces:
  - name: acme
    integrations:
      - { name: oai, provider: openai, apiKey: "\${OAI_KEY}" }
    models:
      - name: gpt
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
`

describe('config loading', () => {
  it('compiles a good config into a frozen runtime with one deployment per default region', () => {
    const d = dir()
    const rt = compile(file(d, 'a.yaml', GOOD), { OAI_KEY: 'sk-1' })
    const model = rt.workspaces.get('acme')?.models.get('gpt')
    expect(model?.deployments.map(x => x.region.name)).toEqual(['us-pdx-1', 'us-was-1', 'eu-lon-1', 'eu-fra-1'])
    expect(model?.deployments[0]?.setHeaders).toEqual(['authorization', 'Bearer sk-1'])
    expect(model?.deployments[0]?.origin).toBe('https://api.openai.com')
    expect(Object.isFrozen(rt)).toBe(true)
    expect(Object.isFrozen(model)).toBe(true)
  })

  it('names file, line, field and what was expected, for every problem at once', () => {
    const d = dir()
    const p = file(d, 'bad.yaml', `
workspaces:
  - name: Bad_Name
    models:
      - name: gpt
        runtime: { type: openai }
        colour: blue
      - name: x
        runtime: { type: openai }
        timeouts: { connect: soon }
`)
    const problems = problemsOf(() => loadConfig(p, { env: {} }))
    const byField = Object.fromEntries(problems.map(x => [x.field, x]))
    expect(byField['workspaces[0].name']).toMatchObject({ file: p, line: 3, message: expect.stringContaining('lower-case') })
    expect(byField['workspaces[0].models[0].colour']).toMatchObject({ line: 7, message: expect.stringContaining('unknown field') })
    expect(byField['workspaces[0].models[1].timeouts.connect']).toMatchObject({ line: 10, message: expect.stringContaining('duration') })
    expect(problems.length).toBe(3)
  })

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    const d = dir()
    const p = file(d, 'x.yaml', 'workspaces:\n  - name: a\n    name: b\n')
    const problems = problemsOf(() => loadConfig(p, { env: {} }))
    expect(problems[0]?.line).toBe(3)
    expect(problems[0]?.message).toMatch(/YAML/)
  })

  it('refuses YAML alias bombs', () => {
    const d = dir()
    let y = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n'
    for (let i = 1; i < 12; i++) y += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`
    y += 'workspaces: []\n'
    const problems = problemsOf(() => loadConfig(file(d, 'bomb.yaml', y), { env: {} }))
    expect(problems[0]?.message).toMatch(/alias|YAML/i)
  })

  it('resolves ${ENV} and ${ENV:-default}; a missing variable is an error with its place', () => {
    expect(expandEnv('a ${X} ${Y:-dflt} $${Z}', { X: '1' }, () => {})).toBe('a 1 dflt ${Z}')
    const d = dir()
    const p = file(d, 'env.yaml', GOOD)
    const problems = problemsOf(() => loadConfig(p, { env: {} }))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ line: 5, field: 'workspaces[0].integrations[0].apiKey', message: expect.stringContaining('OAI_KEY is not set') })
    expect(problems[0]?.message).not.toContain('sk-')
  })

  it('refuses reserved workspace names, and dangling references at compile, with their place', () => {
    const d = dir()
    const p = file(d, 'r.yaml', `
workspaces:
  - name: first
    models:
      - { name: m, runtime: { type: openai }, policies: [nope], integrationConnections: [ghost] }
  - name: ok
    models:
      - { name: m, runtime: { type: openai }, deployments: [{ region: mars-1 }] }
`)
    const problems = problemsOf(() => compile(p))
    const msgs = problems.map(x => `${x.line}:${x.field}:${x.message}`)
    const reserved = problemsOf(() => loadConfig(file(d, 'v.yaml', 'workspaces:\n  - name: ok\n  - name: v0\n'), { env: {} }))
    expect(reserved[0]).toMatchObject({ line: 3, field: 'workspaces[1].name', message: expect.stringContaining('reserved') })
    expect(msgs.some(m => m.includes('unknown policy "nope"'))).toBe(true)
    expect(msgs.some(m => m.includes('unknown integration connection "ghost"'))).toBe(true)
    expect(msgs.some(m => m.startsWith('8:') && m.includes('unknown region "mars-1"'))).toBe(true)
  })

  it('merges a folder of files and points errors at the right file', () => {
    const d = dir()
    file(d, '10-acme.yaml', GOOD.replace('${OAI_KEY}', 'k'))
    const other = file(d, '20-other.yaml', 'workspaces:\n  - name: other\n    models:\n      - { name: m, runtime: { type: openai }, oops: 1 }\n')
    const problems = problemsOf(() => loadConfig(d, { env: {} }))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ file: other, line: 4 })
    writeFileSync(other, 'workspaces:\n  - name: other\n    models:\n      - { name: m, runtime: { type: openai } }\n')
    const rt = compile(d)
    expect([...rt.workspaces.keys()]).toEqual(['acme', 'other'])
  })

  it('a list written as something else is a problem with its place, not a crash', () => {
    const d = dir()
    const scalar = file(d, 'a.yaml', 'workspaces: 5\n')
    expect(problemsOf(() => loadConfig(scalar, { env: {} }))).toMatchObject([{ file: scalar, line: 1, field: 'workspaces', message: 'expected: must be array' }])
    const twice = file(d, 'b.yaml', 'workspaces: []\nusers: 3\n---\nusers: [{ name: ann }]\n')
    expect(problemsOf(() => loadConfig(twice, { env: {} })).map(p => [p.line, p.field, p.message])).toEqual([
      [4, 'users', '"users" is defined in more than one file; define it once'],
      [2, 'users', 'expected: must be array']
    ])
  })

  it('loads Blaxel manifests (bl apply format) into a named workspace unchanged', () => {
    const d = dir()
    mkdirSync(join(d, 'blaxel'))
    file(join(d, 'blaxel'), 'model.yaml', `apiVersion: blaxel.ai/v1alpha1
kind: Model
metadata:
  name: my-gpt
  displayName: My GPT
spec:
  enabled: true
  runtime:
    type: openai
    model: gpt-4.1
  integrationConnections: [my-openai]
  policies: [eu-only]
---
apiVersion: blaxel.ai/v1alpha1
kind: Policy
metadata:
  name: eu-only
spec:
  type: location
  locations:
    - { type: continent, name: eu }
---
apiVersion: blaxel.ai/v1alpha1
kind: IntegrationConnection
metadata:
  name: my-openai
spec:
  integration: openai
  secret:
    apiKey: \${MY_KEY}
`)
    const p = file(d, 'agnet.yaml', 'workspaces:\n  - name: team\n    manifests: [blaxel]\n')
    const rt = compile(p, { MY_KEY: 'sk-m' })
    const ws = rt.workspaces.get('team')
    expect(ws?.models.get('my-gpt')?.runtimeModel).toBe('gpt-4.1')
    expect(ws?.models.get('my-gpt')?.policies.map(x => x.name)).toEqual(['eu-only'])
    expect(ws?.models.get('my-gpt')?.deployments[0]?.setHeaders).toEqual(['authorization', 'Bearer sk-m'])
  })

  it('loads a config folder whose workspace names a manifests subfolder: those files are manifests, read once', () => {
    const d = dir()
    mkdirSync(join(d, 'manifests'))
    file(join(d, 'manifests'), 'model.yaml', 'apiVersion: blaxel.ai/v1alpha1\nkind: Model\nmetadata:\n  name: my-gpt\nspec:\n  runtime: { type: openai, model: gpt-4.1 }\n  integrationConnections: [my-openai]\n')
    file(join(d, 'manifests'), 'connection.yaml', 'apiVersion: blaxel.ai/v1alpha1\nkind: IntegrationConnection\nmetadata:\n  name: my-openai\nspec:\n  integration: openai\n  secret:\n    apiKey: ${MY_KEY}\n')
    // A manifest in the folder itself, named file by file, is claimed the same way.
    file(d, 'policy.yaml', 'apiVersion: blaxel.ai/v1alpha1\nkind: Policy\nmetadata:\n  name: eu-only\nspec:\n  type: location\n  locations:\n    - { type: continent, name: eu }\n')
    file(d, 'agnet.yaml', 'workspaces:\n  - name: team\n    manifests: [manifests, policy.yaml]\n')
    const loaded = loadConfig(d, { env: { MY_KEY: 'sk-m' } })
    expect(loaded.files.map(f => f.slice(d.length + 1)).sort()).toEqual(['agnet.yaml', 'manifests/connection.yaml', 'manifests/model.yaml', 'policy.yaml'])
    const rt = compile(d, { MY_KEY: 'sk-m' })
    const ws = rt.workspaces.get('team')
    expect(ws?.models.get('my-gpt')?.runtimeModel).toBe('gpt-4.1')
    expect(ws?.models.get('my-gpt')?.deployments[0]?.setHeaders).toEqual(['authorization', 'Bearer sk-m'])
    expect(loaded.input.workspaces[0]?.policies?.map(x => x.name)).toEqual(['eu-only'])
    // The same layout loads the same from the file as from the folder.
    expect(loadConfig(join(d, 'agnet.yaml'), { env: { MY_KEY: 'sk-m' } }).input).toEqual(loaded.input)
  })

  it('reports a broken manifest in a named subfolder once, at its line', () => {
    const d = dir()
    mkdirSync(join(d, 'manifests'))
    const m = file(join(d, 'manifests'), 'model.yaml', 'apiVersion: blaxel.ai/v1alpha1\nkind: Model\nmetadata:\n  name: [unclosed\n')
    file(d, 'agnet.yaml', 'workspaces:\n  - name: team\n    manifests: [manifests]\n')
    const problems = problemsOf(() => loadConfig(d, { env: {} }))
    expect(problems.filter(p => p.file === m).length).toBeGreaterThan(0)
    expect(problems.filter(p => p.file === m).length).toBe(new Set(problems.filter(p => p.file === m).map(p => `${p.line}:${p.column}:${p.message}`)).size)
    expect(problems.some(p => /needs a workspace/.test(p.message))).toBe(false)
  })

  it('a manifest in a folder that no workspace names still needs metadata.workspace', () => {
    const d = dir()
    mkdirSync(join(d, 'stray'))
    file(join(d, 'stray'), 'model.yaml', 'apiVersion: blaxel.ai/v1alpha1\nkind: Model\nmetadata:\n  name: m\nspec:\n  runtime: { type: openai, model: x }\n')
    file(d, 'agnet.yaml', GOOD)
    const problems = problemsOf(() => loadConfig(d, { env: { OAI_KEY: 'k' } }))
    expect(problems.map(p => p.message)).toEqual([expect.stringMatching(/needs a workspace/)])
  })

  it('points a manifest error at the manifest line', () => {
    const d = dir()
    const m = file(d, 'm.yaml', 'apiVersion: blaxel.ai/v1alpha1\nkind: Model\nmetadata:\n  name: Not_Valid\nspec:\n  runtime: { type: openai }\n')
    const p = file(d, 'agnet.yaml', 'workspaces:\n  - name: team\n    manifests: [m.yaml]\n')
    // The folder holds both; load the agnet file, which names the manifest.
    const problems = problemsOf(() => loadConfig(p, { env: {} }))
    expect(problems[0]).toMatchObject({ file: m, line: 4 })
  })

  it('an unknown manifest kind is an error', () => {
    const d = dir()
    const p = file(d, 'a.yaml', 'apiVersion: blaxel.ai/v1alpha1\nkind: Agent\nmetadata: { name: x, workspace: w }\n')
    const problems = problemsOf(() => loadConfig(p, { env: {} }))
    expect(problems[0]?.message).toMatch(/unsupported kind "Agent"/)
  })
})

describe('empty files', () => {
  it('refuses an empty file, a file of blanks and a file of comments only, naming the file', () => {
    for (const text of ['', '\n\n  \n', '# only a comment\n# and another\n', '---\n...\n']) {
      const d = dir()
      const p = file(d, 'agnet.yaml', text)
      const problems = problemsOf(() => loadConfig(p, { env: {} }))
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatchObject({ file: p, kind: 'empty-file' })
      expect(problems[0]?.message).toMatch(/empty/)
    }
  })

  it('refuses an empty file in a config folder beside a good one', () => {
    const d = dir()
    file(d, 'a.yaml', GOOD)
    const empty = file(d, 'b.yaml', '')
    const problems = problemsOf(() => loadConfig(d, { env: { OAI_KEY: 'k' } }))
    expect(problems.map(p => [p.file, p.kind])).toEqual([[empty, 'empty-file']])
  })
})

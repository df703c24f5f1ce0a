// runtime.type and runtime.generation accept Blaxel's values only, in agnet's own config and
// in Blaxel manifests alike; anything else is refused with the list of valid values.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, ConfigError, type ConfigProblem } from '../../../src/config/load.js'
import { RUNTIME_GENERATIONS, RUNTIME_TYPES } from '../../../src/config/schema.js'

function problemsOf (text: string, manifest?: string): ConfigProblem[] {
  const d = mkdtempSync(join(tmpdir(), 'agnet-enum-'))
  const p = join(d, 'agnet.yaml')
  writeFileSync(p, text)
  if (manifest !== undefined) writeFileSync(join(d, 'model.yaml'), manifest)
  try {
    loadConfig(p, { env: {} })
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

function config (runtime: string): string {
  return `workspaces:\n  - name: w\n    models:\n      - { name: m, runtime: ${runtime} }\n`
}

function manifest (runtime: string): string {
  return `apiVersion: blaxel.ai/v1alpha1\nkind: Model\nmetadata:\n  name: m\nspec:\n  runtime: ${runtime}\n`
}

describe('Blaxel enums in runtime', () => {
  it('lists exactly the provider types and generations Blaxel documents', () => {
    expect([...RUNTIME_TYPES].sort()).toEqual([
      'anthropic', 'azure-ai-inference', 'azure-marketplace', 'azure-openai-service', 'cerebras', 'cohere', 'deepseek',
      'gemini', 'groq', 'hf_private_endpoint', 'hf_public_endpoint', 'huggingface', 'mcp', 'mistral', 'openai',
      'public_model', 'vertexai', 'xai'
    ])
    expect(RUNTIME_GENERATIONS).toEqual(['mk2', 'mk3'])
  })

  const accepted = [
    ...RUNTIME_TYPES.map(t => `{ type: ${t} }`),
    '{ type: openai, generation: mk2 }',
    '{ type: anthropic, generation: mk3 }'
  ]
  it.each(accepted)('accepts runtime %s', runtime => {
    expect(problemsOf(config(runtime))).toEqual([])
  })

  const refused: Array<[string, string, RegExp]> = [
    ['{ type: openai-compatible }', 'runtime.type', /expected one of "hf_private_endpoint", .*"openai", .*"groq"/],
    ['{ type: OpenAI }', 'runtime.type', /expected one of .*"openai"/],
    ['{ type: mock }', 'runtime.type', /expected one of/],
    ['{ type: openai, generation: mk4 }', 'runtime.generation', /expected one of "mk2", "mk3"/],
    ['{ type: openai, generation: MK3 }', 'runtime.generation', /expected one of "mk2", "mk3"/],
    ['{ type: openai, generation: "" }', 'runtime.generation', /expected one of "mk2", "mk3"/]
  ]
  it.each(refused)('refuses runtime %s in a config, naming the valid values', (runtime, field, message) => {
    const problems = problemsOf(config(runtime))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ field: `workspaces[0].models[0].${field}`, line: 4 })
    expect(problems[0]?.message).toMatch(message)
  })

  it.each(refused)('refuses runtime %s in a Blaxel manifest, at the manifest\'s line', (runtime, field, message) => {
    const problems = problemsOf('workspaces:\n  - name: w\n    manifests: [model.yaml]\n', manifest(runtime))
    expect(problems).toHaveLength(1)
    expect(problems[0]?.file).toMatch(/model\.yaml$/)
    expect(problems[0]?.field).toBe(`workspaces[0].models[0].${field}`)
    expect(problems[0]?.message).toMatch(message)
  })
})
